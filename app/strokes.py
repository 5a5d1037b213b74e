"""Brush geometry and the bookkeeping that turns one stroke into one undo step, on numpy label layers.

Coordinates are image pixels as floats: pixel (x, y) covers [x, x+1) x [y, y+1), its centre is (x+0.5, y+0.5).
Nothing here touches more than the region a stroke covers, so painting stays fast on very large images.
"""
from __future__ import annotations

import numpy as np

TILE = 64  # side of the blocks whose original pixels a stroke keeps for undo


def capsule(shape: tuple[int, int], start: tuple[float, float], end: tuple[float, float],
            diameter: float) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """The pixels a round brush of ``diameter`` pixels covers when dragged from ``start`` to ``end`` (x, y).

    Args:
        shape: (H, W) of the layer.
        start, end: brush centre positions in image pixels.
        diameter: brush diameter in image pixels (at least 1).

    Returns:
        ``((rows, cols), covered)``: the bounding slices inside the layer and an (h, w) bool array of the covered
        pixels within them; None when the stroke lies entirely outside the layer. The pixel under each end point
        is always covered, so a 1-pixel brush never leaves gaps.
    """
    height, width = shape
    radius = max(float(diameter), 1.0) / 2.0
    (x0, y0), (x1, y1) = start, end
    left = max(int(np.floor(min(x0, x1) - radius)), 0)
    right = min(int(np.ceil(max(x0, x1) + radius)) + 1, width)
    top = max(int(np.floor(min(y0, y1) - radius)), 0)
    bottom = min(int(np.ceil(max(y0, y1) + radius)) + 1, height)
    if left >= right or top >= bottom:
        return None
    ys = np.arange(top, bottom, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(left, right, dtype=np.float32)[None, :] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / length2, 0.0, 1.0)
    else:
        t = np.zeros((1, 1), dtype=np.float32)
    distance2 = (xs - (x0 + t * dx)) ** 2 + (ys - (y0 + t * dy)) ** 2
    covered = distance2 <= radius * radius
    for x, y in (start, end):
        col, row = int(np.floor(x)) - left, int(np.floor(y)) - top
        if 0 <= row < covered.shape[0] and 0 <= col < covered.shape[1]:
            covered[row, col] = True
    if not covered.any():
        return None
    return (slice(top, bottom), slice(left, right)), covered


class StrokeRecord:
    """Keeps the original content of every TILE x TILE block a stroke writes into, for one undo step.

    Call :meth:`remember` before writing a region; :meth:`patches` then gives the stroke's bounding box with its
    content before and after, sized by the touched blocks only (not the whole layer).
    """

    def __init__(self, layer: np.ndarray):
        self.layer = layer
        self._originals: dict[tuple[int, int], np.ndarray] = {}

    def remember(self, rows: slice, cols: slice) -> None:
        """Save the untouched content of the blocks that overlap ``layer[rows, cols]``."""
        for by in range(rows.start // TILE, (rows.stop - 1) // TILE + 1):
            for bx in range(cols.start // TILE, (cols.stop - 1) // TILE + 1):
                if (by, bx) not in self._originals:
                    self._originals[by, bx] = self.layer[by * TILE:(by + 1) * TILE, bx * TILE:(bx + 1) * TILE].copy()

    @property
    def empty(self) -> bool:
        return not self._originals

    def patches(self) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]:
        """``((top, left, bottom, right), before, after)``: the touched box and its (h, w) content before and now."""
        rows = [by for by, _ in self._originals]
        cols = [bx for _, bx in self._originals]
        height, width = self.layer.shape
        top, left = min(rows) * TILE, min(cols) * TILE
        bottom, right = min((max(rows) + 1) * TILE, height), min((max(cols) + 1) * TILE, width)
        after = self.layer[top:bottom, left:right].copy()
        before = after.copy()
        for (by, bx), original in self._originals.items():
            y, x = by * TILE - top, bx * TILE - left
            before[y:y + original.shape[0], x:x + original.shape[1]] = original
        return (top, left, bottom, right), before, after
