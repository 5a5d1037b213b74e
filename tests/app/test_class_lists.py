"""Classes as a newcomer meets them: drawn in high-contrast colours while the saved PNGs keep the VOC palette, a
name asked for when a class is added, and a predefined class list from ``--labels FILE`` or Settings."""
from __future__ import annotations

import colorsys
import itertools

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

import app.gui as gui
from app.main_window import MainWindow
from app.classes import ClassList, drawing_colour_table
from app.settings import AppSettings
from app.settings_dialog import SettingsDialog
from gdc_core.io import voc_palette
from qt_helpers import TINY, answer_text_dialog, on_next_dialog, paint_two_classes


def palette_of(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "P"
        return np.asarray(image.getpalette()[:768], dtype=np.uint8).reshape(256, 3)


def saturation_and_value(rgb) -> tuple[float, float]:
    _, saturation, value = colorsys.rgb_to_hsv(*(channel / 255 for channel in rgb))
    return saturation, value


def test_classes_are_drawn_in_strong_distinct_colours():
    """The first nine (keys 1-9) are saturated, bright and far apart; VOC's black and maroon are not."""
    classes = ClassList.default()
    for name in ("a", "b", "c", "d", "e", "f", "g"):
        classes = classes.added(name)
    table = drawing_colour_table(classes)
    for class_id in range(9):
        saturation, value = saturation_and_value(table[class_id])
        assert saturation >= 0.6 and value >= 0.75, (class_id, table[class_id])
    for first, second in itertools.combinations(range(9), 2):
        assert np.abs(table[first].astype(int) - table[second].astype(int)).sum() >= 100, (first, second)
    assert saturation_and_value(voc_palette()[0])[1] < 0.75 and saturation_and_value(voc_palette()[1])[1] < 0.75
    assert len({tuple(colour) for colour in table[:255]}) == 255  # every id its own colour


def test_strokes_show_high_contrast_colours_and_the_saved_pngs_keep_voc(qtbot, window, tmp_path):
    paint_two_classes(qtbot, window)
    shown = window.canvas.scribble_item.lut
    drawing = drawing_colour_table(window.session.document.classes)
    for class_id in (0, 1):
        assert tuple(shown[class_id, :3]) == tuple(drawing[class_id]) != tuple(voc_palette()[class_id])
    assert window.session.save(tmp_path / "work")
    saved = palette_of(tmp_path / "work" / "photo_scribbles.png")
    assert np.array_equal(saved[:2], voc_palette()[:2])
    window.session.document.recolour_class(1, (0, 200, 100))  # a colour the user picks is drawn and saved as it is
    assert tuple(window.canvas.scribble_item.lut[1, :3]) == (0, 200, 100)


def test_adding_a_class_asks_for_its_name(qtbot, window):
    panel = window.palette_panel
    errors = answer_text_dialog(qtbot, "tree")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: errors or len(window.session.document.classes) == 3, timeout=5000)
    assert not errors, errors
    assert [c.name for c in window.session.document.classes] == ["background", "object", "tree"]
    assert window.session.document.current_class == 2
    errors = answer_text_dialog(qtbot, None)  # Esc: no class added
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert not errors and len(window.session.document.classes) == 3


@pytest.fixture
def started(monkeypatch, segmenter):
    seen = {}

    def fake_exec(self):
        QApplication.processEvents()
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["classes"] = [(c.id, c.name) for c in windows[-1].session.document.classes]
        windows[-1].close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    monkeypatch.setattr(gui, "create_segmenter", lambda config, weights: segmenter)
    return seen


def test_labels_file_as_labelme_writes_it_predefines_the_classes(started, image_path, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("__ignore__\n_background_\ncat\n\ndog\n")
    assert gui.run_gui(["--labels", str(labels), str(image_path)]) == 0
    assert started["classes"] == [(0, "background"), (1, "cat"), (2, "dog")]


def test_an_unusable_labels_file_is_one_line_and_exit_2(started, image_path, tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ncat\n")
    assert gui.run_gui(["--labels", str(labels), str(image_path)]) == 2
    assert capsys.readouterr().err.strip() == f"gdc-seg: --labels {labels}: a class name appears twice: cat"
    assert gui.run_gui(["--labels", str(tmp_path / "missing.txt"), str(image_path)]) == 2
    assert "cannot read the labels file" in capsys.readouterr().err


def test_class_list_typed_in_settings_is_used_now_and_at_the_next_start(qtbot, window, segmenter):
    def fill_in(dialog):
        dialog.class_list.setFocus()
        qtbot.keyClicks(dialog.class_list, "sky")
        qtbot.keyClick(dialog.class_list, Qt.Key.Key_Return)
        qtbot.keyClicks(dialog.class_list, "road")
        qtbot.keyClick(dialog.class_list, Qt.Key.Key_Return)
        qtbot.keyClicks(dialog.class_list, "car")
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    errors = on_next_dialog(SettingsDialog, fill_in)
    window.actions.settings.trigger()
    assert not errors, errors
    assert AppSettings().class_names == ["sky", "road", "car"]
    assert [c.name for c in window.session.document.classes] == ["sky", "road", "car"]  # no strokes yet: at once
    later = MainWindow(segmenter, TINY)
    qtbot.addWidget(later)
    assert [(c.id, c.name) for c in later.session.start_classes] == [(0, "sky"), (1, "road"), (2, "car")]


def test_settings_refuses_a_class_list_with_one_class(qtbot):
    dialog = SettingsDialog(TINY, class_names=[])
    qtbot.addWidget(dialog)
    dialog.class_list.setPlainText("only")
    dialog.accept()
    assert dialog.result() == 0 and "at least 2" in dialog.error.text()
