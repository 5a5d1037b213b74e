"""Atomic writes and label-map round trips."""
import os
import stat

import numpy as np
import pytest

from gdc_core.io import ImageReadError, atomic_path, read_image, read_label_map, voc_palette, write_label_map


def test_label_map_round_trip_with_palette_and_normal_permissions(tmp_path):
    labels = np.array([[0, 1, 255], [15, 2, 0]], np.uint8)
    target = tmp_path / "sub" / "mask.png"
    write_label_map(target, labels)
    np.testing.assert_array_equal(read_label_map(target), labels)
    from PIL import Image

    with Image.open(target) as image:
        assert image.mode == "P"
        assert image.getpalette()[3:6] == voc_palette()[1].tolist() == [128, 0, 0]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in target.parent.iterdir()] == ["mask.png"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "mask.png"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temp:
            temp.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["mask.png"]


def test_unreadable_files_name_the_file(tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(ImageReadError, match="photo.jpg"):
        read_image(bad)
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.png")
