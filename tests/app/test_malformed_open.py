"""The malformed-input corpus (tests/malformed_corpus.py) through the app as a user reaches it: Ctrl+O, Ctrl+Shift+O,
opening a folder, D / PgDn / A / PgUp and a click in the image list. Every file either opens or gets a message
box naming it and the reason; no exception escapes; navigation passes over unreadable images; long and
undecodable file names save and resume."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from gdc_core.io import MAX_PIXELS_ENV, NAME_MAX
from qt_helpers import drag, make_image, paint_two_classes, shown_window

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from malformed_corpus import EITHER, IMAGE, OK, REFUSED, SCRIBBLES, cases  # noqa: E402

CASES = cases()
EDITABLE = {"scribbles_no_strokes", "scribbles_one_class", "scribbles_all_one_class"}


@pytest.fixture(autouse=True)
def default_limit(monkeypatch):
    monkeypatch.delenv(MAX_PIXELS_ENV, raising=False)


def choose_in_dialog(monkeypatch, path: Path) -> None:
    """The next file dialog answers ``path``."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))


def test_ctrl_o_opens_each_corpus_image_or_says_why_not(qtbot, segmenter, tmp_path, monkeypatch, message_boxes):
    window = shown_window(qtbot, segmenter)
    images = [c for c in CASES if c.target == IMAGE]
    for case in images:
        image_path, _ = case.write(tmp_path / "corpus")
        before = window.document
        message_boxes.shown.clear()
        choose_in_dialog(monkeypatch, image_path)
        qtbot.keyClick(window.canvas, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
        opened = window.document is not before and window.document.path == image_path
        if opened:
            assert case.expect in (OK, EITHER), f"{case.name} opened"
            assert not message_boxes.shown, message_boxes.texts()
            if case.expect == OK:
                assert window.document.shape == case.shape
        else:
            assert case.expect in (REFUSED, EITHER), f"{case.name} not opened: {message_boxes.texts()}"
            assert window.document is before
            assert [(kind, title) for kind, title, _ in message_boxes.shown] == [("warning", "Cannot open image")]
            text = message_boxes.shown[0][2]
            assert str(image_path) in text and "\n" not in text and "Error" not in text, text
    window.controller.cancel()


def test_ctrl_shift_o_loads_each_corpus_scribble_map_or_says_why_not(qtbot, segmenter, tmp_path, monkeypatch,
                                                                     message_boxes):
    window = shown_window(qtbot, segmenter)
    first = next(c for c in CASES if c.target == SCRIBBLES)
    image_path, _ = first.write(tmp_path / "image")
    assert window.open_image(image_path)
    for case in (c for c in CASES if c.target == SCRIBBLES):
        _, scribbles_path = case.write(tmp_path / "corpus")
        message_boxes.shown.clear()
        choose_in_dialog(monkeypatch, scribbles_path)
        before = window.document.scribbles.copy()
        qtbot.keyClick(window.canvas, Qt.Key.Key_O,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        if message_boxes.shown:
            assert [(kind, title) for kind, title, _ in message_boxes.shown] == [("warning", "Cannot load scribbles")]
            assert np.array_equal(window.document.scribbles, before)
            assert case.expect != OK or "not in the class list" in message_boxes.shown[0][2], message_boxes.texts()
        else:  # an editor loads strokes that cannot be segmented yet (none, or one class) for the user to add to
            assert case.expect in (OK, EITHER) or case.name in EDITABLE, case.name
            assert window.document.scribbles.shape == case.shape
    window.controller.cancel()


@pytest.fixture
def mixed_folder(tmp_path) -> Path:
    """good_1, three unreadable images, good_2, a bomb, good_3 (natural order by name)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    by_name = {c.name: c for c in CASES}
    bad = ["bomb_jpg_30000x20000_rgb", "truncated_png_rgb_20", "garbage_text_png", "bomb_png_60000x60000_c2"]
    order = ["good_1", bad[0], bad[1], bad[2], "good_2", bad[3], "good_3"]
    for index, name in enumerate(order):
        target = folder / f"{index:02d}_{name}"
        if name.startswith("good"):
            Image.fromarray(make_image()).save(target.with_suffix(".png"))
        else:
            case = by_name[name]
            target.with_suffix(f".{case.image_suffix}").write_bytes(case.image)
    return folder


def test_next_and_previous_pass_over_unreadable_images(qtbot, segmenter, mixed_folder, message_boxes):
    window = shown_window(qtbot, segmenter)
    assert window.open_folder(mixed_folder)
    assert window.document.path.name == "00_good_1.png" and not message_boxes.shown
    drag(qtbot, window.canvas, [(8, 10), (8, 38)])
    qtbot.keyClick(window.canvas, Qt.Key.Key_D)
    assert window.document.path.name == "04_good_2.png"
    assert len(message_boxes.shown) == 1  # one message for the three passed over, each named with its reason
    text = message_boxes.shown[0][2]
    for name in ("01_bomb_jpg_30000x20000_rgb.jpg", "02_truncated_png_rgb_20.png", "03_garbage_text_png.png"):
        assert name in text
    assert "above the limit" in text and "Skipped." in text
    qtbot.keyClick(window.canvas, Qt.Key.Key_PageDown)
    assert window.document.path.name == "06_good_3.png" and len(message_boxes.shown) == 2
    qtbot.keyClick(window.canvas, Qt.Key.Key_D)  # the end: stays
    assert window.document.path.name == "06_good_3.png" and len(message_boxes.shown) == 2
    qtbot.keyClick(window.canvas, Qt.Key.Key_A)
    qtbot.keyClick(window.canvas, Qt.Key.Key_PageUp)
    assert window.document.path.name == "00_good_1.png"
    assert (window.document.scribbles != 255).any()  # its work was saved on the way out and resumed
    window.controller.cancel()


def test_a_folder_whose_first_images_are_unreadable_opens_on_the_first_readable(qtbot, segmenter, mixed_folder,
                                                                                  message_boxes):
    (mixed_folder / "00_good_1.png").unlink()
    window = shown_window(qtbot, segmenter)
    assert window.open_folder(mixed_folder)
    assert window.document.path.name == "04_good_2.png"
    assert len(message_boxes.shown) == 1 and "01_bomb_jpg_30000x20000_rgb.jpg" in message_boxes.shown[0][2]
    window.controller.cancel()


def test_long_and_undecodable_names_save_resume_and_can_be_clicked(qtbot, segmenter, tmp_path, message_boxes):
    folder = tmp_path / "names"
    folder.mkdir()
    undecodable = os.fsdecode(b"caf\xe9_\xff.png")
    long_name = "n" * 246 + ".png"  # 250 bytes: "<stem>_scribbles.png" would be 260
    for name in (undecodable, long_name, "plain.png"):
        Image.fromarray(make_image()).save(folder / name)
    window = shown_window(qtbot, segmenter)
    assert window.open_folder(folder)
    rows = [name for name, _ in window.file_list.rows()]
    assert sorted(rows) == sorted([undecodable, long_name, "plain.png"])
    for name in (undecodable, long_name):
        item = window.file_list.list.item(rows.index(name))
        window.file_list.list.itemClicked.emit(item)
        assert window.document.path == folder / name, message_boxes.texts()
        drag(qtbot, window.canvas, [(8, 10), (8, 38)])
        qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not message_boxes.shown, message_boxes.texts()
    saved = [p for p in (folder / "gdc-seg").iterdir()] if (folder / "gdc-seg").is_dir() else []
    saved += [p for p in folder.iterdir() if p.name.endswith(("_scribbles.png", "_classes.json"))]
    assert saved and all(len(os.fsencode(p.name)) <= NAME_MAX for p in saved)
    for name in (undecodable, long_name):  # reopening each resumes its own strokes
        assert window.open_image(folder / "plain.png")
        assert not (window.document.scribbles != 255).any()
        assert window.open_image(folder / name)
        assert (window.document.scribbles != 255).any(), name
    assert not message_boxes.shown, message_boxes.texts()
    window.controller.cancel()


def test_r_refuses_a_run_above_the_memory_limit_and_says_so(qtbot, window, monkeypatch):
    from gdc_core.images import run_budget, run_bytes

    config = window.config
    needed = run_bytes(window.document.shape, 2, config.max_side, config.samples)
    fixed = run_budget(0, config.max_side, config.samples)  # the working-size allowance of the budget
    paint_two_classes(qtbot, window)
    monkeypatch.setenv(MAX_PIXELS_ENV, str((needed - fixed) // 43 - 1))
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    assert not window.controller.busy and window.document.prediction is None
    message = window.statusBar().currentMessage()
    assert message.startswith("Not segmented: 64x48 with 2 classes") and MAX_PIXELS_ENV in message
    monkeypatch.setenv(MAX_PIXELS_ENV, str((needed - fixed) // 43 + 1))
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: window.document.prediction is not None, timeout=20_000)


def test_a_jpeg_above_the_limit_opens_reduced_and_saves_at_that_size(qtbot, segmenter, tmp_path, monkeypatch,
                                                                    message_boxes):
    """Ctrl+O on a JPEG over the pixel limit: it opens at 1/2 size, the status bar says so, and painting and saving
    work on the decoded size."""
    picture = np.zeros((200, 300, 3), np.uint8)
    picture[:, 150:] = (230, 200, 40)
    path = tmp_path / "big.jpg"
    Image.fromarray(picture).save(path, "JPEG")
    monkeypatch.setenv(MAX_PIXELS_ENV, "20000")  # 300x200 = 60,000 pixels; 1/2 size is 15,000
    window = shown_window(qtbot, segmenter)
    choose_in_dialog(monkeypatch, path)
    qtbot.keyClick(window.canvas, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert not message_boxes.shown, message_boxes.texts()
    assert window.document.path == path and window.document.shape == (100, 150)
    assert window.document.full_size == (200, 300)
    message = window.statusBar().currentMessage()
    assert "at 1/2 size" in message and "150 x 100 pixels of 300 x 200" in message
    paint_two_classes(qtbot, window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = list((tmp_path / "gdc-seg").glob("*scribbles*.png"))
    assert saved, list(tmp_path.rglob("*"))
    with Image.open(saved[0]) as scribbles:
        assert scribbles.size == (150, 100)
    window.controller.cancel()
