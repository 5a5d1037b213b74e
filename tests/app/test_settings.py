"""Settings kept between sessions in a temporary QSettings: engine settings (paper defaults, a way back to them),
the work folder, window layout and the last folder."""
from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QSettings

from app.main_window import MainWindow
from app.settings import AppSettings
from app.settings_dialog import SettingsDialog
from gdc_core import SegmenterConfig
from qt_helpers import TINY, make_image

PAPER = SegmenterConfig()


def test_engine_settings_persist_and_restore_to_paper_defaults(qtbot):
    dialog = SettingsDialog(PAPER)
    qtbot.addWidget(dialog)
    dialog.steps.setValue(20)
    dialog.samples.setValue(10)
    dialog.sigma.setValue(0.3)
    dialog.lr.setValue(0.02)
    dialog.superpixels.setValue(500)
    dialog.context_conv.setCurrentText("normal")
    dialog.class_weighting.setCurrentText("paper")
    dialog.max_side.setValue(512)
    dialog.device.setCurrentText("cpu")
    chosen = dialog.config()
    AppSettings().save_engine_config(chosen)

    restored = AppSettings().engine_config()  # a fresh object reads the stored values back
    assert (restored.steps, restored.samples, restored.sigma, restored.lr, restored.superpixels,
            restored.context_conv, restored.class_weighting, restored.max_side, restored.device) == \
        (20, 10, 0.3, 0.02, 500, "normal", "paper", 512, "cpu")

    dialog.restore.click()
    assert dialog.config() == PAPER
    AppSettings().save_engine_config(dialog.config())
    assert AppSettings().engine_config() == PAPER


def test_garbled_stored_values_fall_back_to_defaults():
    store = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "gdc-seg", "gdc-seg")
    store.setValue("engine/steps", "many")
    store.setValue("engine/sigma", -4)
    store.setValue("engine/samples", 7)
    store.sync()
    config = AppSettings().engine_config()
    assert config.steps == PAPER.steps and config.sigma == PAPER.sigma and config.samples == 7


def test_an_invalid_value_is_refused_by_the_dialog(qtbot):
    dialog = SettingsDialog(PAPER)
    qtbot.addWidget(dialog)
    dialog.context_conv.addItem("dilated:0")
    dialog.context_conv.setCurrentText("dilated:0")
    dialog.accept()
    assert dialog.result() == 0 and "dilated" in dialog.error.text()


def test_the_window_uses_keeps_and_reloads_its_settings(qtbot, segmenter, tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.fromarray(make_image()).save(folder / "one.png")
    window = MainWindow(segmenter, TINY)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.session.apply_settings(TINY.replace(steps=4, sigma=0.1), str(tmp_path / "work"))
    assert window.session.config.steps == 4
    assert window.session.open_folder(folder)
    assert window.session.folder_session.sidecar == (tmp_path / "work" / "shots").resolve()
    window.file_list.unfinished_only.setChecked(True)
    window.resize(700, 500)  # within the offscreen screen
    window.close()

    again = MainWindow(segmenter, TINY)
    qtbot.addWidget(again)
    assert again.session.config.steps == 4 and again.session.config.sigma == 0.1
    assert again.session.config.samples == TINY.samples  # settings never changed keep the given values
    assert again.session.settings.last_image_folder == str(folder.resolve())
    assert again.session.settings.sidecar_folder == str(tmp_path / "work")
    assert again.file_list.unfinished_only.isChecked()
    assert again.actions.reopen_folder.isEnabled()
    again.actions.reopen_folder.trigger()
    assert again.session.folder_session.folder == folder.resolve() and again.session.document.path.name == "one.png"
    assert again.size().width() == 700 and again.size().height() == 500


def test_settings_menu_applies_and_keeps_the_dialog_result(qtbot, segmenter, monkeypatch):
    window = MainWindow(segmenter, TINY)
    qtbot.addWidget(window)

    def exec_(dialog):
        dialog.steps.setValue(7)
        dialog.device.setCurrentText("cpu")
        return 1

    monkeypatch.setattr(SettingsDialog, "exec", exec_)
    window.actions.settings.trigger()
    assert window.session.config.steps == 7 and window.session.config.samples == TINY.samples
    assert AppSettings().engine_config().steps == 7 and AppSettings().engine_config().device == "cpu"
    assert "next start" in window.statusBar().currentMessage()
