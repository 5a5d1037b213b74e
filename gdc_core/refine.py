"""Edge-aware refinement and clean-up of the network's averaged class probabilities.

The lightweight network predicts at half the working resolution from early features, so its mask is blobby at
object borders and keeps specks far from the strokes; the SLIC-expanded labels it learned from are themselves
wrong where a superpixel crosses an edge. Three stages, each optional (``SegmenterConfig.refine``):

``grabcut``: GrabCut (Rother et al. 2004; colour models per side plus a contrast-sensitive boundary term,
    solved by graph cut) started from the network's decision instead of a user rectangle: pixels the network
    gives to a class are "probably" that class, stroke pixels are certain. For K > 2 each class is cut against
    the rest; a pixel claimed by exactly one cut takes that class, one claimed by none or several keeps the
    network's decision. The K cuts run in parallel threads.
``seeded``: every connected region of a class must touch a stroke of that class (the annotator painted each
    object they meant); regions that touch none are given the nearest kept label. This removes specks and
    fills holes the annotator never asked for, the same prior marker-based watershed has built in.

``snap``: marker-controlled watershed in the border band: every class keeps the pixels deeper than
    :data:`SNAP_MARGIN` inside its regions (and its strokes), and the band between them goes to the class whose
    marker the image's gradient reaches first, so borders settle on edges: what GrabCut's colour models cannot
    separate (grey scans) the gradient often can (docs/method.md). The seeded clean-up runs again after it.

With ``grabcut+seeded`` the seeded clean-up runs before GrabCut too, so that GrabCut's
colour models are learnt from regions anchored to the strokes rather than from the network's stray specks, and
again after it (docs/method.md).

Both run at a bounded resolution; the decision is brought back to full size where it differs from the network's.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
from scipy import ndimage

from .images import decide, downscale_labels, label_values, working_shape
from .scribbles import NO_LABEL

GRABCUT_SEED = 0
SNAP_MARGIN = 6  # px at the stages' resolution: the border band the ``snap`` stage re-decides


# class index -> its cut's (background, foreground) GrabCut colour models, (1, 65) float64 each (OpenCV's layout)
ColourModels = dict[int, tuple[np.ndarray, np.ndarray]]


def refine_labels(image: np.ndarray, probabilities: np.ndarray, strokes: np.ndarray, stages: tuple[str, ...], *,
                  iterations: int = 2, band: int = 0, max_side: int = 512,
                  colour_models: ColourModels | None = None) -> np.ndarray:
    """Apply refinement ``stages`` to the network's decision.

    Args:
        image: (H, W, 3) uint8 RGB.
        probabilities: (K, H, W) float class probabilities (rows = class indices 0..K-1).
        strokes: (H, W) uint8 class indices 0..K-1 on strokes, NO_LABEL elsewhere.
        stages: the finishing stages of ``config.parse_refine`` (``grabcut``, ``seeded``; ``prior`` acts in training
            and is ignored here), in order.
        iterations: GrabCut iterations.
        band: GrabCut may change only pixels within this many pixels (at the stages' resolution) of the border of the
            decision it starts from; farther ones are fixed (0: no band, every pixel may change).
        max_side: the stages run at most at this resolution (longer side, pixels): GrabCut's cost grows with the
            pixels, and 512 px covers the dev images at full resolution.
        colour_models: GrabCut's colour models of earlier refinements of the same image, by class (read and
            updated; None: none kept). A class's cut starts from its models when there are some (OpenCV's GC_EVAL:
            no k-means initialisation, and colour models that already fit: 40-45 % of a cut's time saved) and writes
            back the ones it fitted: the warm start of the refinement after one more stroke.

    Returns:
        (H, W) uint8 class indices; stroke pixels always keep their class.
    """
    full_shape = probabilities.shape[1:]
    decision = decide(probabilities)
    shape = working_shape(full_shape, max_side)
    scaled = shape != tuple(full_shape)
    if scaled:
        size = (shape[1], shape[0])
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        small_decision = decide(np.stack([cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in probabilities]))
        small_strokes = downscale_labels(strokes, shape, NO_LABEL)
    else:
        small_decision, small_strokes = decision, strokes
    result = small_decision.astype(np.uint8)
    if "grabcut" in stages:
        if "seeded" in stages:
            result = keep_seeded_regions(result, small_strokes)
        result = grabcut_labels(image, result, small_strokes, probabilities.shape[0], iterations, band, colour_models)
    if "seeded" in stages:
        result = keep_seeded_regions(result, small_strokes)
    if "snap" in stages:
        result = snap_to_edges(image, result, small_strokes)
        if "seeded" in stages:
            result = keep_seeded_regions(result, small_strokes)
    if scaled:
        changed = cv2.resize((result != small_decision).astype(np.uint8), (full_shape[1], full_shape[0]),
                             interpolation=cv2.INTER_NEAREST).astype(bool)
        upscaled = cv2.resize(result, (full_shape[1], full_shape[0]), interpolation=cv2.INTER_NEAREST)
        result = np.where(changed, upscaled, decision)
    stroked = strokes != NO_LABEL
    result[stroked] = strokes[stroked]
    if "seeded" in stages and scaled:  # the full-size decision kept outside the changes can hold specks of its own
        result = keep_seeded_regions(result, strokes, fill=upscaled)
    return result


def grabcut_labels(image: np.ndarray, decision: np.ndarray, strokes: np.ndarray, classes: int,
                   iterations: int = 2, band: int = 0, colour_models: ColourModels | None = None) -> np.ndarray:
    """GrabCut seeded by ``decision`` (H, W) class indices and ``strokes``: (H, W) uint8 class indices (``band``,
    ``colour_models``: see :func:`refine_labels`)."""
    models = colour_models if colour_models is not None else {}
    cut_classes = [1] if classes == 2 else list(range(classes))

    def cut(c: int):
        return _cut(image, decision == c, strokes, c, iterations, band, models.get(c))

    if len(cut_classes) == 1:
        cuts = [cut(1)]
    else:
        with ThreadPoolExecutor(max_workers=min(classes, os.cpu_count() or 1)) as pool:  # OpenCV releases the GIL
            cuts = list(pool.map(cut, cut_classes))
    for c, (_, fitted) in zip(cut_classes, cuts):
        if fitted is not None:
            models[c] = fitted
    if classes == 2:
        won = cuts[0][0]
        return decision.copy() if won is None else won.astype(np.uint8)
    claims = np.zeros(decision.shape, np.uint8)
    claimed_by = np.zeros(decision.shape, np.uint8)
    for c, (won, _) in zip(cut_classes, cuts):
        if won is None:
            won = decision == c
        claims += won
        claimed_by[won] = c
    return np.where(claims == 1, claimed_by, decision).astype(np.uint8)


def _cut(image: np.ndarray, probable: np.ndarray, strokes: np.ndarray, cls: int, iterations: int,
         band: int = 0, start: tuple[np.ndarray, np.ndarray] | None = None):
    """One GrabCut of class ``cls`` against the rest: ((H, W) bool, its fitted (background, foreground) colour
    models), or (None, None) when a side has no pixels.

    With ``band`` > 0, pixels farther than ``band`` from the other side (Euclidean distance) are fixed to their side:
    the graph cut still spans the image, but its flow only has to settle along the border (20-40 % faster at 64 px).
    With ``start`` models the cut begins from them instead of from k-means (GC_EVAL).

    GrabCut's colour models start from k-means on OpenCV's per-thread random generator; it is seeded first so that a
    cut does not depend on what ran before it on that thread."""
    mask = np.where(probable, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    if band > 0:
        inside = probable.astype(np.uint8)
        mask[cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) > band] = cv2.GC_FGD
        mask[cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) > band] = cv2.GC_BGD
    mask[strokes == cls] = cv2.GC_FGD
    mask[(strokes != cls) & (strokes != NO_LABEL)] = cv2.GC_BGD
    foreground = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    if foreground.all() or not foreground.any():
        return None, None
    if start is None:
        bgd, fgd, mode = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64), cv2.GC_INIT_WITH_MASK
    else:
        bgd, fgd, mode = start[0].copy(), start[1].copy(), cv2.GC_EVAL
    cv2.setRNGSeed(GRABCUT_SEED)
    try:
        cv2.grabCut(np.ascontiguousarray(image), mask, None, bgd, fgd, iterations, mode)
    except cv2.error:
        return None, None
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), (bgd, fgd)


def grow_markers(image: np.ndarray, markers: np.ndarray) -> np.ndarray:
    """OpenCV's marker watershed on ``image`` ((H, W, 3) uint8) from ``markers`` ((H, W) int32: 0 unknown, c + 1 for
    class index c), modified in place. The one-pixel watershed lines between regions take the largest neighbouring
    marker. Returns (H, W) uint8 class indices."""
    cv2.watershed(np.ascontiguousarray(image), markers)
    lines = markers <= 0
    if lines.any():
        grown = cv2.dilate(np.where(lines, 0, markers).astype(np.float32), np.ones((3, 3), np.uint8))
        markers[lines] = grown[lines].astype(np.int32)
    return (np.maximum(markers, 1) - 1).astype(np.uint8)


def snap_to_edges(image: np.ndarray, labels: np.ndarray, strokes: np.ndarray, margin: float = SNAP_MARGIN) -> np.ndarray:
    """The ``snap`` stage: pixels of ``labels`` ((H, W) uint8 class indices) farther than ``margin`` pixels from their
    region's border, and the strokes ((H, W) uint8 class indices, NO_LABEL where unpainted), are markers; the rest
    is decided by :func:`grow_markers` on ``image`` ((H, W, 3) uint8). Returns (H, W) uint8."""
    markers = np.zeros(labels.shape, np.int32)
    for cls in label_values(labels):
        inside = np.pad(labels == cls, 1).astype(np.uint8)
        markers[cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1] > margin] = int(cls) + 1
    painted = strokes != NO_LABEL
    markers[painted] = strokes[painted].astype(np.int32) + 1
    return grow_markers(image, markers)


def unseeded(labels: np.ndarray, strokes: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of 8-connected regions of a class that touch no stroke of that class (classes without
    strokes excepted). ``labels`` and ``strokes`` are (H, W) uint8 class indices (strokes NO_LABEL where unpainted)."""
    dropped = np.zeros(labels.shape, bool)
    for cls in label_values(labels):
        seeds = strokes == cls
        if not seeds.any():
            continue
        count, regions = cv2.connectedComponents((labels == cls).astype(np.uint8), connectivity=8)
        if count <= 2:
            continue
        seeded = np.zeros(count, bool)
        seeded[np.unique(regions[seeds & (labels == cls)])] = True
        seeded[0] = True  # the "not this class" region
        dropped |= ~seeded[regions]
    return dropped


def keep_seeded_regions(labels: np.ndarray, strokes: np.ndarray, fill: np.ndarray | None = None) -> np.ndarray:
    """Drop every 8-connected region of a class that touches no stroke of that class (:func:`unseeded`); refill it
    from ``fill`` ((H, W) uint8, e.g. a coarser clean decision) where that anchors it, else from the nearest kept
    pixel. ``labels`` and ``strokes`` are (H, W) uint8 class indices (strokes NO_LABEL where unpainted).

    Returns (H, W) uint8. Classes without any stroke keep their regions (nothing to anchor them to).
    """
    dropped = unseeded(labels, strokes)
    if fill is not None and dropped.any():
        labels = np.where(dropped, fill, labels)
        dropped = unseeded(labels, strokes)
    if not dropped.any() or dropped.all():
        return labels
    nearest = ndimage.distance_transform_edt(dropped, return_distances=False, return_indices=True)
    return labels[nearest[0], nearest[1]]
