"""The spatial prior: an object lies near the strokes that mark it.

With class 0 as the background, every other class is an object, and pixels far from every stroke of an object
class are background unless the image says otherwise. The network alone has no such notion: trained on one
background stroke on one side of the picture, it gives the object's class to whatever does not look like that
stroke (a field of grass, the sky), and GrabCut started from that decision keeps it. GrabCut started from the
strokes' bounding box does not, because it assumes the object lies inside the box.

An object class *reaches* the pixels *near* its strokes, within ``max(min_reach * L, reach_factor * e)`` of them
(L the image's longer side, e half the diagonal of the bounding box of the class's strokes), and every pixel of
the convex hull of its strokes, the background strokes and the image border pixels near its strokes: an
annotator who puts background strokes round an object (or on one side of it) says that the object may extend up
to them, and nothing about the other side; an object stroked near the border may continue past it. Every size
here is in pixels of the label map given.
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from .scribbles import NO_LABEL


def class_reach(strokes: np.ndarray, cls: int, min_reach: float, reach_factor: float) -> float:
    """The reach (pixels) of class index ``cls`` from its strokes in ``strokes`` ((h, w) uint8 class indices,
    NO_LABEL where unpainted; the class must have strokes)."""
    rows, cols = np.nonzero(strokes == cls)
    half_diagonal = 0.5 * float(np.hypot(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1))
    return max(min_reach * max(strokes.shape), reach_factor * half_diagonal)


def within_reach(strokes: np.ndarray, background: int, min_reach: float, reach_factor: float) -> np.ndarray:
    """Per class, the pixels it reaches (see the module's text): (K, h, w) bool for class indices 0..K-1 where K is
    the highest stroked index + 1.

    The background class (index ``background``) and classes without strokes reach everywhere.
    """
    classes = int(strokes[strokes != NO_LABEL].max()) + 1
    reach = np.ones((classes, *strokes.shape), bool)
    background_points = np.argwhere(strokes == background)
    for cls in range(classes):
        painted = strokes == cls
        if cls == background or not painted.any():
            continue
        distance = ndimage.distance_transform_edt(~painted)
        near = distance <= class_reach(strokes, cls, min_reach, reach_factor)
        border = np.zeros(strokes.shape, bool)
        border[[0, -1], :] = border[:, [0, -1]] = True
        reach[cls] = near | convex_hull(np.vstack([np.argwhere(painted), background_points,
                                                    np.argwhere(border & near)]), strokes.shape)
    return reach


def convex_hull(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: the pixels of the convex hull of ``points`` ((N, 2) int row, col), borders included."""
    canvas = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(canvas, cv2.convexHull(np.ascontiguousarray(points[:, ::-1], dtype=np.int32)), 1)
    return canvas.astype(bool)


def far_background(strokes: np.ndarray, background: int, min_reach: float, reach_factor: float) -> np.ndarray:
    """(h, w) bool: unpainted pixels out of the reach of every object class (see :func:`within_reach`)."""
    reach = within_reach(strokes, background, min_reach, reach_factor)
    objects = [cls for cls in range(len(reach)) if cls != background]
    near = np.any(reach[objects], axis=0) if objects else np.ones(strokes.shape, bool)
    return ~near & (strokes == NO_LABEL)
