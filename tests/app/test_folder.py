"""Folders: the image list in natural order, per-image status from the sidecar files, next / previous (D / A,
PgDn / PgUp) saving the work before switching, the "unfinished only" filter, ``gdc-seg FOLDER``, and export."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app import gui
from app.folder import EXPORTED, SCRIBBLED, SEGMENTED, UNTOUCHED, FolderSession
from gdc_core.workfiles import natural_key
from app.main_window import MainWindow
from gdc_core.io import read_label_map
from qt_helpers import drag, make_image, shown_window


@pytest.fixture
def folder(tmp_path):
    images = tmp_path / "shots"
    images.mkdir()
    for name in ("img10.png", "img2.png", "img1.png"):
        Image.fromarray(make_image()).save(images / name)
    (images / "notes.txt").write_text("not an image")
    return images


@pytest.fixture
def folder_window(qtbot, segmenter, folder) -> MainWindow:
    main = shown_window(qtbot, segmenter)
    assert main.session.open_folder(folder)
    return main


def test_natural_order_and_status_from_sidecar_files(folder):
    session = FolderSession(folder)
    assert [p.name for p in session.images] == ["img1.png", "img2.png", "img10.png"]
    assert sorted(["a10", "a9", "A1"], key=natural_key) == ["A1", "a9", "a10"]
    assert session.sidecar == folder.resolve() / "gdc-seg"
    first, second, third = session.images
    assert session.status(first) == UNTOUCHED
    session.sidecar.mkdir()
    (session.sidecar / "img2_scribbles.png").write_bytes(b"")
    assert session.status(second) == SCRIBBLED
    assert session.neighbour(first, +1, unfinished_only=False) == second
    assert session.neighbour(third, +1) is None and session.neighbour(first, -1) is None


def test_next_and_previous_save_the_work_before_switching(qtbot, folder_window, folder, message_boxes):
    window = folder_window
    assert window.session.document.path.name == "img1.png" and window.images_dock.isVisible()
    assert window.file_list.rows() == [("img1.png", UNTOUCHED), ("img2.png", UNTOUCHED), ("img10.png", UNTOUCHED)]
    drag(qtbot, window.canvas, [(8, 10), (8, 38)])
    qtbot.keyClick(window.canvas, Qt.Key.Key_D)  # saved (no waiting for the autosave delay), then switched
    assert window.session.document.path.name == "img2.png"
    sidecar = folder / "gdc-seg"
    assert (sidecar / "img1_scribbles.png").is_file() and (sidecar / "img1_classes.json").is_file()
    assert window.file_list.rows()[0] == ("img1.png", SCRIBBLED)
    qtbot.keyClick(window.canvas, Qt.Key.Key_PageDown)
    assert window.session.document.path.name == "img10.png"
    qtbot.keyClick(window.canvas, Qt.Key.Key_PageUp)
    qtbot.keyClick(window.canvas, Qt.Key.Key_A)
    assert window.session.document.path.name == "img1.png"
    assert (window.session.document.scribbles != 255).any()  # resumed from the sidecar
    assert not message_boxes.shown


def test_unfinished_filter_skips_images_with_a_mask(qtbot, folder_window, folder):
    window = folder_window
    sidecar = folder / "gdc-seg"
    sidecar.mkdir(exist_ok=True)
    mask = np.zeros((48, 64), np.uint8)
    Image.fromarray(mask, mode="L").save(sidecar / "img2_mask.png")
    window.file_list.unfinished_only.setChecked(True)
    assert [name for name, _ in window.file_list.rows()] == ["img1.png", "img10.png"]
    assert window.session.go_to_neighbour(+1)
    assert window.session.document.path.name == "img10.png"
    window.file_list.unfinished_only.setChecked(False)
    assert ("img2.png", SEGMENTED) in window.file_list.rows()


def test_clicking_a_row_opens_that_image(qtbot, folder_window):
    window = folder_window
    item = window.file_list.list.item(2)
    window.file_list.list.itemClicked.emit(item)
    assert window.session.document.path.name == "img10.png"


def test_gdc_seg_folder_opens_the_folder(monkeypatch, qtbot, segmenter, folder):
    seen = {}
    monkeypatch.setattr(gui, "create_segmenter", lambda config, weights: segmenter)

    def fake_exec(self):
        QApplication.processEvents()
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen["name"], seen["session"] = windows[-1].session.document.path.name, windows[-1].session.folder_session
        windows[-1].close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert gui.run_gui([str(folder)]) == 0
    assert seen["name"] == "img1.png" and len(seen["session"]) == 3


def test_export_writes_indexed_masks_named_after_the_images_and_classes_json(qtbot, folder_window, folder, tmp_path):
    window = folder_window
    mask = np.zeros((48, 64), np.uint8)
    mask[:, 32:] = 1
    window.session.document.replace_work(window.session.document.scribbles, mask, text="test mask")
    out = tmp_path / "masks"
    assert window.session.export_folder(out)
    exported = out / "img1.png"
    with Image.open(exported) as image:
        assert image.mode == "P"
    assert np.array_equal(read_label_map(exported), mask)
    classes = json.loads((out / "classes.json").read_text())
    assert [c["id"] for c in classes["classes"]][:2] == [0, 1] and all("colour" in c for c in classes["classes"])
    assert not (out / "img2.png").exists()
    assert window.file_list.rows()[0] == ("img1.png", EXPORTED)


@pytest.mark.parametrize("where", ["images", "sidecar"])
def test_export_refuses_the_image_and_sidecar_folders(qtbot, folder_window, folder, message_boxes, where):
    window = folder_window
    before = (folder / "img1.png").read_bytes()
    document = window.session.document
    document.replace_work(document.scribbles, np.zeros((48, 64), np.uint8), text="test mask")
    assert not window.session.export_folder(folder if where == "images" else folder / "gdc-seg")
    assert "choose another folder" in message_boxes.texts()
    assert (folder / "img1.png").read_bytes() == before


def png_declaring(width: int, height: int) -> bytes:
    """A palette PNG whose header declares ``width`` x ``height`` (its data is a few bytes only)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"PLTE", bytes(6))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_export_reports_a_mask_above_pillows_bomb_limit_and_exports_the_others(folder, tmp_path, monkeypatch):
    """The export's size probe opens the saved mask with plain Pillow: a mask declaring more than twice
    ``PIL.Image.MAX_IMAGE_PIXELS`` (Pillow's DecompressionBombError, not an OSError) is one problem line, and the
    other images are still exported."""
    from app.exporting import save_work
    from app.classes import LabelClass

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)  # Pillow's default: above 179 MP Image.open raises
    session = FolderSession(folder)
    classes = [LabelClass(0, "background", (0, 0, 0)), LabelClass(1, "object", (128, 0, 0))]
    mask = np.zeros((48, 64), np.uint8)
    mask[:, 32:] = 1
    for image in session.images[:2]:
        save_work(session.work_paths(image), image=make_image(), scribbles=np.full((48, 64), 255, np.uint8),
                  mask=mask, classes=classes)
    first, second = session.images[:2]
    session.work_paths(second).mask.write_bytes(png_declaring(20_000, 20_000))
    report = session.export(tmp_path / "masks")
    assert report.written == [tmp_path / "masks" / "img1.png"]
    assert len(report.problems) == 1 and report.problems[0].startswith("img2.png: ")
    assert np.array_equal(read_label_map(tmp_path / "masks" / "img1.png"), mask)
