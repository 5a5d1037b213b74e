"""Edge-aware refinement of the network's averaged class probabilities at the image's resolution.

The lightweight network predicts at half the working resolution from early features, so its mask is blobby at
object borders and keeps small specks; the SLIC-expanded labels it learned from are themselves wrong where a
superpixel crosses an edge. GrabCut (Rother et al. 2004) fixes exactly that: colour models per side plus a
contrast-sensitive boundary term, solved by graph cut. Here it starts from the network's decision instead of a
user rectangle: pixels the network gives to a class are "probably" that class, stroke pixels are certain.

For K > 2 classes each class is cut against the rest (one-vs-rest); a pixel claimed by exactly one cut takes
that class, and a pixel claimed by none or several keeps the network's decision.
"""
from __future__ import annotations

import cv2
import numpy as np

from .images import downscale_labels, working_shape
from .scribbles import NO_LABEL


def grabcut_refine(image: np.ndarray, probabilities: np.ndarray, scribbles: np.ndarray, *, iterations: int = 5,
                   max_side: int = 1024) -> np.ndarray:
    """Refine a K-class decision with GrabCut seeded by the network.

    Args:
        image: (H, W, 3) uint8 RGB.
        probabilities: (K, H, W) float class probabilities (rows = class indices 0..K-1).
        scribbles: (H, W) uint8 class indices 0..K-1 on strokes, NO_LABEL elsewhere.
        iterations: GrabCut iterations.
        max_side: the cut runs at most at this resolution (longer side, pixels); its decision is brought back
            to (H, W) by nearest-neighbour scaling.

    Returns:
        (H, W) uint8 class indices.
    """
    full_shape = probabilities.shape[1:]
    decision = probabilities.argmax(0).astype(np.uint8)
    shape = working_shape(full_shape, max_side)
    if shape != tuple(full_shape):
        small_image = cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        small_probs = np.stack([cv2.resize(p, (shape[1], shape[0]), interpolation=cv2.INTER_AREA) for p in probabilities])
        small_strokes = downscale_labels(scribbles, shape, NO_LABEL)
    else:
        small_image, small_probs, small_strokes = image, probabilities, scribbles
    small_decision = small_probs.argmax(0).astype(np.uint8)
    classes = range(probabilities.shape[0])
    if probabilities.shape[0] == 2:
        refined = _cut(small_image, small_decision == 1, small_strokes, 1, iterations)
        result = np.where(refined, 1, 0).astype(np.uint8) if refined is not None else small_decision
    else:
        claims = np.zeros(shape, np.uint8)
        claimed_by = np.zeros(shape, np.uint8)
        for c in classes:
            won = _cut(small_image, small_decision == c, small_strokes, c, iterations)
            if won is None:
                won = small_decision == c
            claims += won
            claimed_by[won] = c
        result = np.where(claims == 1, claimed_by, small_decision).astype(np.uint8)
    if shape != tuple(full_shape):
        result = cv2.resize(result, (full_shape[1], full_shape[0]), interpolation=cv2.INTER_NEAREST)
    stroked = scribbles != NO_LABEL
    result[stroked] = scribbles[stroked]
    return result


def _cut(image: np.ndarray, probable: np.ndarray, strokes: np.ndarray, cls: int, iterations: int) -> np.ndarray | None:
    """One GrabCut of class ``cls`` against the rest: (H, W) bool, or None when a side has no pixels."""
    mask = np.where(probable, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    mask[strokes == cls] = cv2.GC_FGD
    mask[(strokes != cls) & (strokes != NO_LABEL)] = cv2.GC_BGD
    foreground = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    if foreground.all() or not foreground.any():
        return None
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(np.ascontiguousarray(image), mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return None
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
