"""pytest-qt set-up for the app tests: offscreen Qt, no backbone weights (the engine's filter-bank stand-in), tiny
runs, message boxes recorded instead of shown, and no thread left behind. The home, QSettings and the standard
folders of every test are private (tests/conftest.py)."""
from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt is imported

import gc
import warnings
from pathlib import Path

import pytest
import torch
from PIL import Image
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QMessageBox

from app.main_window import MainWindow
from app.none_refcount import make_none_immortal
from gdc_core import Segmenter, SegmenterConfig
from qt_helpers import make_image, shown_window

# the machines running these tests are shared: torch's default thread pool then oversubscribes the cores and a
# tiny run takes seconds instead of tens of milliseconds
torch.set_num_threads(1)
make_none_immortal()  # the test session is a GUI process: PySide6's void calls must not exhaust None's count


@pytest.fixture(autouse=True)
def no_thread_left(qapp):
    """Fails a test that leaves a QThread running (checked after its widgets were closed)."""
    yield
    QApplication.processEvents()
    running = []
    with warnings.catch_warnings():  # isinstance() on some deprecated torch objects warns
        warnings.simplefilter("ignore")
        threads = [thing for thing in gc.get_objects() if isinstance(thing, QThread)]
    for thread in threads:
        try:
            if thread.isRunning():
                running.append(thread.objectName())
        except RuntimeError:  # its C++ side is already gone
            pass
    assert not running, f"threads still running after the test: {running}"


class MessageBoxes:
    """Stands in for the static QMessageBox functions: records (kind, title, text); questions get ``answer``."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str, str]] = []
        self.answer = QMessageBox.StandardButton.Discard

    def texts(self) -> str:
        return "\n".join(f"{kind}: {title}: {text}" for kind, title, text in self.shown)


@pytest.fixture(autouse=True)
def message_boxes(monkeypatch) -> MessageBoxes:
    boxes = MessageBoxes()

    def recorder(kind):
        def show(parent, title, text, *args, **kwargs):
            boxes.shown.append((kind, title, text))
            return boxes.answer if kind == "question" else QMessageBox.StandardButton.Ok
        return staticmethod(show)

    for kind in ("warning", "critical", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind, recorder(kind))
    return boxes


@pytest.fixture(scope="session")
def segmenter() -> Segmenter:
    """One engine for the whole test session (untrained filter-bank stem, CPU)."""
    return Segmenter(SegmenterConfig(device="cpu"), allow_download=False)


@pytest.fixture
def image_path(tmp_path) -> Path:
    path = tmp_path / "images" / "photo.png"
    path.parent.mkdir()
    Image.fromarray(make_image()).save(path)
    return path


@pytest.fixture
def window(qtbot, segmenter, image_path) -> MainWindow:
    """The main window on a 64 x 48 image, shown and active, with tiny runs."""
    main = shown_window(qtbot, segmenter)
    assert main.open_image(image_path)
    return main
