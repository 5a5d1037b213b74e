"""PySide6 6.12 on CPython 3.11 drops a reference to None per void call and to True/False per emission of a
Python-declared Signal(bool): a GUI process makes them immortal first, or aborts after some 10^4 calls."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CALLS = """
import sys
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget
from app.singleton_refcounts import make_singletons_immortal
if sys.argv[1] == "fixed":
    make_singletons_immortal()
app = QApplication.instance() or QApplication([])
class Source(QObject):
    changed = Signal(bool)
source, widget = Source(), QWidget()
source.changed.connect(lambda value: None)
for i in range(100_000):
    source.changed.emit(i % 2 == 0)
    widget.update()
print("alive")
"""


def run(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CALLS, mode], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def test_a_gui_process_survives_many_void_calls_and_bool_signals():
    done = run("fixed")
    assert done.returncode == 0 and "alive" in done.stdout, done.stderr


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None, True and False are immortal from CPython 3.12 on")
def test_without_the_reserve_this_pyside_build_aborts_or_is_fixed_upstream():
    """Documents why the reserve exists: if this PySide6 stops dropping references, the process survives and the
    reserve becomes unnecessary (the test then says so instead of failing silently)."""
    done = run("plain")
    if done.returncode == 0:
        pytest.skip("this PySide6 build keeps its references: the reserve is no longer needed")
    assert "deallocating" in done.stderr
