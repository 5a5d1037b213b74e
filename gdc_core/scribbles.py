"""Scribble conventions and their expansion to whole SLIC superpixels (paper Fig. 6).

A scribble map is an (H, W) uint8 array: stroke pixels hold the class id (0 = background), 255 = no stroke.
"""
from __future__ import annotations

import numpy as np

from .images import label_values

NO_LABEL = 255
BACKGROUND = 0  # the class whose strokes mark what is not an object (see prior.py)


class ScribbleError(ValueError):
    """Scribbles that cannot drive a segmentation (wrong size, too few classes, bad values)."""


def validate_scribbles(scribbles: np.ndarray, image_shape: tuple[int, int]) -> tuple[int, ...]:
    """Check a scribble map against its image and return the scribbled class ids, ascending.

    Raises :class:`ScribbleError` when the map is not 2-D, has another size than ``image_shape`` (H, W), or
    carries fewer than two classes.
    """
    if scribbles.ndim != 2:
        raise ScribbleError(f"scribbles must be a single-channel label map, got shape {scribbles.shape}")
    if scribbles.shape != tuple(image_shape):
        raise ScribbleError(
            f"scribbles are {scribbles.shape[1]}x{scribbles.shape[0]} but the image is "
            f"{image_shape[1]}x{image_shape[0]} (width x height)"
        )
    classes = tuple(int(c) for c in label_values(scribbles) if c != NO_LABEL)
    if len(classes) < 2:
        found = "no strokes" if not classes else f"only class {classes[0]}"
        raise ScribbleError(f"scribbles need at least two classes (found {found})")
    return classes


def compute_superpixels(image: np.ndarray, n_segments: int, compactness: float = 10.0,
                        iterations: int = 10) -> np.ndarray:
    """SLIC over-segmentation of an (H, W, 3) float image in [0, 1] with at most ``iterations`` k-means
    iterations: (H, W) int32 labels from 0."""
    from skimage.segmentation import slic

    return slic(image, n_segments=n_segments, compactness=compactness, max_num_iter=iterations, start_label=0,
                channel_axis=-1 if image.ndim == 3 else None, enforce_connectivity=True).astype(np.int32)


def expand_scribbles(scribbles: np.ndarray, superpixels: np.ndarray) -> np.ndarray:
    """Give every superpixel touched by strokes of exactly one class that class (paper Fig. 6).

    A superpixel touched by strokes of two or more classes is ambiguous: it is not expanded, and only its stroke
    pixels keep their labels (the strokes are the annotator's only certain statement there).

    Args:
        scribbles: (H, W) uint8 scribble map (255 = no stroke).
        superpixels: (H, W) int superpixel labels (any non-negative ids).

    Returns:
        (H, W) uint8 training labels, 255 where unlabelled.
    """
    stroked = scribbles != NO_LABEL
    segment_ids = superpixels[stroked].astype(np.int64)
    classes = scribbles[stroked].astype(np.int64)
    pairs = np.unique(segment_ids * 256 + classes)
    pair_segments, pair_classes = pairs // 256, pairs % 256
    segments, counts = np.unique(pair_segments, return_counts=True)
    lookup = np.full(int(superpixels.max()) + 1, NO_LABEL, dtype=np.uint8)
    single = segments[counts == 1]
    lookup[single] = pair_classes[np.isin(pair_segments, single)]
    expanded = lookup[superpixels]
    expanded[stroked] = scribbles[stroked]
    return expanded
