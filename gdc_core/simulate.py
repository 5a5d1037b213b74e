"""Seeded simulation of the ways annotators scribble, from a ground-truth label map.

Annotators scribble in many styles, and a segmenter must be good in every one. Each style below draws strokes
for every class of an (H, W) uint8 ground truth (255 = ignore): every stroke pixel lies inside its class's
region, and the same ``(gt, style, seed)`` always gives the same strokes.

``skeleton``   one 3 px stroke along the longest path of the skeleton of each region (the object's and the
               background's), as the DAVIS interactive benchmark simulates scribbles.
``one-sided``  the objects' skeleton strokes, and one straight background stroke on one side of the objects only
               (left, right, above or below): the style in which a network gives far-away background to the
               object.
``around``     the objects' skeleton strokes, and a background stroke around each object at a distance from it.
``clicks``     a 5 px-radius disk per object at its interior point farthest from its border (the first click of
               the interactive-segmentation robot), and one or two at random background points.
``dabs``       one to three short strokes (15-40 px) at random inside each region.
``thick``      the ``skeleton`` strokes with a 15 px brush.

Stroke sizes are for a 854 px long side (DAVIS frames) and scale with the image. Regions smaller than
:data:`MIN_REGION` of the image get no stroke of their own (an annotator would not see them).
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order

from .evaluation import IGNORE
from .scribbles import BACKGROUND, NO_LABEL

STYLES = ("skeleton", "one-sided", "around", "clicks", "dabs", "thick")
MIN_REGION = 0.0005  # fraction of the image
REFERENCE_SIDE = 854  # px: stroke sizes below are for an image whose longer side is this long
MAX_REGIONS = 4  # per class: the largest ones
CLICK_RADIUS = 5  # px at REFERENCE_SIDE: a click is a disk of this radius


class SimulationError(ValueError):
    """A ground truth from which a style cannot draw strokes (unknown style, no regions)."""


def simulate_scribbles(gt: np.ndarray, style: str, seed: int = 0) -> np.ndarray:
    """Strokes in ``style`` for every class of ``gt``.

    Args:
        gt: (H, W) uint8 class ids, 255 = ignore (never stroked). Class 0 is the background.
        style: one of :data:`STYLES`.
        seed: seed of every random choice (side, click positions, jitter).

    Returns:
        (H, W) uint8 scribble map: class id on stroke pixels, 255 elsewhere.
    """
    if style not in STYLES:
        raise SimulationError(f"unknown scribble style {style!r}; choose one of {', '.join(STYLES)}")
    gt = np.asarray(gt)
    if gt.ndim != 2:
        raise SimulationError(f"ground truth must be an (H, W) label map, got shape {gt.shape}")
    rng = np.random.default_rng([seed, STYLES.index(style)])
    scale = max(gt.shape) / REFERENCE_SIDE
    out = np.full(gt.shape, NO_LABEL, dtype=np.uint8)
    classes = [int(c) for c in np.unique(gt) if c != IGNORE]
    objects = [c for c in classes if c != BACKGROUND]
    for cls in classes:
        region = gt == cls
        if cls == BACKGROUND and style == "one-sided" and objects:
            strokes = _one_sided_stroke(region, gt != BACKGROUND, scale, rng)
        elif cls == BACKGROUND and style == "around" and objects:
            strokes = _around_strokes(region, gt, objects, scale)
        elif style == "clicks":
            strokes = _click(region, scale, rng, farthest=cls != BACKGROUND,
                             count=1 if cls != BACKGROUND else int(rng.integers(1, 3)))
        elif style == "dabs":
            strokes = _dabs(region, scale, rng)
        else:
            width = 15 if style == "thick" else 3
            strokes = skeleton_strokes(region, stroke_px(width, scale), scale, rng)
        out[strokes & region & (out == NO_LABEL)] = cls
    return out


def stroke_px(size: float, scale: float) -> int:
    """``size`` px at :data:`REFERENCE_SIDE` times ``scale`` (the image's longer side / REFERENCE_SIDE), at least 1."""
    return max(1, int(round(size * scale)))


def _regions(mask: np.ndarray) -> list[np.ndarray]:
    """The largest (at most MAX_REGIONS) 8-connected components of ``mask`` of at least MIN_REGION of the image."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    floor = max(4, MIN_REGION * mask.size)
    ids = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= floor]
    ids.sort(key=lambda i: -stats[i, cv2.CC_STAT_AREA])
    return [labels == i for i in ids[:MAX_REGIONS]]


def _interior(region: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """(the region's pixels farther than ``margin`` from its border, or the inner half when it is too thin;
    the distance transform)."""
    distance = cv2.distanceTransform(np.pad(region, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    margin = min(margin, 0.5 * float(distance.max()))
    return distance > margin, distance


def longest_path(mask: np.ndarray) -> np.ndarray:
    """The longest shortest path (graph diameter, two breadth-first sweeps) through the 8-connected pixels of the
    largest component of ``mask``: (N, 2) int (row, col) in order along the path; empty when ``mask`` is."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count < 2:
        return np.zeros((0, 2), int)
    largest = 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    rows, cols = np.nonzero(labels == largest)
    index = np.full(mask.shape, -1, np.int64)
    index[rows, cols] = np.arange(len(rows))
    padded = np.pad(index, 1, constant_values=-1)
    sources, targets = [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                neighbour = padded[rows + 1 + dy, cols + 1 + dx]
                keep = neighbour >= 0
                sources.append(np.arange(len(rows))[keep])
                targets.append(neighbour[keep])
    source, target = np.concatenate(sources), np.concatenate(targets)
    graph = coo_matrix((np.ones(len(source)), (source, target)), shape=(len(rows), len(rows))).tocsr()
    order, _ = breadth_first_order(graph, 0, directed=False)
    start = order[-1]
    order, predecessors = breadth_first_order(graph, start, directed=False)
    node, path = order[-1], []
    while node >= 0:
        path.append(node)
        node = predecessors[node]
    path = np.asarray(path)
    return np.stack([rows[path], cols[path]], axis=1)


def _draw_path(shape: tuple[int, int], path: np.ndarray, width: int, jitter: float,
               rng: np.random.Generator) -> np.ndarray:
    """A polyline through every ``step``-th point of ``path`` ((N, 2) row, col), each point moved by a Gaussian of
    ``jitter`` px, drawn ``width`` px wide: (H, W) bool."""
    canvas = np.zeros(shape, np.uint8)
    if len(path) == 0:
        return canvas.astype(bool)
    points = path[:: max(1, len(path) // 12)].astype(np.float64)
    if len(points) < 2 or not np.array_equal(points[-1], path[-1]):
        points = np.vstack([points, path[-1]])
    points += rng.normal(0.0, jitter, points.shape)
    xy = np.round(points[:, ::-1]).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [xy], False, 1, thickness=width, lineType=cv2.LINE_8)
    if len(path) == 1:
        cv2.circle(canvas, (int(xy[0, 0, 0]), int(xy[0, 0, 1])), max(1, width // 2), 1, -1)
    return canvas.astype(bool)


def skeleton_strokes(region: np.ndarray, width: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """One stroke along the longest skeleton path of each of the region's components, kept ``width`` px plus a
    margin away from the border."""
    from skimage.morphology import skeletonize

    out = np.zeros(region.shape, bool)
    for component in _regions(region):
        inner, _ = _interior(component, width / 2 + stroke_px(4, scale))
        path = longest_path(skeletonize(inner))
        jitter = 0.15 * min(width / 2 + stroke_px(4, scale), stroke_px(8, scale))
        out |= _draw_path(region.shape, path, width, jitter, rng) & component
    return out


def _one_sided_stroke(background: np.ndarray, objects: np.ndarray, scale: float,
                      rng: np.random.Generator) -> np.ndarray:
    """One straight 3 px background stroke, parallel to one side of the objects' bounding box, halfway between it
    and the image border, 60 % as long as that side; the side is drawn at random among those with room."""
    height, width = background.shape
    rows, cols = np.nonzero(objects)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    gaps = {"left": left, "right": width - 1 - right, "above": top, "below": height - 1 - bottom}
    room = [side for side, gap in gaps.items() if gap >= stroke_px(12, scale)] or [max(gaps, key=gaps.get)]
    side = room[int(rng.integers(len(room)))]
    centre_row, centre_col = (top + bottom) / 2, (left + right) / 2
    if side in ("left", "right"):
        col = left / 2 if side == "left" else (right + width - 1) / 2
        half = 0.3 * (bottom - top + 1)
        ends = [(centre_row - half, col), (centre_row + half, col)]
    else:
        row = top / 2 if side == "above" else (bottom + height - 1) / 2
        half = 0.3 * (right - left + 1)
        ends = [(row, centre_col - half), (row, centre_col + half)]
    path = np.asarray(ends)
    stroke = _draw_path(background.shape, path, stroke_px(3, scale), 0.0, rng)
    return stroke & background


def _around_strokes(background: np.ndarray, gt: np.ndarray, objects: list[int], scale: float) -> np.ndarray:
    """A 3 px background stroke along the outline of each object dilated by 10 % of its size (at least 10 px)."""
    out = np.zeros(background.shape, bool)
    for cls in objects:
        for component in _regions(gt == cls):
            rows, cols = np.nonzero(component)
            size = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
            margin = max(stroke_px(10, scale), int(0.1 * size))
            grown = cv2.dilate(component.astype(np.uint8), cv2.getStructuringElement(
                cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1)))
            contours, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            canvas = np.zeros(background.shape, np.uint8)
            cv2.drawContours(canvas, contours, -1, 1, thickness=stroke_px(3, scale))
            out |= canvas.astype(bool)
    return out & background


def _click(region: np.ndarray, scale: float, rng: np.random.Generator, farthest: bool, count: int) -> np.ndarray:
    """``count`` disks of radius 5 px in the largest component of ``region``: at the interior point farthest from
    its border (``farthest``, one disk) or at random interior points."""
    out = np.zeros(region.shape, np.uint8)
    components = _regions(region)
    radius = stroke_px(CLICK_RADIUS, scale)
    for component in components if farthest else components[:1]:
        inner, distance = _interior(component, radius + stroke_px(3, scale))
        if farthest:
            centres = [np.unravel_index(int(np.argmax(distance)), distance.shape)]
        else:
            rows, cols = np.nonzero(inner)
            picks = rng.choice(len(rows), size=min(count, len(rows)), replace=False)
            centres = [(rows[p], cols[p]) for p in picks]
        for row, col in centres:
            cv2.circle(out, (int(col), int(row)), radius, 1, -1)
    return out.astype(bool)


def _dabs(region: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """One to three short straight 3 px strokes (15-40 px, random direction) centred at random interior points of
    each component of ``region``."""
    out = np.zeros(region.shape, bool)
    for component in _regions(region):
        inner, _ = _interior(component, stroke_px(6, scale))
        rows, cols = np.nonzero(inner)
        for pick in rng.choice(len(rows), size=min(int(rng.integers(1, 4)), len(rows)), replace=False):
            half = rng.uniform(7.5, 20.0) * scale
            angle = rng.uniform(0, np.pi)
            delta = half * np.array([np.sin(angle), np.cos(angle)])
            centre = np.array([rows[pick], cols[pick]], float)
            out |= _draw_path(region.shape, np.stack([centre - delta, centre + delta]), stroke_px(3, scale), 0.0, rng)
    return out & region
