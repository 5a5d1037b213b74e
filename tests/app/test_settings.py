"""Settings kept between sessions in a temporary QSettings: engine settings (generated from the config's
declarations, with buttons back to the defaults and to the paper's settings), the work folder, window layout and the
last folder."""
from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QSettings, Qt

from app.main_window import MainWindow
from app.settings import AppSettings, engine_params
from app.settings_dialog import SettingsDialog
from gdc_core import SegmenterConfig
from qt_helpers import TINY, make_image

DEFAULTS = SegmenterConfig()
# a valid value other than the default for every engine setting
CHANGED = DEFAULTS.replace(steps=20, samples=10, lr=0.02, sigma=0.3, context_conv="dilated:6", pixels_per_step=512,
                           settle_after=5, class_weighting="none", superpixels=500, superpixel_resolution="input",
                           max_side=512, refine="grabcut+seeded", device="cpu")


def test_the_dialog_offers_every_engine_setting_and_the_storage_keeps_it(qtbot):
    assert {name for name in engine_params() if getattr(CHANGED, name) == getattr(DEFAULTS, name)} == set()
    dialog = SettingsDialog(DEFAULTS)
    qtbot.addWidget(dialog)
    assert set(dialog.engine) == set(engine_params())
    dialog.show_config(CHANGED)
    chosen = dialog.config()
    assert chosen == CHANGED
    AppSettings().save_engine_config(chosen)
    assert AppSettings().engine_config() == CHANGED  # a fresh object reads the stored values back


def test_typed_settings_persist_and_restore_defaults_brings_the_defaults_back(qtbot):
    dialog = SettingsDialog(DEFAULTS)
    qtbot.addWidget(dialog)
    dialog.show()
    for name, text in (("steps", "20"), ("sigma", "0.3")):
        box = dialog.engine[name]
        box.selectAll()
        qtbot.keyClicks(box, text)
    refine = dialog.engine["refine"]  # editable: any '+'-joined subset of the stages
    refine.lineEdit().selectAll()
    qtbot.keyClicks(refine.lineEdit(), "seeded+grabcut")
    dialog.engine["device"].setCurrentText("cpu")
    AppSettings().save_engine_config(dialog.config())
    assert AppSettings().engine_config() == DEFAULTS.replace(steps=20, sigma=0.3, refine="seeded+grabcut",
                                                             device="cpu")

    qtbot.mouseClick(dialog.restore, Qt.MouseButton.LeftButton)
    assert dialog.config() == DEFAULTS
    AppSettings().save_engine_config(dialog.config())
    assert AppSettings().engine_config() == DEFAULTS


def test_papers_settings_button_shows_the_papers_pipeline(qtbot):
    dialog = SettingsDialog(DEFAULTS)
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.paper, Qt.MouseButton.LeftButton)
    assert (dialog.engine["refine"].currentText(), dialog.engine["class_weighting"].currentText(),
            dialog.engine["pixels_per_step"].value()) == ("none", "paper", 0)
    paper = dialog.config()
    assert paper == SegmenterConfig.paper()
    AppSettings().save_engine_config(paper)
    assert AppSettings().engine_config() == paper
    qtbot.mouseClick(dialog.restore, Qt.MouseButton.LeftButton)
    assert dialog.config() == DEFAULTS


def test_every_departure_from_the_paper_is_shown_in_the_dialog():
    """The paper's-settings button changes nothing the dialog does not show."""
    departures = {name for name, param in SegmenterConfig.__dataclass_fields__.items()
                  if getattr(SegmenterConfig.paper(), name) != getattr(DEFAULTS, name)}
    assert departures and departures <= set(engine_params())


def test_garbled_stored_values_fall_back_to_defaults():
    store = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "gdc-seg", "gdc-seg")
    store.setValue("engine/steps", "many")
    store.setValue("engine/sigma", -4)
    store.setValue("engine/samples", 7)
    store.sync()
    config = AppSettings().engine_config()
    assert config.steps == DEFAULTS.steps and config.sigma == DEFAULTS.sigma and config.samples == 7


def test_an_invalid_value_is_refused_by_the_dialog(qtbot):
    dialog = SettingsDialog(DEFAULTS)
    qtbot.addWidget(dialog)
    dialog.engine["context_conv"].setCurrentText("dilated:0")
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
    window.apply_settings(TINY.replace(steps=4, sigma=0.1), str(tmp_path / "work"))
    assert window.config.steps == 4
    assert window.open_folder(folder)
    assert window.folder_session.sidecar == (tmp_path / "work" / "shots").resolve()
    window.file_list.unfinished_only.setChecked(True)
    window.resize(700, 500)  # within the offscreen screen
    window.close()

    again = MainWindow(segmenter, TINY)
    qtbot.addWidget(again)
    assert again.config.steps == 4 and again.config.sigma == 0.1
    assert again.config.samples == TINY.samples  # settings never changed keep the given values
    assert again.settings.last_image_folder == str(folder.resolve())
    assert again.settings.sidecar_folder == str(tmp_path / "work")
    assert again.file_list.unfinished_only.isChecked()
    assert again.actions.reopen_folder.isEnabled()
    again.actions.reopen_folder.trigger()
    assert again.folder_session.folder == folder.resolve() and again.document.path.name == "one.png"
    assert again.size().width() == 700 and again.size().height() == 500


def test_settings_menu_applies_and_keeps_the_dialog_result(qtbot, segmenter, monkeypatch):
    window = MainWindow(segmenter, TINY)
    qtbot.addWidget(window)

    def exec_(dialog):
        dialog.engine["steps"].setValue(7)
        dialog.engine["device"].setCurrentText("cpu")
        return 1

    monkeypatch.setattr(SettingsDialog, "exec", exec_)
    window.actions.settings.trigger()
    assert window.config.steps == 7 and window.config.samples == TINY.samples
    assert AppSettings().engine_config().steps == 7 and AppSettings().engine_config().device == "cpu"
    assert "next start" in window.statusBar().currentMessage()
