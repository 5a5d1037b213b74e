"""Work around PySide6 builds that drop references to ``None``, ``True`` and ``False``.

PySide6 6.12 on CPython 3.11 releases ``None`` once per void method call (``QWidget.update()``,
``QCoreApplication.processEvents()``, ...) and ``True`` or ``False`` once per emission of a Python-declared
``Signal(bool)``, as if these objects were immortal, which they only are from CPython 3.12 on (PEP 683). After
some 10^4-10^5 calls a count reaches zero and the interpreter aborts ("none_dealloc: deallocating None",
"bool_dealloc: deallocating True or False"). On CPython before 3.12 we raise each count by 2^40 once, which makes
them immortal for any practical session length; later versions need and get nothing. Applied where a GUI process
starts (:func:`app.gui.create_application`, the self-test's window check), never on import.
"""
from __future__ import annotations

import ctypes
import sys

RESERVE = 1 << 40
SINGLETONS = (None, True, False)


def make_singletons_immortal() -> bool:
    """Give ``None``, ``True`` and ``False`` a reference reserve on CPython < 3.12; True when it was applied (or
    already was)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    counts = [ctypes.c_ssize_t.from_address(id(singleton)) for singleton in SINGLETONS]
    if all(count.value >= RESERVE for count in counts):
        return True
    if any(abs(count.value - sys.getrefcount(singleton)) > 2 for count, singleton in zip(counts, SINGLETONS)):
        return False  # not the layout we expect (e.g. a trace-refs build)
    for count in counts:
        if count.value < RESERVE:
            count.value += RESERVE
    return True
