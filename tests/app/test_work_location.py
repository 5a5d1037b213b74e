"""One rule for where an image's work lives, whatever opened it (File > Open, a folder, autosave, File > Save):
``<image folder>/gdc-seg/`` or ``<work root>/<image folder's name>/``; work saved where older versions put it is
found; side files are never listed as images; autosave writes what File > Save writes; the export folder the
dialog proposes exists."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app.folder import SCRIBBLED, SEGMENTED, UNTOUCHED
from gdc_core.io import read_label_map, write_label_map
from qt_helpers import drag, make_image, paint_two_classes, shown_window


@pytest.fixture
def folder(tmp_path) -> Path:
    images = tmp_path / "shots"
    images.mkdir()
    for name in ("teddy.png", "other.png"):
        Image.fromarray(make_image()).save(images / name)
    return images


@pytest.fixture
def dialogs(monkeypatch):
    """File dialogs answered by the test: ``answers[name]`` is returned; each call's start folder is recorded with
    whether it existed when the dialog opened."""
    calls: list[tuple[str, str, bool]] = []
    answers: dict[str, object] = {}

    def open_file(parent, caption, start="", *args, **kwargs):
        calls.append(("open file", start, Path(start).is_dir()))
        return answers["open file"], ""

    def existing_directory(parent, caption, start="", *args, **kwargs):
        calls.append(("directory", start, Path(start).is_dir()))
        answer = answers["directory"]
        return answer(start) if callable(answer) else answer

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_file))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(existing_directory))
    return calls, answers


def ctrl(qtbot, window, key, shift=False) -> None:
    modifiers = Qt.KeyboardModifier.ControlModifier | (Qt.KeyboardModifier.ShiftModifier if shift
                                                       else Qt.KeyboardModifier.NoModifier)
    qtbot.keyClick(window.canvas, key, modifiers)


def segment(qtbot, window) -> None:
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not window.session.runs.busy, timeout=60_000)
    assert window.session.document.prediction is not None


def write_legacy_work(folder: Path, stem: str, scribbles: np.ndarray) -> None:
    """Work as File > Save of earlier versions left it: beside the image."""
    write_label_map(folder / f"{stem}_scribbles.png", scribbles)
    (folder / f"{stem}_classes.json").write_text(json.dumps({"format": "gdc-seg classes", "version": 1, "classes": [
        {"id": 0, "name": "background", "colour": "#000000"}, {"id": 1, "name": "teddy", "colour": "#800000"}]}))


def test_work_saved_on_an_image_opened_alone_is_resumed_by_its_folder(qtbot, segmenter, folder, dialogs,
                                                                      message_boxes):
    calls, answers = dialogs
    window = shown_window(qtbot, segmenter)
    answers["open file"] = str(folder / "teddy.png")
    ctrl(qtbot, window, Qt.Key.Key_O)
    assert window.session.document.path.name == "teddy.png"
    paint_two_classes(qtbot, window)
    scribbles = window.session.document.scribbles.copy()
    ctrl(qtbot, window, Qt.Key.Key_S)
    assert sorted(p.name for p in folder.iterdir()) == ["gdc-seg", "other.png", "teddy.png"]  # nothing beside
    assert np.array_equal(read_label_map(folder / "gdc-seg" / "teddy_scribbles.png"), scribbles)

    answers["directory"] = str(folder)
    ctrl(qtbot, window, Qt.Key.Key_U)
    assert window.file_list.rows() == [("other.png", UNTOUCHED), ("teddy.png", SCRIBBLED)]
    assert window.session.document.path.name == "other.png"  # the first unfinished one
    qtbot.keyClick(window.canvas, Qt.Key.Key_D)
    document = window.session.document
    assert document.path.name == "teddy.png" and np.array_equal(document.scribbles, scribbles)
    assert not message_boxes.shown


def test_work_saved_beside_the_image_by_older_versions_is_found_and_not_listed(qtbot, segmenter, folder,
                                                                               message_boxes):
    scribbles = np.full((48, 64), 255, np.uint8)
    scribbles[10:20, 5] = 0
    scribbles[10:20, 50] = 1
    write_legacy_work(folder, "teddy", scribbles)
    window = shown_window(qtbot, segmenter)
    window.session.autosave.delay_ms = 50
    assert window.session.open_folder(folder)
    assert window.file_list.rows() == [("other.png", UNTOUCHED), ("teddy.png", SCRIBBLED)]
    assert window.session.go_to_neighbour(+1) and window.session.document.path.name == "teddy.png"
    assert np.array_equal(window.session.document.scribbles, scribbles)
    assert [c.name for c in window.session.document.classes] == ["background", "teddy"]
    drag(qtbot, window.canvas, [(30, 30), (40, 30)])
    qtbot.waitUntil(lambda: not window.session.autosave.dirty, timeout=5000)
    assert np.array_equal(read_label_map(folder / "gdc-seg" / "teddy_scribbles.png"), window.session.document.scribbles)
    window.close()

    again = shown_window(qtbot, segmenter)
    assert again.session.open_image(folder / "teddy.png")  # the newer work in gdc-seg wins over the older beside it
    assert np.array_equal(again.session.document.scribbles, read_label_map(folder / "gdc-seg" / "teddy_scribbles.png"))
    assert not message_boxes.shown


def test_with_a_work_root_set_an_image_opened_alone_saves_where_its_folder_looks(qtbot, segmenter, folder,
                                                                                 tmp_path):
    window = shown_window(qtbot, segmenter)
    window.session.apply_settings(window.session.config, str(tmp_path / "work"))
    assert window.session.open_image(folder / "teddy.png")
    paint_two_classes(qtbot, window)
    ctrl(qtbot, window, Qt.Key.Key_S)
    assert (tmp_path / "work" / "shots" / "teddy_scribbles.png").is_file()
    assert not (folder / "gdc-seg").exists()
    assert window.session.open_folder(folder)
    assert dict(window.file_list.rows())["teddy.png"] == SCRIBBLED


def test_autosave_writes_the_mask_and_overlay_file_save_would(qtbot, segmenter, folder):
    window = shown_window(qtbot, segmenter)
    window.session.autosave.delay_ms = 50
    window.actions.save_overlay.setChecked(True)
    assert window.session.open_folder(folder) and window.session.document.path.name == "other.png"
    paint_two_classes(qtbot, window)
    segment(qtbot, window)  # a proposal on screen, not accepted: what Ctrl+S would save as the mask
    qtbot.waitUntil(lambda: (folder / "gdc-seg" / "other_mask.png").is_file() and not window.session.autosave.dirty,
                    timeout=5000)
    shown = window.session.document.prediction.labels
    assert np.array_equal(read_label_map(folder / "gdc-seg" / "other_mask.png"), shown)
    assert (folder / "gdc-seg" / "other_overlay.png").is_file()
    assert window.session.document.mask is None  # still a proposal
    assert dict(window.file_list.rows())["other.png"] == SEGMENTED


def test_export_proposes_a_folder_that_exists_and_removes_it_when_unused(qtbot, segmenter, folder, dialogs,
                                                                         message_boxes):
    calls, answers = dialogs
    window = shown_window(qtbot, segmenter)
    assert window.session.open_folder(folder)
    paint_two_classes(qtbot, window)
    segment(qtbot, window)
    proposed = folder.parent / "shots_masks"

    answers["directory"] = ""  # cancelled
    ctrl(qtbot, window, Qt.Key.Key_E, shift=True)
    assert calls[-1] == ("directory", str(proposed), True) and not proposed.exists()

    answers["directory"] = lambda start: start  # the proposal taken as it is
    ctrl(qtbot, window, Qt.Key.Key_E, shift=True)
    assert calls[-1] == ("directory", str(proposed), True)
    assert [kind for kind, _, _ in message_boxes.shown] == ["information"], message_boxes.texts()
    assert sorted(p.name for p in proposed.iterdir()) == ["classes.json", "other.png"]
