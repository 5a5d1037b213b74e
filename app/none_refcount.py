"""Work around PySide6 builds that drop a reference to ``None`` on every call returning nothing.

PySide6 6.12 on CPython 3.11 releases ``None`` once per void method call (``QWidget.update()``,
``QCoreApplication.processEvents()``, ...), as if ``None`` were immortal, which it only is from CPython 3.12 on
(PEP 683). After some 10^5 calls ``None``'s count reaches zero and the interpreter aborts with
"none_dealloc: deallocating None". On CPython before 3.12 we raise ``None``'s count by 2^40 once, which makes it
immortal for any practical session length; later versions need and get nothing. Applied where a GUI process
starts (:func:`app.gui.create_application`, the self-test's window check), never on import.
"""
from __future__ import annotations

import ctypes
import sys

RESERVE = 1 << 40


def make_none_immortal() -> bool:
    """Give ``None`` a reference reserve on CPython < 3.12; True when it was applied (or already was)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    count = ctypes.c_ssize_t.from_address(id(None))
    if count.value >= RESERVE:
        return True
    if abs(count.value - sys.getrefcount(None)) > 2:  # not the layout we expect (e.g. a trace-refs build)
        return False
    count.value += RESERVE
    return True
