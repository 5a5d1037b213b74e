"""Point 6: saving the mask (indexed PNG with the palette), the overlay, the scribbles and the class list; resuming
a session; and bad files that get a message and lose nothing."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from app.exporting import WorkPaths
from app.main_window import MainWindow
from gdc_core import NO_LABEL
from gdc_core.io import overlay, voc_palette, write_label_map
from qt_helpers import TINY, drag, paint_two_classes


def segment(qtbot, window) -> None:
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not window.session.runs.busy, timeout=60_000)
    assert window.session.document.prediction is not None


def palette_of(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "P"
        return np.asarray(image.getpalette()[:768], dtype=np.uint8).reshape(256, 3)


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image).copy()


def work_of(image_path) -> WorkPaths:
    """Where the work on an image opened on its own is saved: ``<image folder>/gdc-seg``."""
    return WorkPaths.beside(image_path, image_path.parent / "gdc-seg")


def test_ctrl_s_saves_an_indexed_mask_named_after_the_image(qtbot, window, image_path):
    paint_two_classes(qtbot, window)
    segment(qtbot, window)
    predicted = window.session.document.prediction.labels.copy()
    qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    paths = work_of(image_path)
    assert paths.mask.name == "photo_mask.png" and paths.mask.parent == image_path.parent / "gdc-seg"
    assert np.array_equal(pixels(paths.mask), predicted)  # an unaccepted prediction on screen is what is saved
    assert np.array_equal(window.session.document.mask, predicted)
    colours = palette_of(paths.mask)
    assert tuple(colours[0]) == (0, 0, 0) and tuple(colours[1]) == tuple(voc_palette()[1])
    assert np.array_equal(pixels(paths.scribbles), window.session.document.scribbles)
    assert tuple(palette_of(paths.scribbles)[1]) == tuple(voc_palette()[1])
    saved = json.loads(paths.classes.read_text())
    assert saved["classes"] == [{"id": 0, "name": "background", "colour": "#000000"},
                                {"id": 1, "name": "object", "colour": "#800000"}]
    assert not paths.overlay.exists()
    assert not window.isWindowModified()
    assert "photo_mask.png" in window.statusBar().currentMessage()


def test_overlay_and_custom_colours_are_saved(qtbot, window, image_path):
    window.session.document.recolour_class(1, (0, 200, 100))
    window.session.document.rename_class(1, "leaf")
    window.actions.save_overlay.setChecked(True)
    window.opacity_slider.setValue(40)
    paint_two_classes(qtbot, window)
    segment(qtbot, window)
    assert window.session.save()
    paths = work_of(image_path)
    assert tuple(palette_of(paths.mask)[1]) == (0, 200, 100)
    table = voc_palette()
    table[1] = (0, 200, 100)
    expected = overlay(window.session.document.image, window.session.document.mask, table, alpha=0.4)
    assert np.array_equal(pixels(paths.overlay), expected)
    assert json.loads(paths.classes.read_text())["classes"][1] == {"id": 1, "name": "leaf", "colour": "#00c864"}


def test_reopening_the_image_resumes_scribbles_mask_and_classes(qtbot, window, image_path, segmenter):
    window.session.document.add_class("sky")
    qtbot.keyClick(window.canvas, Qt.Key.Key_3)
    drag(qtbot, window.canvas, [(30.5, 2.5), (40.5, 2.5)])
    paint_two_classes(qtbot, window)
    segment(qtbot, window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    window.session.document.recolour_class(2, (1, 2, 3))
    assert window.session.save()
    scribbles, mask = window.session.document.scribbles.copy(), window.session.document.mask.copy()

    other = MainWindow(segmenter, TINY)
    qtbot.addWidget(other)
    assert other.session.start_classes.ids() == (0, 1)
    assert other.session.open_image(image_path)
    document = other.session.document
    assert np.array_equal(document.scribbles, scribbles) and np.array_equal(document.mask, mask)
    assert [(c.id, c.name) for c in other.session.document.classes] == [(0, "background"), (1, "object"), (2, "sky")]
    assert other.session.document.classes.by_id(2).colour == (1, 2, 3)
    assert other.session.document.undo_stack.count() == 0 and not other.isWindowModified()


def test_loading_scribbles_from_a_file_with_its_classes(qtbot, window, tmp_path):
    marks = np.full((48, 64), NO_LABEL, np.uint8)
    marks[5:10, 5:10] = 0
    marks[20:30, 40:50] = 4
    other = WorkPaths(tmp_path, "earlier")
    write_label_map(other.scribbles, marks)
    other.classes.write_text(json.dumps({"format": "gdc-seg classes", "version": 1, "classes": [
        {"id": 0, "name": "background", "colour": "#000000"}, {"id": 4, "name": "car", "colour": "#ff0000"}]}))
    assert window.session.load_scribbles(other.scribbles)
    assert np.array_equal(window.session.document.scribbles, marks)
    assert window.session.document.classes.ids() == (0, 4) and window.session.document.classes.by_id(4).name == "car"
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not (window.session.document.scribbles != NO_LABEL).any() and window.session.document.classes.ids() == (0, 1)


@pytest.mark.parametrize("problem", ["size", "class", "garbage", "classes json"])
def test_bad_scribble_files_get_a_message_and_lose_nothing(qtbot, window, tmp_path, message_boxes, problem):
    drag(qtbot, window.canvas, [(5.5, 5.5), (20.5, 5.5)])
    before = window.session.document.scribbles.copy()
    path = tmp_path / "bad_scribbles.png"
    if problem == "size":
        write_label_map(path, np.zeros((10, 10), np.uint8))
    elif problem == "class":
        write_label_map(path, np.full((48, 64), 7, np.uint8))
    elif problem == "garbage":
        path.write_bytes(b"not a png")
    else:
        write_label_map(path, np.zeros((48, 64), np.uint8))
        (tmp_path / "bad_classes.json").write_text("{ nope")
    assert not window.session.load_scribbles(path)
    expected = {"size": "10x10 pixels but the image is 64x48", "class": "class value(s) 7",
                "garbage": "not a readable", "classes json": "bad_classes.json"}[problem]
    assert expected in message_boxes.texts()
    assert np.array_equal(window.session.document.scribbles, before) and window.session.document.classes.ids() == (0, 1)


def test_a_failed_save_is_shown_and_the_work_stays(qtbot, window, image_path, message_boxes):
    paint_two_classes(qtbot, window)
    segment(qtbot, window)
    work_of(image_path).mask.mkdir(parents=True)  # a folder where the mask file should go: the write fails
    qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert message_boxes.shown and message_boxes.shown[-1][:2] == ("critical", "Save failed")
    assert window.isWindowModified() and window.session.document.mask is not None
    assert not list(image_path.parent.rglob("*.tmp"))  # no temporary file left behind


def test_an_unreadable_image_gets_a_message_and_the_current_one_stays(window, tmp_path, message_boxes):
    document = window.session.document
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 this is not a jpeg")
    assert not window.session.open_image(broken)
    assert not window.session.open_image(tmp_path / "missing.png")
    assert window.session.document is document
    assert [kind for kind, _, _ in message_boxes.shown] == ["warning", "warning"]
    assert "broken.jpg" in message_boxes.texts() and "no such file" in message_boxes.texts()


def test_unusable_saved_work_is_reported_and_the_image_still_opens(qtbot, window, image_path, message_boxes):
    work_of(image_path).folder.mkdir()
    work_of(image_path).scribbles.write_bytes(b"garbage")
    assert window.session.open_image(image_path)
    assert "Saved work not loaded" in message_boxes.texts() and "photo_scribbles.png" in message_boxes.texts()
    assert not (window.session.document.scribbles != NO_LABEL).any()


def test_leaving_unsaved_work_asks_first(qtbot, window, image_path, message_boxes):
    drag(qtbot, window.canvas, [(5.5, 5.5)])
    message_boxes.answer = message_boxes.answer.Cancel
    window.close()
    assert window.isVisible() and message_boxes.shown[-1][0] == "question"
    assert not window.session.open_image(image_path)  # cancelled: the painted document stays
    assert (window.session.document.scribbles != NO_LABEL).any()
    message_boxes.answer = message_boxes.answer.Save
    window.close()
    assert not window.isVisible() and work_of(image_path).scribbles.is_file()


def test_ids_the_palette_lost_are_saved_with_default_entries_so_the_work_reloads(qtbot, window, image_path,
                                                                                 segmenter):
    """E.g. a class removed while a prediction using it was on screen, then accepted and saved."""
    paint_two_classes(qtbot, window)
    segment(qtbot, window)
    window.session.document.prediction.labels[0:4, 0:4] = 7  # a class id the palette does not have
    assert window.session.save()
    other = MainWindow(segmenter, TINY)
    qtbot.addWidget(other)
    assert other.session.open_image(image_path)
    assert other.session.document.mask[0, 0] == 7 and other.session.document.classes.by_id(7).name == "class 7"
