"""The spatial prior: an object lies near the strokes that mark it.

With class 0 as the background, every other class is an object, and pixels far from every stroke of an object
class are background unless the image says otherwise. The network alone has no such notion: trained on one
background stroke on one side of the picture, it gives the object's class to whatever does not look like that
stroke (a field of grass, the sky), and GrabCut started from that decision keeps it. GrabCut started from the
strokes' bounding box does not, because it assumes the object lies inside the box.

The *reach* of an object class is how far from its strokes its pixels may plausibly lie:
``max(min_reach * L, reach_factor * e)``, with L the image's longer side and e half the diagonal of the bounding
box of the class's strokes (pixels). Every size here is in pixels of the label map given.
"""
from __future__ import annotations

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
    """Per class, the pixels within its reach of its strokes: (K, h, w) bool for class indices 0..K-1 where K is
    the highest stroked index + 1.

    The background class (index ``background``) and classes without strokes reach everywhere.
    """
    classes = int(strokes[strokes != NO_LABEL].max()) + 1
    reach = np.ones((classes, *strokes.shape), bool)
    for cls in range(classes):
        painted = strokes == cls
        if cls == background or not painted.any():
            continue
        distance = ndimage.distance_transform_edt(~painted)
        reach[cls] = distance <= class_reach(strokes, cls, min_reach, reach_factor)
    return reach


def far_background(strokes: np.ndarray, background: int, min_reach: float, reach_factor: float) -> np.ndarray:
    """(h, w) bool: unpainted pixels out of the reach of every object class (see :func:`within_reach`)."""
    reach = within_reach(strokes, background, min_reach, reach_factor)
    objects = [cls for cls in range(len(reach)) if cls != background]
    near = np.any(reach[objects], axis=0) if objects else np.ones(strokes.shape, bool)
    return ~near & (strokes == NO_LABEL)


def limit_to_reach(decision: np.ndarray, strokes: np.ndarray, background: int, min_reach: float,
                   reach_factor: float) -> np.ndarray:
    """``decision`` ((h, w) uint8 class indices) with every object pixel out of its class's reach given to the
    background: (h, w) uint8."""
    reach = within_reach(strokes, background, min_reach, reach_factor)
    out = decision.copy()
    for cls in range(len(reach)):
        if cls != background:
            out[(decision == cls) & ~reach[cls]] = background
    return out
