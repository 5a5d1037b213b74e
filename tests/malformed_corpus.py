"""A deterministic corpus of malformed and unusual inputs: decompression bombs and huge headers, truncated and
corrupted files, garbage, valid images of unusual modes and tiny sizes, odd scribble maps, and odd file names.

    for case in cases():                      # a few hundred Case records, the same on every call and machine
        image, scribbles = case.write(folder) # the files, under the case's own (possibly odd) names

Every case says what a careful tool must do with it: ``OK`` (segmented: a mask of the image's size), ``REFUSED``
(one line naming the file and the reason, exit status 2) or ``EITHER`` (damaged data a decoder may or may not
accept; either outcome, never a traceback). Nothing here imports the project's code: the corpus is the input, not
the system under test.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

OK, REFUSED, EITHER = "ok", "refused", "either"
IMAGE, SCRIBBLES = "image", "scribbles"
SHAPE = (24, 32)  # (H, W) of the ordinary test image the cases are made from
SEED = 17
LIMIT = 50_000_000  # the pixel limit the cases are built around (gdc_core.io.DEFAULT_MAX_PIXELS)
FORMATS = {"png": "PNG", "jpg": "JPEG", "bmp": "BMP", "tif": "TIFF", "webp": "WEBP"}


@dataclass(frozen=True)
class Case:
    """One input. ``name``: the stem of its files (may hold undecodable bytes as surrogates); ``target``: which
    file is the odd one (``image`` or ``scribbles``); ``image`` / ``scribbles``: the two files' bytes and suffixes;
    ``expect``: OK, REFUSED or EITHER; ``shape``: (H, W) of the image when it decodes."""

    name: str
    group: str
    target: str
    image: bytes
    image_suffix: str
    scribbles: bytes
    expect: str
    shape: tuple[int, int] | None

    @property
    def image_name(self) -> str:
        return f"{self.name}.{self.image_suffix}"

    @property
    def scribbles_name(self) -> str:
        return f"s_{self.name[:200]}.png"

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write the image and its scribbles into ``folder``: (image path, scribbles path)."""
        folder.mkdir(parents=True, exist_ok=True)
        image, scribbles = folder / self.image_name, folder / self.scribbles_name
        image.write_bytes(self.image)
        scribbles.write_bytes(self.scribbles)
        return image, scribbles


# ------------------------------------------------------------------------------------------------ building blocks


def encode(array: np.ndarray, fmt: str, mode: str | None = None, **options) -> bytes:
    """``array`` saved as ``fmt``; the mode follows the dtype and shape (uint16: I;16, int32: I, float32: F, two
    channels: LA), except ``mode="P"``: (H, W) uint8 values as palette indices, grey palette."""
    buffer = io.BytesIO()
    if mode == "P":
        image = Image.frombytes("P", array.shape[::-1], np.ascontiguousarray(array, np.uint8).tobytes())
        image.putpalette([v for i in range(256) for v in (i, i, i)])
    else:
        image = Image.fromarray(array)
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def picture(shape=SHAPE) -> np.ndarray:
    """(H, W, 3) uint8: a dark left half, a bright right half, mild noise."""
    rng = np.random.default_rng(SEED)
    height, width = shape
    image = np.empty((height, width, 3), np.uint8)
    image[:, : width // 2] = 40
    image[:, width // 2:] = 200
    return np.clip(image.astype(int) + rng.integers(0, 20, image.shape), 0, 255).astype(np.uint8)


def strokes(shape=SHAPE, classes=(0, 1)) -> np.ndarray:
    """(H, W) uint8 scribbles: one vertical stroke per class, evenly spread, 255 elsewhere."""
    height, width = shape
    scribbles = np.full(shape, 255, np.uint8)
    for index, c in enumerate(classes):
        column = min(width - 1, int((index + 0.5) * width / len(classes)))
        scribbles[:, column] = c
    return scribbles


def label_png(labels: np.ndarray, mode: str = "L") -> bytes:
    """An (H, W) uint8 label map as a grey (``L``) or palette (``P``) PNG."""
    return encode(labels, "PNG", mode if mode == "P" else None)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int, colour_type: int = 2, depth: int = 8, idat: bytes | None = None) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` followed by a tiny (or the given) compressed stream."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    chunks = png_chunk(b"IHDR", header)
    if colour_type == 3:
        chunks += png_chunk(b"PLTE", bytes(range(48)))
    chunks += png_chunk(b"IDAT", idat if idat is not None else zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunks + png_chunk(b"IEND", b"")


def genuine_png(width: int, height: int) -> bytes:
    """A complete, valid black RGB PNG of ``width`` x ``height`` (compressed row by row, never held whole)."""
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return png_declaring(width, height, 2, 8, data)


def jpeg_declaring(width: int, height: int, grey: bool = False) -> bytes:
    """A small JPEG whose frame header (SOF0) is patched to declare ``width`` x ``height``."""
    base = picture((16, 16))
    data = bytearray(encode(base[..., 0] if grey else base, "JPEG"))
    at = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


def bmp_declaring(width: int, height: int) -> bytes:
    data = bytearray(encode(picture((8, 8)), "BMP"))
    struct.pack_into("<ii", data, 18, width, height)
    return bytes(data)


def tiff_declaring(width: int, height: int) -> bytes:
    """A small little-endian TIFF whose ImageWidth / ImageLength tags are patched."""
    data = bytearray(encode(picture((8, 8)), "TIFF"))
    (ifd,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd)
    for entry in range(count):
        at = ifd + 2 + 12 * entry
        tag, kind = struct.unpack_from("<HH", data, at)
        if tag in (256, 257):
            value = width if tag == 256 else height
            struct.pack_into("<H" if kind == 3 else "<I", data, at + 8, value)
    return bytes(data)


def webp_declaring(width: int, height: int) -> bytes:
    """A small lossy WebP whose VP8 frame header declares ``width`` x ``height`` (14 bits each)."""
    data = bytearray(encode(picture((16, 16)), "WEBP", lossless=False))
    at = data.find(b"\x9d\x01\x2a")
    struct.pack_into("<HH", data, at + 3, width & 0x3FFF, height & 0x3FFF)
    return bytes(data)


def flip_bytes(data: bytes, rng: np.random.Generator, count: int, skip: int = 8) -> bytes:
    """``data`` with ``count`` random bytes after the first ``skip`` replaced by random values."""
    out = bytearray(data)
    for at in rng.integers(skip, len(out), count):
        out[at] = int(rng.integers(0, 256))
    return bytes(out)


# ------------------------------------------------------------------------------------------------ the groups


def _bombs(good_scribbles: bytes) -> list[Case]:
    cases = []
    sizes = [(60000, 60000), (30000, 20000), (20000, 20000), (65535, 65535), (8000, 7000), (7072, 7072),
             (100_000, 600), (600, 100_000)]
    for width, height in sizes:
        for colour_type in (0, 2, 3, 6):
            cases.append(Case(f"bomb_png_{width}x{height}_c{colour_type}", "bomb", IMAGE,
                              png_declaring(width, height, colour_type), "png", good_scribbles, REFUSED, None))
        for grey in (False, True):
            if max(width, height) <= 65535:
                cases.append(Case(f"bomb_jpg_{width}x{height}_{'grey' if grey else 'rgb'}", "bomb", IMAGE,
                                  jpeg_declaring(width, height, grey), "jpg", good_scribbles, REFUSED, None))
        cases.append(Case(f"bomb_bmp_{width}x{height}", "bomb", IMAGE, bmp_declaring(width, height), "bmp",
                          good_scribbles, REFUSED, None))
        if max(width, height) <= 65535:
            cases.append(Case(f"bomb_tif_{width}x{height}", "bomb", IMAGE, tiff_declaring(width, height), "tif",
                              good_scribbles, REFUSED, None))
    for width, height in ((16383, 16383), (16383, 4000), (8000, 7000)):
        cases.append(Case(f"bomb_webp_{width}x{height}", "bomb", IMAGE, webp_declaring(width, height), "webp",
                          good_scribbles, REFUSED, None))
    # just under the limit: decoded for real (bounded by the limit), then found damaged
    cases.append(Case("bomb_jpg_under_limit", "bomb", IMAGE, jpeg_declaring(7000, 7000), "jpg", good_scribbles,
                      REFUSED, None))
    cases.append(Case("bomb_png_under_limit", "bomb", IMAGE, png_declaring(7000, 7000), "png", good_scribbles,
                      REFUSED, None))
    # a genuine, complete image above the limit
    cases.append(Case("genuine_png_8000x6400", "bomb", IMAGE, genuine_png(8000, 6400), "png", good_scribbles,
                      REFUSED, None))
    # a scribble map declaring a huge size beside a good image
    good_image = encode(picture(), "PNG")
    for width, height in ((60000, 60000), (8000, 7000)):
        cases.append(Case(f"bomb_scribbles_{width}x{height}", "bomb", SCRIBBLES, good_image, "png",
                          png_declaring(width, height, 0), REFUSED, SHAPE))
    return cases


def _damaged(good_scribbles: bytes, rng: np.random.Generator) -> list[Case]:
    cases = []
    for suffix, fmt in FORMATS.items():
        for grey in (False, True):
            array = picture()[..., 0] if grey else picture()
            whole = encode(array, fmt)
            tag = f"{suffix}_{'grey' if grey else 'rgb'}"
            for fraction in (0.0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.99):
                cut = whole[: int(len(whole) * fraction)]
                cases.append(Case(f"truncated_{tag}_{int(fraction * 100):02d}", "truncated", IMAGE, cut, suffix,
                                  good_scribbles, REFUSED if fraction < 0.5 else EITHER, SHAPE))
            for seed in range(6):
                cases.append(Case(f"corrupt_{tag}_{seed}", "corrupt", IMAGE, flip_bytes(whole, rng, 1 + 3 * seed),
                                  suffix, good_scribbles, EITHER, SHAPE))
    good_image = encode(picture(), "PNG")
    whole = label_png(strokes())
    for fraction in (0.1, 0.5, 0.9):
        cases.append(Case(f"truncated_scribbles_{int(fraction * 100)}", "truncated", SCRIBBLES, good_image, "png",
                          whole[: int(len(whole) * fraction)], REFUSED if fraction < 0.5 else EITHER, SHAPE))
    for seed in range(6):
        cases.append(Case(f"corrupt_scribbles_{seed}", "corrupt", SCRIBBLES, good_image, "png",
                          flip_bytes(whole, rng, 1 + 2 * seed), EITHER, SHAPE))
    return cases


def _garbage(good_scribbles: bytes, rng: np.random.Generator) -> list[Case]:
    cases = []
    contents = {"empty": b"", "one_byte": b"\x89", "random_100": rng.bytes(100), "random_10k": rng.bytes(10_000),
                "text": b"not an image at all\n" * 20, "html": b"<html><body>404</body></html>",
                "png_signature_only": b"\x89PNG\r\n\x1a\n", "png_no_idat": png_declaring(32, 24)[:33],
                "png_zero_size": png_declaring(0, 0), "png_bad_crc": _zero_header_crc(png_declaring(32, 24))}
    for label, data in contents.items():
        for suffix in ("png", "jpg", "tif"):
            cases.append(Case(f"garbage_{label}_{suffix}", "garbage", IMAGE, data, suffix, good_scribbles, REFUSED,
                              None))
    # a good image under another format's suffix is still an image
    for suffix, fmt in FORMATS.items():
        other = "PNG" if fmt != "PNG" else "JPEG"
        cases.append(Case(f"mislabelled_{suffix}", "garbage", IMAGE, encode(picture(), other), suffix,
                          good_scribbles, OK, SHAPE))
    return cases


def _zero_header_crc(png: bytes) -> bytes:
    """``png`` with the CRC of its IHDR chunk (bytes 29-32) zeroed."""
    return png[:29] + b"\0\0\0\0" + png[33:]


def _valid_unusual(rng: np.random.Generator) -> list[Case]:
    cases = []
    rgb = picture()
    grey = rgb[..., 0]
    scribbles = label_png(strokes())
    variants = {
        "mode1": (lambda fmt: encode(grey > 100, fmt), ("png", "bmp", "tif")),
        "grey": (lambda fmt: encode(grey, fmt), tuple(FORMATS)),
        "grey_alpha": (lambda fmt: encode(np.dstack([grey, grey]), fmt), ("png", "webp")),
        "rgba": (lambda fmt: encode(np.dstack([rgb, grey]), fmt), ("png", "tif", "webp")),
        "palette": (lambda fmt: _palette(rgb, fmt), ("png", "bmp", "tif")),
        "palette_transparent": (lambda fmt: _palette(rgb, fmt, transparency=0), ("png",)),
        "grey16": (lambda fmt: encode(grey.astype(np.uint16) * 257, fmt), ("png", "tif")),
        "int32": (lambda fmt: encode(grey.astype(np.int32) * 1000, fmt), ("tif",)),
        "float32": (lambda fmt: encode(grey.astype(np.float32) / 255, fmt), ("tif",)),
        "cmyk": (lambda fmt: _cmyk(rgb, fmt), ("jpg", "tif")),
        "progressive": (lambda fmt: encode(rgb, fmt, progressive=True), ("jpg",)),
        "interlaced": (lambda fmt: _interlaced(rgb), ("png",)),
    }
    for label, (make, suffixes) in variants.items():
        for suffix in suffixes:
            cases.append(Case(f"valid_{label}_{suffix}", "valid", IMAGE, make(FORMATS[suffix]), suffix, scribbles,
                              OK, SHAPE))
    for height, width in ((2, 2), (2, 3), (3, 3), (2, 500), (500, 2), (4, 4), (1, 1), (1, 40), (40, 1)):
        small = picture((height, width))
        ok = min(height, width) >= 2
        small_scribbles = np.full((height, width), 255, np.uint8)
        flat = small_scribbles.reshape(-1)
        flat[0], flat[-1] = 0, 1
        for suffix in ("png", "jpg"):
            cases.append(Case(f"tiny_{height}x{width}_{suffix}", "tiny", IMAGE, encode(small, FORMATS[suffix]),
                              suffix, label_png(small_scribbles), OK if ok else REFUSED, (height, width)))
    return cases


def _palette(rgb: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).quantize(16).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _cmyk(rgb: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buffer, format=fmt)
    return buffer.getvalue()


def _interlaced(rgb: np.ndarray) -> bytes:
    """An Adam7-interlaced PNG (Pillow writes none, so it is written here; every pass filter 0)."""
    height, width = rgb.shape[:2]
    passes = ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1))
    raw = b""
    for y0, x0, dy, dx in passes:
        sub = rgb[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\0" + row.tobytes() for row in sub)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def _scribble_maps(rng: np.random.Generator) -> list[Case]:
    image = encode(picture(), "PNG")
    height, width = SHAPE
    maps: dict[str, tuple[bytes, str]] = {}
    almost = np.zeros(SHAPE, np.uint8)
    almost[0, 0] = 1
    maps["almost_all_one_class"] = (label_png(almost), OK)
    corner = np.zeros(SHAPE, np.uint8)
    corner[-1, -1] = 7
    maps["almost_all_one_class_other_corner"] = (label_png(corner), OK)
    few = np.zeros(SHAPE, np.uint8)
    few[rng.random(SHAPE) < 0.02] = 1
    maps["one_class_with_specks"] = (label_png(few), OK)
    for seed in range(8):  # a JPEG-compressed scribble map read back: values near the classes, noise everywhere
        local = np.random.default_rng(seed)
        base = strokes(classes=(0, 1)).astype(int)
        noisy = np.where(local.random(SHAPE) < 0.3, base + local.integers(-3, 4, SHAPE), base)
        maps[f"jpeg_like_noise_{seed}"] = (label_png(np.clip(noisy, 0, 255).astype(np.uint8)), OK)
    for classes in (3, 5, 20, 100, 255):
        local = np.random.default_rng(classes)
        values = local.integers(0, classes, SHAPE).astype(np.uint8)
        values[local.random(SHAPE) < 0.5] = 255
        maps[f"noise_{classes}_classes"] = (label_png(values), OK)
    maps["every_value"] = (label_png(np.arange(height * width, dtype=np.uint32).reshape(SHAPE).astype(np.uint8)), OK)
    maps["two_classes_no_gaps"] = (label_png((np.arange(width) >= width // 2).astype(np.uint8)[None].repeat(height, 0)),
                                   OK)
    dots = np.full(SHAPE, 255, np.uint8)
    dots[0, 0], dots[-1, -1] = 0, 1
    maps["one_pixel_per_class"] = (label_png(dots), OK)
    extremes = strokes(classes=(0, 254))
    maps["classes_0_and_254"] = (label_png(extremes), OK)
    border = np.full(SHAPE, 255, np.uint8)
    border[0, :], border[-1, :] = 0, 1
    maps["border_rows_only"] = (label_png(border), OK)
    maps["palette_mode"] = (label_png(strokes(), "P"), OK)
    maps["no_strokes"] = (label_png(np.full(SHAPE, 255, np.uint8)), REFUSED)
    maps["one_class"] = (label_png(strokes(classes=(3,))), REFUSED)
    maps["all_one_class"] = (label_png(np.full(SHAPE, 2, np.uint8)), REFUSED)
    maps["wrong_size"] = (label_png(strokes((height + 1, width))), REFUSED)
    maps["transposed"] = (label_png(strokes((width, height))), REFUSED)
    maps["tiny_map"] = (label_png(strokes((2, 2))), REFUSED)
    maps["rgb_mode"] = (encode(np.dstack([strokes()] * 3), "PNG"), REFUSED)
    maps["rgba_mode"] = (encode(np.dstack([strokes()] * 4), "PNG"), REFUSED)
    maps["grey16_mode"] = (encode(strokes().astype(np.uint16), "PNG"), REFUSED)
    maps["mode1"] = (encode(strokes() > 0, "PNG"), REFUSED)
    maps["jpeg_file"] = (encode(strokes(), "JPEG"), EITHER)  # grey, so read as values: noise around the strokes
    maps["garbage"] = (rng.bytes(300), REFUSED)
    maps["empty"] = (b"", REFUSED)
    return [Case(f"scribbles_{label}", "scribbles", SCRIBBLES, image, "png", data, expect, SHAPE)
            for label, (data, expect) in maps.items()]


def _names() -> list[Case]:
    image = encode(picture(), "PNG")
    scribbles = label_png(strokes())
    names = {
        "non_utf8": os.fsdecode(b"caf\xe9_\xff\xfe"),
        "long_250_bytes": "n" * 246,  # 246 + ".png" = 250 bytes
        "long_255_bytes": "m" * 251,
        "long_multibyte": "é" * 120 + "x",  # 241 bytes + ".png"
        "spaces_and_newline": "a photo\nwith a newline",
        "leading_dash": "-dash",
        "format_braces": "{0} %s %(x)d",
        "unicode": "фото_写真_🙂",
        "dots": "..many.dots.",
    }
    return [Case(stem, "names", IMAGE, image, "png", scribbles, OK, SHAPE) for stem in names.values()]


def cases() -> list[Case]:
    """Every case, in a fixed order, with unique image names."""
    rng = np.random.default_rng(SEED)
    good_scribbles = label_png(strokes())
    everything = (_bombs(good_scribbles) + _damaged(good_scribbles, rng) + _garbage(good_scribbles, rng)
                  + _valid_unusual(rng) + _scribble_maps(rng) + _names())
    names = [c.name for c in everything]
    assert len(set(names)) == len(names), "case names must be unique"
    return everything


if __name__ == "__main__":
    import collections

    counted = collections.Counter((c.group, c.expect) for c in cases())
    for (group, expect), count in sorted(counted.items()):
        print(f"{group:10s} {expect:8s} {count}")
    print("total", sum(counted.values()))
