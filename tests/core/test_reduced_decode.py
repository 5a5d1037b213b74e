"""Reduced decoding: a JPEG above the pixel limit opens at 1/2, 1/4 or 1/8 of its size; other formats are refused."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from itertools import product
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from gdc_core.cli import main
from gdc_core.io import JPEG_REDUCTIONS, ImageReadError, open_image, read_image, reduction_for
from tiny_run import TINY

pytestmark = pytest.mark.usefixtures("offline_stem")


def smooth_picture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8: a blurred random field (JPEG-friendly, so reduced and full decodes are comparable)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, height // 16), max(2, width // 16), 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def write_jpeg(path: Path, image: np.ndarray) -> Path:
    Image.fromarray(image).save(path, "JPEG", quality=95)
    return path


def test_reduction_is_the_smallest_scale_that_fits():
    for width, height, limit in product((1, 7, 640, 1001), (1, 5, 480, 999), (1, 50, 10_000, 300_000, 10**7)):
        fits = [n for n in (1, *JPEG_REDUCTIONS) if -(-width // n) * -(-height // n) <= limit]
        assert reduction_for(width, height, limit, reducible=True) == (fits[0] if fits else None)
        assert reduction_for(width, height, limit, reducible=False) == (1 if width * height <= limit else None)


@pytest.mark.parametrize("limit, reduction", [(640 * 480, 1), (640 * 480 // 3, 2), (640 * 480 // 10, 4),
                                              (640 * 480 // 40, 8)])
def test_a_jpeg_above_the_limit_is_decoded_at_the_largest_scale_under_it(tmp_path, limit, reduction):
    picture = smooth_picture(480, 640)
    path = write_jpeg(tmp_path / "photo.jpg", picture)
    decoded = open_image(path, limit)
    assert decoded.full_size == (480, 640)
    assert decoded.pixels.shape == (480 // reduction, 640 // reduction, 3)
    assert decoded.pixels.shape[0] * decoded.pixels.shape[1] <= limit
    assert decoded.reduced == (reduction > 1)
    assert (decoded.note(path) is None) == (reduction == 1)
    # the same picture as a full decode brought down by area averaging
    full = read_image(path)
    expected = cv2.resize(full, decoded.pixels.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(decoded.pixels.astype(int) - expected).mean() < 4


def test_reduced_note_names_scale_and_sizes(tmp_path):
    path = write_jpeg(tmp_path / "photo.jpg", smooth_picture(400, 600))
    note = open_image(path, 100_000).note(path)
    assert "1/2 size" in note and "300x200 of 600x400" in note and "--max-pixels" in note


def test_grey_jpeg_is_reduced_too(tmp_path):
    path = tmp_path / "grey.jpg"
    Image.fromarray(smooth_picture(320, 480)[..., 0]).save(path, "JPEG")
    decoded = open_image(path, 320 * 480 // 3)
    assert decoded.pixels.shape == (160, 240)


def test_formats_without_reduced_decoding_and_strict_reads_are_refused(tmp_path):
    picture = smooth_picture(300, 400)
    png = tmp_path / "photo.png"
    Image.fromarray(picture).save(png)
    jpeg = write_jpeg(tmp_path / "photo.jpg", picture)
    with pytest.raises(ImageReadError, match="above the limit"):
        open_image(png, 50_000)
    with pytest.raises(ImageReadError, match="above the limit"):
        read_image(jpeg, 50_000)  # read_image never reduces
    with pytest.raises(ImageReadError, match="even at 1/8"):
        open_image(jpeg, 1_000)  # 1/8 is 50x38 = 1,900 pixels


def test_segment_works_at_the_reduced_size_and_says_so(tmp_path, capsys):
    image = write_jpeg(tmp_path / "photo.jpg", smooth_picture(120, 160))
    scribbles = np.full((60, 80), 255, np.uint8)
    scribbles[10:50, 15] = 0
    scribbles[10:50, 60] = 1
    scribbles_path = tmp_path / "scribbles.png"
    Image.fromarray(scribbles, mode="L").save(scribbles_path)
    out = tmp_path / "mask.png"
    status = main(["segment", str(image), "--scribbles", str(scribbles_path), "--out", str(out),
                   "--max-pixels", "6000", *TINY])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "1/2 size" in captured.err
    with Image.open(out) as mask:
        assert mask.size == (80, 60)


def test_reduced_decode_keeps_memory_to_the_reduced_size(tmp_path):
    """A 48 MP JPEG opened under a 3 MP limit: the decoder's peak stays near the 1/4-size image (9 MB), far from
    the 144 MB of a full decode."""
    path = write_jpeg(tmp_path / "big.jpg", smooth_picture(6000, 8000))
    script = textwrap.dedent(f"""
        import resource, sys
        import numpy, PIL.Image
        from gdc_core.io import open_image
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        decoded = open_image({str(path)!r}, 3_000_000)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(decoded.pixels.shape, (after - before) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    shape, grown_mb = done.stdout.rsplit(")", 1)
    assert shape.strip() == "(1500, 2000, 3"
    assert int(grown_mb) < 60, done.stdout


def test_a_progressive_jpeg_is_reduced_only_up_to_a_few_times_the_limit(tmp_path):
    """Its decoder buffers every coefficient at full size whatever the output scale."""
    path = tmp_path / "progressive.jpg"
    Image.fromarray(smooth_picture(400, 600)).save(path, "JPEG", progressive=True)
    assert open_image(path, 600 * 400 // 3).pixels.shape == (200, 300, 3)
    with pytest.raises(ImageReadError, match="progressive JPEG opens reduced only up to 4 times"):
        open_image(path, 600 * 400 // 5)


def test_batch_segments_a_large_jpeg_reduced_and_refuses_a_large_png_with_a_reason(tmp_path, capsys):
    images, scribbles_dir, out = tmp_path / "images", tmp_path / "scribbles", tmp_path / "out"
    images.mkdir()
    scribbles_dir.mkdir()
    picture = smooth_picture(120, 160)
    write_jpeg(images / "big.jpg", picture)
    Image.fromarray(picture).save(images / "big_png.png")
    for stem, shape in (("big", (60, 80)), ("big_png", (120, 160))):
        scribbles = np.full(shape, 255, np.uint8)
        scribbles[5:-5, shape[1] // 5] = 0
        scribbles[5:-5, 4 * shape[1] // 5] = 1
        Image.fromarray(scribbles, mode="L").save(scribbles_dir / f"{stem}.png")
    status = main(["batch", str(images), "--scribbles", str(scribbles_dir), "--out", str(out),
                   "--max-pixels", "6000", *TINY])
    captured = capsys.readouterr()
    assert status == 1, captured.err
    assert "2 images: 1 done, 0 skipped, 1 failed" in captured.out
    assert "big.jpg: opened at 1/2 size" in captured.err
    assert "FAILED" in captured.err and "big_png.png: 160x120 is 0.0 MP, above the limit" in captured.err
    with Image.open(out / "big.png") as mask:
        assert mask.size == (80, 60)
