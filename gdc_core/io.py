"""Reading images and label maps, writing masks, scribbles and overlays; every write is atomic.

Label-map PNGs (masks and scribbles) are 8-bit palette ("P") images: pixel value = class index, 255 = no
label, with the PASCAL VOC colours embedded so any viewer shows them in colour.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MAX_PIXELS_ENV = "GDC_SEG_MAX_PIXELS"
# The largest image (width x height) that is decoded, and the largest two-class run (see run_too_large): a run on
# 50 MP with 2 classes peaked at 2.2 GB, overlay and uncertainty written. Header-declared sizes above it are
# refused before any pixel is decoded.
DEFAULT_MAX_PIXELS = 50_000_000
# A JPEG spends some bits on every 8x8 block: a uniform 7000x7000 image takes 570-770 KB at any quality (64-85
# pixels a byte). Far more pixels a byte than this means data too short for its header (the decoder would fill
# the missing part with grey instead of failing).
JPEG_PIXELS_PER_BYTE = 10_000
NAME_MAX = 255  # bytes in one file name on the usual file systems (ext4, XFS, btrfs, APFS, NTFS in UTF-16 units)


class ImageReadError(ValueError):
    """A file that is missing, unreadable, too large, or not an image of a supported kind."""


def pixel_limit(max_pixels: int | None = None) -> int:
    """The largest width x height to decode: ``max_pixels`` if given, else ``$GDC_SEG_MAX_PIXELS``, else
    :data:`DEFAULT_MAX_PIXELS`. Raises ValueError for a value that is not a positive whole number."""
    if max_pixels is None:
        raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
        if not raw:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(raw)
        except ValueError:
            raise ValueError(f"{MAX_PIXELS_ENV}={raw!r} is not a whole number of pixels") from None
    if max_pixels < 1:
        raise ValueError(f"the pixel limit must be positive (got {max_pixels})")
    return int(max_pixels)


def too_large(width: int, height: int, limit: int) -> str | None:
    """The reason an image of ``width`` x ``height`` is refused under ``limit`` pixels, or None when it is not."""
    if width * height <= limit:
        return None
    return (f"{width}x{height} is {width * height / 1e6:.1f} MP, above the limit of {limit / 1e6:g} MP "
            f"(set {MAX_PIXELS_ENV} or --max-pixels to raise it)")


def _one_line(exc: BaseException) -> str:
    """A decoder's message on one line ("malformed" when it has none)."""
    return " ".join(str(exc).split()) or "malformed"


# Scales (1/n of each side) a JPEG decoder can produce directly from the compressed data, without decoding the
# full size first: an image above the pixel limit is opened at the largest of them under the limit.
JPEG_REDUCTIONS = (2, 4, 8)
# A progressive JPEG is decoded from a buffer of all its DCT coefficients at full size (2 bytes per sample: 3 bytes
# a pixel with 4:2:0 chroma, 6 without subsampling; a 48 MP one measured 110 MB over a baseline one), whatever the
# output scale. So it is reduced only up to this many times the pixel limit (<= 1.2 GB of coefficients at 50 MP).
PROGRESSIVE_REDUCED_MAX = 4


def _ceil_div(value: int, by: int) -> int:
    return -(-value // by)


def reduction_for(width: int, height: int, limit: int, reducible: bool) -> int | None:
    """The n (1, or one of :data:`JPEG_REDUCTIONS` when ``reducible``) by which a ``width`` x ``height`` image's
    sides are divided (rounded up) to fit under ``limit`` pixels: 1 when it fits as it is, the smallest n that
    fits otherwise, None when none does."""
    if width * height <= limit:
        return 1
    for reduction in JPEG_REDUCTIONS if reducible else ():
        if _ceil_div(width, reduction) * _ceil_div(height, reduction) <= limit:
            return reduction
    return None


@contextmanager
def _open_checked(path: Path, limit: int, what: str, reduce: bool = False
                  ) -> Iterator[tuple[Image.Image, tuple[int, int]]]:
    """Yield the loaded image of ``path`` and the (H, W) size its header declares. Open it lazily, refuse it from its header size above ``limit`` pixels (with ``reduce``, a JPEG above it
    is decoded at the reduced size :func:`reduction_for` gives instead, if there is one), and turn every decoder
    failure into :class:`ImageReadError` (one line naming the file and the reason, no decoder class names)."""
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < limit:
        Image.MAX_IMAGE_PIXELS = limit  # Pillow's own bomb check then fires only above 2 x limit, refused below
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # decoder chatter (bomb warnings: our limit is checked instead)
            with Image.open(path) as opened:
                width, height = opened.size
                jpeg = reduce and opened.format == "JPEG"
                progressive = jpeg and bool(opened.info.get("progressive") or opened.info.get("progression"))
                reducible = jpeg and not (progressive and width * height > PROGRESSIVE_REDUCED_MAX * limit)
                reduction = reduction_for(width, height, limit, reducible)
                if reduction is None:
                    reason = too_large(width, height, limit)
                    if reducible:
                        reason += f" even at 1/{JPEG_REDUCTIONS[-1]} of its size"
                    elif progressive:
                        reason += (f"; a progressive JPEG opens reduced only up to {PROGRESSIVE_REDUCED_MAX} times "
                                   f"the limit")
                    raise ImageReadError(f"{path}: {reason}")
                size = path.stat().st_size
                if opened.format == "JPEG" and width * height > JPEG_PIXELS_PER_BYTE * size:
                    raise ImageReadError(f"{path}: not a readable {what} (declares {width}x{height} "
                                         f"pixels in only {size} bytes: damaged, or a decompression bomb)")
                if min(opened.size) < 1:
                    raise ImageReadError(f"{path}: the {what} declares no pixels ({width}x{height})")
                if reduction > 1:
                    opened.draft(opened.mode, (width // reduction, height // reduction))
                opened.load()
                yield opened, (height, width)
    except ImageReadError:
        raise
    except Image.DecompressionBombError:
        raise ImageReadError(f"{path}: declares more than {2 * limit / 1e6:g} MP, above the limit of "
                             f"{limit / 1e6:g} MP (set {MAX_PIXELS_ENV} or --max-pixels to raise it)") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not a readable {what} (no PNG, JPEG, BMP, TIFF or WebP data)") from None
    except MemoryError:
        raise ImageReadError(f"{path}: not enough memory to decode this {what}") from None
    except OSError as exc:
        if exc.filename is not None or exc.strerror:  # the file system's answer (permission denied, I/O error)
            raise ImageReadError(f"{path}: not a readable {what} ({exc.strerror or _one_line(exc)})") from None
        raise ImageReadError(f"{path}: not a readable {what} (damaged data: {_one_line(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - decoders raise many kinds on malformed data; each is the file's fault
        raise ImageReadError(f"{path}: not a readable {what} (damaged data: {_one_line(exc)})") from None


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


@dataclass(frozen=True)
class DecodedImage:
    """An image as :func:`open_image` decoded it: ``pixels`` (h, w) uint8 grey or (h, w, 3) uint8 RGB, and
    ``full_size`` (H, W), the size its file declares (larger than the pixels' when it was decoded reduced)."""

    pixels: np.ndarray
    full_size: tuple[int, int]

    @property
    def reduced(self) -> bool:
        """True when the pixels are fewer than the file's (a reduced decode)."""
        return self.pixels.shape[:2] != self.full_size

    def note(self, path: str | os.PathLike) -> str | None:
        """One line telling the user a reduced decode happened (None when it did not)."""
        if not self.reduced:
            return None
        (height, width), (full_height, full_width) = self.pixels.shape[:2], self.full_size
        return (f"{path}: opened at 1/{round(full_width / width)} size ({width}x{height} of {full_width}x"
                f"{full_height}, above the pixel limit); scribbles and masks are at that size (raise the limit with "
                f"{MAX_PIXELS_ENV} or --max-pixels for full size)")


def open_image(path: str | os.PathLike, max_pixels: int | None = None, reduce: bool = True) -> DecodedImage:
    """Read an image file as :class:`DecodedImage` (alpha and palettes resolved, 16-bit greys scaled to 8 bits).

    Images larger than :func:`pixel_limit` (``max_pixels``) are refused from their header, before decoding, except
    that with ``reduce`` a JPEG is decoded directly at 1/2, 1/4 or 1/8 of its size (the largest under the limit;
    :func:`reduction_for`; a progressive one only up to :data:`PROGRESSIVE_REDUCED_MAX` times the limit). Raises :class:`ImageReadError` naming the file and the problem.
    """
    path = Path(path)
    try:
        limit = pixel_limit(max_pixels)
    except ValueError as exc:
        raise ImageReadError(f"{path}: {exc}") from None
    with _open_checked(path, limit, "image", reduce) as (image, full_size):
        try:
            pixels = _pixels(image)
        except MemoryError:
            raise ImageReadError(f"{path}: not enough memory to convert this image") from None
        except (OSError, ValueError) as exc:
            raise ImageReadError(f"{path}: cannot convert its pixels ({image.mode}: {_one_line(exc)})") from None
    return DecodedImage(pixels, full_size)


def _pixels(image: Image.Image) -> np.ndarray:
    """A decoded Pillow image as (H, W) uint8 grey or (H, W, 3) uint8 RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float32)
        top = 65535.0 if array.max() > 255 else 255.0
        return np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if image.mode == "L":
        return np.asarray(image, dtype=np.uint8).copy()
    if image.mode in ("LA",):
        return np.asarray(image.convert("L"), dtype=np.uint8).copy()
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def read_image(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Read an image file at its full size as (H, W) uint8 grey or (H, W, 3) uint8 RGB (:func:`open_image` without
    reduced decoding: images above the pixel limit are refused)."""
    return open_image(path, max_pixels, reduce=False).pixels


def read_label_map(path: str | os.PathLike, max_pixels: int | None = None) -> np.ndarray:
    """Read an 8-bit label PNG (palette or grey) as (H, W) uint8 values, not colours (size limit as
    :func:`read_image`)."""
    path = Path(path)
    try:
        limit = pixel_limit(max_pixels)
    except ValueError as exc:
        raise ImageReadError(f"{path}: {exc}") from None
    with _open_checked(path, limit, "label map") as (image, _):
        if image.mode not in ("P", "L"):
            raise ImageReadError(f"{path}: a label map must be an 8-bit palette or grey PNG (found mode {image.mode})")
        return np.asarray(image, dtype=np.uint8).copy()


def fit_name(stem: str, tail: str = "", limit: int = NAME_MAX) -> str:
    """``stem + tail`` as one file name of at most ``limit`` bytes in the file system's encoding.

    A name that fits is returned unchanged (names round-trip as the file system gives them, undecodable bytes
    included). A longer one keeps ``tail``, the start of ``stem`` cut at a character boundary, and ``~`` plus 8 hex
    digits of the whole stem's SHA-1, so different long stems still get different names.
    """
    if len(os.fsencode(stem + tail)) <= limit:
        return stem + tail
    digest = "~" + hashlib.sha1(os.fsencode(stem)).hexdigest()[:8]
    budget = limit - len(os.fsencode(tail + digest))
    if budget < 0:
        raise ValueError(f"no name of {limit} bytes can end in {tail!r}")
    kept, used = [], 0
    for character in stem:
        size = len(os.fsencode(character))
        if used + size > budget:
            break
        kept.append(character)
        used += size
    return "".join(kept) + digest + tail


STEM_RESERVE = 32  # bytes kept free after a fitted stem for the endings derived from it (``_scribbles.png``, ...)


def fit_stem(stem: str, reserve: int = STEM_RESERVE) -> str:
    """An image's stem shortened (as :func:`fit_name` does) so that it plus any ending of up to ``reserve`` bytes is
    a valid file name: every file named after one image shares this one stem, so each can be found from another.
    Stems that leave room are returned unchanged."""
    return fit_name(stem, "", NAME_MAX - reserve)


TEMP_SUFFIX = ".tmp"


def temp_prefix(name: str) -> str:
    """How the temporary files :func:`atomic_path` writes for a file named ``name`` begin: ``.<name>.`` (then 8
    random characters and :data:`TEMP_SUFFIX`); ``name`` is shortened (:func:`fit_name`) so that all of it is still
    a valid file name."""
    return f".{fit_name(name, '', NAME_MAX - 14)}."


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    On any error the temporary file is removed and ``path`` is left as it was (old content or absent).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=TEMP_SUFFIX, dir=path.parent)
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
            skip: tuple[int, ...] = (255,), block_rows: int = 256) -> np.ndarray:
    """Blend class colours over an (H, W) or (H, W, 3|4) uint8 image: (H, W, 3) uint8. Labels in ``skip`` stay
    uncoloured. Works through ``block_rows`` rows at a time, so its float temporaries stay small (a 50 MP image:
    150 MB of output and a few MB besides, instead of 1.8 GB)."""
    rgb = np.asarray(image)
    colours = voc_palette()
    if palette is not None:
        palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        colours[: len(palette)] = palette
    out = np.empty((*labels.shape, 3), dtype=np.uint8)
    for top in range(0, labels.shape[0], block_rows):
        rows = slice(top, top + block_rows)
        part = rgb[rows, :, None] if rgb.ndim == 2 else rgb[rows, :, :3]
        blend = part.astype(np.float32) * (1 - alpha) + colours[labels[rows]].astype(np.float32) * alpha
        target = out[rows]
        np.copyto(target, np.clip(blend + 0.5, 0, 255).astype(np.uint8))
        np.copyto(target, part, where=np.isin(labels[rows], skip)[..., None])
    return out


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Atomically write an (H, W) or (H, W, 3) uint8 image; the format follows the suffix (PNG if unknown)."""
    suffix = Path(path).suffix.lower()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}.get(suffix, "PNG")
    with atomic_path(path) as temp:
        Image.fromarray(np.asarray(image, dtype=np.uint8)).save(temp, format=fmt)


def grey_to_uint8(values: np.ndarray) -> np.ndarray:
    """Map a float map in [0, 1] (e.g. uncertainty) to (H, W) uint8 0..255."""
    return np.clip(np.asarray(values, dtype=np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)
