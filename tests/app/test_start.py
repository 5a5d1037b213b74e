"""Starting the GUI as a newcomer does: the backbone weights given by option, by Settings or not at all (then one
explanation of what to do), and an offer to reopen the last folder when started without an argument."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

import app.gui as gui
from app.main_window import MainWindow
from app.settings import AppSettings
from app.settings_dialog import SettingsDialog
from qt_helpers import TINY, on_next_dialog


@pytest.fixture
def started(monkeypatch, segmenter):
    """run_gui without blocking: records the weights the engine was built with and the window, then closes it."""
    seen = {"weights": []}

    def create_segmenter(config, weights):
        seen["weights"].append(weights)
        return segmenter

    def fake_exec(self):
        QApplication.processEvents()
        QApplication.processEvents()
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["window"] = windows[-1]
        seen["folder"] = windows[-1].session.folder_session.folder if windows[-1].session.folder_session else None
        windows[-1].close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    monkeypatch.setattr(gui, "create_segmenter", create_segmenter)
    return seen


def test_backbone_weights_option_opens_the_gui_with_that_file(started, image_path, tmp_path):
    weights = tmp_path / "stem.pth"
    assert gui.run_gui(["--backbone-weights", str(weights), str(image_path)]) == 0
    assert started["weights"] == [str(weights)]
    assert started["window"].session.document.path == image_path


def test_the_option_and_the_variable_win_over_the_file_kept_in_settings(started, image_path, monkeypatch):
    AppSettings().backbone_weights = "/kept/in/settings.pth"
    assert gui.run_gui([str(image_path)]) == 0
    monkeypatch.setenv("GDC_SEG_BACKBONE_WEIGHTS", "/from/the/variable.pth")
    assert gui.run_gui([str(image_path)]) == 0
    assert gui.run_gui(["--backbone-weights", "/given.pth", str(image_path)]) == 0
    assert started["weights"] == ["/kept/in/settings.pth", "/from/the/variable.pth", "/given.pth"]


def test_real_weights_given_by_option_make_the_stem_pretrained(monkeypatch, image_path, stem_weights):
    seen = {}

    def fake_exec(self):
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["stem"] = windows[-1].session.runs.segmenter.stem
        windows[-1].close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert gui.run_gui(["--backbone-weights", str(stem_weights), str(image_path)]) == 0
    assert seen["stem"].pretrained and seen["stem"].warning is None


def test_a_broken_file_kept_in_settings_does_not_stop_the_start(monkeypatch, image_path, tmp_path, message_boxes):
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"not weights")
    AppSettings().backbone_weights = str(broken)
    seen = {}

    def fake_exec(self):
        QApplication.processEvents()
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["stem"] = windows[-1].session.runs.segmenter.stem
        windows[-1].close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert gui.run_gui([str(image_path)]) == 0
    assert not seen["stem"].pretrained
    assert "kept in Settings could not be used" in message_boxes.texts() and "broken.pth" in message_boxes.texts()


def test_first_start_without_weights_says_what_to_do_once(started, image_path, message_boxes):
    assert gui.run_gui([str(image_path)]) == 0
    notices = [text for kind, title, text in message_boxes.shown if title == "Untrained backbone"]
    assert len(notices) == 1
    assert "Settings… &gt; Backbone weights" in notices[0] and "gdc-seg --backbone-weights FILE" in notices[0]
    assert "mobilenet_v2-b0353104.pth" in notices[0]
    assert started["window"].run_status.warning_label.isVisibleTo(started["window"])
    assert gui.run_gui([str(image_path)]) == 0
    assert len([title for kind, title, text in message_boxes.shown if title == "Untrained backbone"]) == 1


def test_settings_field_keeps_the_weights_file_for_the_next_start(qtbot, segmenter, tmp_path, started, image_path):
    window = MainWindow(segmenter, TINY)
    qtbot.addWidget(window)
    weights = tmp_path / "chosen.pth"

    def fill_in(dialog):
        dialog.weights.clear()
        qtbot.keyClicks(dialog.weights, str(weights))
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    errors = on_next_dialog(SettingsDialog, fill_in)
    window.actions.settings.trigger()
    assert not errors, errors
    assert AppSettings().backbone_weights == str(weights)
    assert "next start" in window.statusBar().currentMessage()
    assert gui.run_gui([str(image_path)]) == 0
    assert started["weights"] == [str(weights)]


def test_start_without_argument_offers_the_last_folder(started, image_path, message_boxes):
    AppSettings().last_image_folder = str(image_path.parent)
    message_boxes.answer = QMessageBox.StandardButton.Yes
    assert gui.run_gui([]) == 0
    assert "Reopen last folder" in message_boxes.texts() and str(image_path.parent) in message_boxes.texts()
    assert started["folder"] == image_path.parent


def test_start_with_an_image_does_not_offer_the_last_folder(started, image_path, message_boxes):
    AppSettings().last_image_folder = str(image_path.parent)
    assert gui.run_gui([str(image_path)]) == 0
    assert "Reopen last folder" not in message_boxes.texts() and started["folder"] is None
