"""Starting the app (``run_gui``), resource paths in a checkout and in a frozen build, the Qt-free engine, and
closing the window in the middle of a run."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

import app.gui as gui
from app.main_window import MainWindow
from app.resources import SAMPLE_IMAGE, SAMPLE_SCRIBBLES, resource_path
from gdc_core import NO_LABEL
from qt_helpers import TINY, paint_two_classes, running_qthreads

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def started(monkeypatch, segmenter):
    """Runs run_gui without blocking: the event loop is replaced by a look at the window, which is then closed."""
    seen = {}

    def fake_exec(self):
        QApplication.processEvents()
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["window"] = windows[-1]
        seen["document"] = windows[-1].session.document
        seen["actions"] = {name: getattr(windows[-1].actions, name).isEnabled() for name in ("load_example", "save")}
        windows[-1].close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    monkeypatch.setattr(gui, "create_segmenter", lambda config, weights: segmenter)
    return seen


def test_no_argument_opens_the_bundled_sample_without_its_scribbles(started, qapp):
    assert gui.run_gui([]) == 0
    document = started["document"]
    assert document.path == resource_path(SAMPLE_IMAGE)
    assert document.shape == (300, 451)
    assert not (document.scribbles != NO_LABEL).any()  # the example scribbles are offered, not preloaded
    assert started["actions"]["load_example"]
    assert qapp.organizationName() == "gdc-seg"


def test_an_image_argument_opens_that_image(started, image_path):
    assert gui.run_gui([str(image_path)]) == 0
    assert started["document"].path == image_path and started["document"].shape == (48, 64)
    assert not started["actions"]["load_example"]


def test_help_and_bad_arguments(capsys):
    assert gui.run_gui(["--help"]) == 0
    assert "usage: gdc-seg [-h] [--backbone-weights FILE]" in capsys.readouterr().out
    assert gui.run_gui(["a.png", "b.png"]) == 2


def test_the_example_scribbles_load_on_the_sample(qtbot, segmenter):
    window = MainWindow(segmenter, TINY)
    qtbot.addWidget(window)
    assert window.session.open_image(resource_path(SAMPLE_IMAGE))
    window.actions.load_example.trigger()
    assert set(window.session.document.scribbled_classes()) == {0, 1}


def test_resources_are_found_in_a_checkout_and_in_a_frozen_build(monkeypatch, tmp_path):
    assert resource_path(SAMPLE_IMAGE) == REPOSITORY / "resources" / "sample.png"
    assert resource_path(SAMPLE_SCRIBBLES).is_file()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path(SAMPLE_IMAGE) == tmp_path / "resources" / "sample.png"


def test_the_engine_and_the_headless_launcher_import_no_qt():
    code = ("import sys, gdc_core, gdc_core.io, app.launcher; "
            "qt = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]; "
            "assert not qt, qt")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPOSITORY)


def test_the_work_and_its_files_are_handled_without_widgets():
    """The session, the document, the classes and the file formats import no QtWidgets (the classes no Qt at
    all); only the modules that show something do."""
    code = ("import sys, app.classes; assert not [m for m in sys.modules if m.startswith('PySide6')]; "
            "import app.annotation_session, app.document, app.work_io, app.exporting, app.folder, app.autosave, "
            "app.worker, app.class_lists; assert 'PySide6.QtWidgets' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPOSITORY)


def test_closing_during_a_run_stops_it_and_joins_the_thread(qtbot, window):
    window.session.config = TINY.replace(steps=5000, preview_every=0)
    paint_two_classes(qtbot, window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    job = lambda: window.session.runs.current_job  # noqa: E731
    # the run, not the preparation
    qtbot.waitUntil(lambda: job() is not None and job().scribbles is not None, timeout=5000)
    assert running_qthreads()
    qtbot.wait(100)
    clock = time.monotonic()
    window.close()
    assert time.monotonic() - clock < 10
    assert not running_qthreads() and not window.session.runs.busy


def test_shortcut_help_lists_the_keys(window, message_boxes):
    window.actions.shortcuts.trigger()
    text = message_boxes.texts()
    for keys in ("Ctrl+Z", "Ctrl+Shift+Z, Ctrl+Y", "[", "]", "1 … 9", "Space+drag", "U", "V", "Return"):
        assert keys in text
