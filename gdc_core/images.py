"""Pixel-array conversions between the image's full size and the network's working resolution."""
from __future__ import annotations

import cv2
import numpy as np

from .io import MAX_PIXELS_ENV


MIN_SIDE = 2  # pixels: the smallest height and width a segmentation works on


def too_small(width: int, height: int) -> str | None:
    """The reason a ``width`` x ``height`` image cannot be segmented, or None when it can."""
    if min(width, height) >= MIN_SIDE:
        return None
    return f"{width}x{height} pixels is too small to segment (at least {MIN_SIDE}x{MIN_SIDE})"


# Peak memory of a run beyond the program's own (~0.45 GB), fitted to measured peaks (CPU, default settings,
# outputs written): 24 MP with 2 classes 1.5 GB and with 8 classes 2.1 GB; 31 MP with 8 classes 2.5 GB; 50 MP with
# 2 classes 2.2 GB; with 255 classes 0.1 MP 2.8 GB, 0.16 MP 3.8 GB (50 samples) and 1.9 GB (10 samples), 0.93 MP
# 5.1 GB. Full-size work costs max(43, 7 K + 8) bytes a pixel (the (K, H, W) probabilities, their upsampling and
# refinement); work at the network's resolution max(35, 1.7 * samples) bytes per class and working pixel (the
# Monte-Carlo passes are kept per class).
RUN_BYTES_PER_PIXEL = 43


def run_bytes(shape: tuple[int, int], classes: int, max_side: int, samples: int) -> int:
    """Estimated peak bytes, beyond the program's own, of a run on an (H, W) ``shape`` image with ``classes``
    scribbled classes at working resolution ``max_side`` with ``samples`` Monte-Carlo passes (conservative: the
    stages' peaks are added although they come one after another)."""
    height, width = shape
    small_height, small_width = working_shape(shape, max_side)
    full_size = height * width * max(RUN_BYTES_PER_PIXEL, 7 * classes + 8)
    working = classes * small_height * small_width * max(35, 1.7 * samples)
    return int(full_size + working)


def run_budget(limit: int, max_side: int, samples: int) -> int:
    """The bytes a run may take under the pixel ``limit``: those of a two-class run on a ``limit``-pixel image
    (at the largest working size). Default limit, 400 px, 50 samples: 2.2 GB, peaks of about 2.6 GB."""
    return int(limit * RUN_BYTES_PER_PIXEL + 2 * max_side * max_side * max(35, 1.7 * samples))


def run_too_large(shape: tuple[int, int], classes: int, max_side: int, samples: int, limit: int) -> str | None:
    """The reason a run is refused, or None: its :func:`run_bytes` must not exceed :func:`run_budget` of the pixel
    ``limit`` (:func:`gdc_core.io.pixel_limit`)."""
    needed, budget = run_bytes(shape, classes, max_side, samples), run_budget(limit, max_side, samples)
    if needed <= budget:
        return None
    return (f"{shape[1]}x{shape[0]} with {classes} classes and {samples} samples needs about {needed / 1e9:.1f} GB, "
            f"more than the {budget / 1e9:.1f} GB of a two-class run on the limit of {limit / 1e6:g} MP (set "
            f"{MAX_PIXELS_ENV} or --max-pixels to raise it, or use fewer samples)")


def as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Any supported image array -> (H, W, 3) uint8 RGB.

    Accepts (H, W) grey, (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA (alpha dropped); uint8, uint16 (scaled),
    bool, or float in [0, 1].
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {array.shape}")
    reason = too_small(array.shape[1], array.shape[0])
    if reason is not None:
        raise ValueError(reason)
    array = array[..., :3]
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.uint16:
        return (array // 257).astype(np.uint8)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    return (np.clip(array.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def working_shape(shape: tuple[int, int], max_side: int) -> tuple[int, int]:
    """(h, w) with the longer side scaled down to ``max_side`` (never up), aspect ratio kept."""
    height, width = shape
    scale = min(1.0, max_side / max(height, width))
    return max(2, round(height * scale)), max(2, round(width * scale))


def resize_image(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Area-averaging resize of an (H, W, C) image to ``shape`` (h, w), same dtype."""
    if image.shape[:2] == tuple(shape):
        return image
    return cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def label_values(labels: np.ndarray) -> np.ndarray:
    """The distinct values of an (H, W) label map, ascending: ``np.unique(labels)``, from a histogram for uint8 maps
    (24 MP: 5 ms against 0.2 s)."""
    if labels.dtype != np.uint8:
        return np.unique(labels)
    counts = cv2.calcHist([np.ascontiguousarray(labels)], [0], None, [256], [0, 256]).ravel()
    return np.flatnonzero(counts).astype(np.uint8)


def decide(probabilities: np.ndarray) -> np.ndarray:
    """(K, H, W) class scores -> (H, W) uint8 index of the highest, the first on ties: ``argmax(0)`` by a running
    maximum over the K planes (numpy's argmax over the strided class axis took 0.5 s for 2 x 24 MP, this 0.02 s)."""
    if len(probabilities) == 2:
        return (probabilities[1] > probabilities[0]).view(np.uint8)
    best = probabilities[0].copy()
    index = np.zeros(best.shape, np.uint8)
    better = np.empty(best.shape, bool)
    for k in range(1, len(probabilities)):
        np.greater(probabilities[k], best, out=better)
        np.copyto(index, k, where=better)
        np.maximum(best, probabilities[k], out=best)
    return index


def downscale_labels(labels: np.ndarray, shape: tuple[int, int], empty: int) -> np.ndarray:
    """Shrink an (H, W) uint8 label map to ``shape`` without losing thin strokes.

    Each output pixel takes the label covering most of its footprint among the non-``empty`` labels; it is
    ``empty`` only when no labelled pixel falls inside it. (Nearest-neighbour sampling would drop a 3 px stroke
    on a 6000 px photo brought down to 400 px.)
    """
    shape = tuple(int(s) for s in shape)
    if labels.shape == shape:
        return labels.copy()
    out = np.full(shape, empty, dtype=np.uint8)
    best = np.zeros(shape, dtype=np.float32)
    for value in label_values(labels):
        if value == empty:
            continue
        coverage = cv2.resize((labels == value).astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        wins = coverage > best
        out[wins] = value
        best[wins] = coverage[wins]
    return out
