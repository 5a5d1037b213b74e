"""Reading images and label maps, writing masks, scribbles and overlays; every write is atomic.

Label-map PNGs (masks and scribbles) are 8-bit palette ("P") images: pixel value = class index, 255 = no
label, with the PASCAL VOC colours embedded so any viewer shows them in colour.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
Image.MAX_IMAGE_PIXELS = 400_000_000  # 24 MP photos and larger scans are normal input, not a decompression bomb


class ImageReadError(ValueError):
    """A file that is missing, unreadable, or not an image of a supported kind."""


def voc_palette() -> np.ndarray:
    """The PASCAL VOC colour map: (256, 3) uint8, entry i the colour of class i (255: (224, 224, 192))."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        value, r, g, b = index, 0, 0, 0
        for bit in range(8):
            r |= ((value >> 0) & 1) << (7 - bit)
            g |= ((value >> 1) & 1) << (7 - bit)
            b |= ((value >> 2) & 1) << (7 - bit)
            value >>= 3
        palette[index] = (r, g, b)
    return palette


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as (H, W) uint8 grey or (H, W, 3) uint8 RGB (alpha and palettes resolved).

    16-bit greys are scaled to 8 bits. Raises :class:`ImageReadError` naming the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                array = np.asarray(image, dtype=np.float64)
                top = 65535.0 if array.max() > 255 else 255.0
                return np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
            if image.mode == "L":
                return np.asarray(image, dtype=np.uint8).copy()
            if image.mode in ("LA",):
                return np.asarray(image.convert("L"), dtype=np.uint8).copy()
            return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{path}: not a readable image ({exc.__class__.__name__}: {exc})") from exc


def read_label_map(path: str | os.PathLike) -> np.ndarray:
    """Read an 8-bit label PNG (palette or grey) as (H, W) uint8 values, not colours."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode not in ("P", "L"):
                raise ImageReadError(f"{path}: a label map must be an 8-bit palette or grey PNG (found mode {image.mode})")
            return np.asarray(image, dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ImageReadError(f"{path}: not a readable label map ({exc.__class__.__name__})") from exc


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    On any error the temporary file is removed and ``path`` is left as it was (old content or absent).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)  # mkstemp makes 0600 files; outputs get the usual permissions
    try:
        yield temp
        with open(temp, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_label_map(path: str | os.PathLike, labels: np.ndarray, palette: np.ndarray | None = None) -> None:
    """Atomically write (H, W) uint8 labels as an indexed PNG with ``palette`` ((N<=256, 3) uint8; VOC default)."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError(f"labels must be a 2-D uint8 array, got {labels.dtype} {labels.shape}")
    colours = voc_palette()
    if palette is not None:
        palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        colours[: len(palette)] = palette
    image = Image.fromarray(labels, mode="P")
    image.putpalette(colours.reshape(-1).tolist())
    with atomic_path(path) as temp:
        image.save(temp, format="PNG")


def overlay(image: np.ndarray, labels: np.ndarray, palette: np.ndarray | None = None, alpha: float = 0.5,
            skip: tuple[int, ...] = (255,)) -> np.ndarray:
    """Blend class colours over an image: (H, W, 3) uint8. Labels in ``skip`` stay uncoloured."""
    rgb = np.asarray(image)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    colours = voc_palette()
    if palette is not None:
        palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        colours[: len(palette)] = palette
    coloured = colours[labels].astype(np.float32)
    blend = rgb[..., :3].astype(np.float32) * (1 - alpha) + coloured * alpha
    keep = np.isin(labels, skip)
    blend[keep] = rgb[..., :3][keep]
    return np.clip(blend + 0.5, 0, 255).astype(np.uint8)


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Atomically write an (H, W) or (H, W, 3) uint8 image; the format follows the suffix (PNG if unknown)."""
    suffix = Path(path).suffix.lower()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}.get(suffix, "PNG")
    with atomic_path(path) as temp:
        Image.fromarray(np.asarray(image, dtype=np.uint8)).save(temp, format=fmt)


def grey_to_uint8(values: np.ndarray) -> np.ndarray:
    """Map a float map in [0, 1] (e.g. uncertainty) to (H, W) uint8 0..255."""
    return np.clip(np.asarray(values, dtype=np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
