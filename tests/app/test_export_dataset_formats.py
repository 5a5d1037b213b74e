"""The folder export's dataset formats: File > Export also COCO JSON / YOLO polygons, then File > Export folder
masks… writes coco.json (read back with pycocotools) and yolo/<image>.txt beside the masks; the choice is kept."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from PySide6.QtWidgets import QFileDialog

from gdc_core.io import read_label_map
from qt_helpers import make_image, shown_window

COCO = pytest.importorskip("pycocotools.coco").COCO


@pytest.fixture
def folder_window(qtbot, segmenter, tmp_path):
    images = tmp_path / "shots"
    images.mkdir()
    for name in ("img1.png", "img2.png"):
        Image.fromarray(make_image()).save(images / name)
    window = shown_window(qtbot, segmenter)
    assert window.session.open_folder(images)
    return window


def file_menu_action(window, text: str):
    """The File menu's action whose text (without '&') is ``text``, as a user finds it."""
    menu = next(m.menu() for m in window.menuBar().actions() if m.text().replace("&", "") == "File")
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_export_writes_coco_and_yolo_when_chosen_in_the_file_menu(qtbot, segmenter, folder_window, tmp_path,
                                                                monkeypatch, message_boxes):
    window = folder_window
    mask = np.zeros((48, 64), np.uint8)
    mask[10:40, 30:60] = 1
    window.session.document.replace_work(window.session.document.scribbles, mask, text="test mask")
    names = {c.id: c.name for c in window.session.document.classes}
    out = tmp_path / "export"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args, **kwargs: str(out)))

    file_menu_action(window, "Export also COCO JSON").trigger()
    file_menu_action(window, "Export also YOLO polygons").trigger()
    file_menu_action(window, "Export folder masks…").trigger()

    assert np.array_equal(read_label_map(out / "img1.png"), mask)
    assert "coco.json" in message_boxes.texts() and "yolo/img1.txt" in message_boxes.texts()
    coco = COCO(str(out / "coco.json"))
    assert [img["file_name"] for img in coco.imgs.values()] == ["img1.png"]  # img2 has no mask yet
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == [names[1]]
    (annotation,) = coco.loadAnns(coco.getAnnIds())
    assert np.array_equal(coco.annToMask(annotation).astype(bool), mask == 1)
    (line,) = (out / "yolo" / "img1.txt").read_text().splitlines()
    class_id, *values = line.split()
    canvas = Image.new("L", (64, 48), 0)
    ImageDraw.Draw(canvas).polygon([(float(x) * 64, float(y) * 48) for x, y in zip(values[::2], values[1::2])],
                                   fill=1, outline=1)
    assert class_id == "1" and np.array_equal(np.asarray(canvas), mask)

    again = shown_window(qtbot, segmenter)  # the choice is a preference: the next window starts with it
    assert again.actions.export_coco.isChecked() and again.actions.export_yolo.isChecked()
    file_menu_action(again, "Export also YOLO polygons").trigger()
    assert not shown_window(qtbot, segmenter).actions.export_yolo.isChecked()
