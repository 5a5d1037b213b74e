"""Every listed image format opens in a folder and on the canvas: PNG, JPEG, BMP, TIFF, WebP, grey and RGBA
(and 16-bit grey), written by PIL as tiny files."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.folder import FolderSession
from app.main_window import MainWindow
from qt_helpers import TINY, make_image

RGB = make_image()
CASES = {
    "rgb.png": lambda: Image.fromarray(RGB),
    "rgba.png": lambda: Image.fromarray(np.dstack([RGB, np.full(RGB.shape[:2], 200, np.uint8)]), mode="RGBA"),
    "grey.png": lambda: Image.fromarray(RGB[..., 0]),
    "grey16.png": lambda: Image.fromarray(RGB[..., 0].astype(np.uint16) * 257),
    "colour.jpg": lambda: Image.fromarray(RGB),
    "greyjpeg.jpeg": lambda: Image.fromarray(RGB[..., 1]),
    "colourbmp.bmp": lambda: Image.fromarray(RGB),
    "scan.tif": lambda: Image.fromarray(RGB),
    "rgbatiff.tiff": lambda: Image.fromarray(np.dstack([RGB, np.full(RGB.shape[:2], 255, np.uint8)]), mode="RGBA"),
    "colourwebp.webp": lambda: Image.fromarray(RGB),
    "rgbawebp.webp": lambda: Image.fromarray(np.dstack([RGB, np.full(RGB.shape[:2], 128, np.uint8)]), mode="RGBA"),
    "UPPER.PNG": lambda: Image.fromarray(RGB),
}


@pytest.fixture
def folder(tmp_path):
    images = tmp_path / "formats"
    images.mkdir()
    for name, make in CASES.items():
        make().save(images / name)
    return images


def test_the_folder_lists_every_format(folder):
    assert sorted(p.name for p in FolderSession(folder).images) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_format_opens_on_the_canvas(qtbot, segmenter, folder, name, message_boxes):
    window = MainWindow(segmenter, TINY)
    qtbot.addWidget(window)
    assert window.session.open_folder(folder)
    assert window.session.open_image(folder / name), message_boxes.texts()
    assert window.session.document.shape == (48, 64)
    assert window.canvas.image_item.pixmap().width() == 64
    if name in ("rgb.png", "rgba.png", "colourbmp.bmp", "scan.tif", "rgbatiff.tiff", "UPPER.PNG"):  # lossless colour
        assert np.array_equal(window.session.document.image, RGB)
    if name in ("grey.png", "grey16.png"):
        assert np.array_equal(np.asarray(window.session.document.image).reshape(48, 64, -1)[..., 0], RGB[..., 0])


def test_two_images_with_one_stem_keep_the_first_and_report_the_other(tmp_path):
    for name in ("a.png", "a.jpg", "b.png"):
        Image.fromarray(RGB).save(tmp_path / name)
    session = FolderSession(tmp_path)
    assert [p.name for p in session.images] == ["a.jpg", "b.png"] and [p.name for p in session.skipped] == ["a.png"]
