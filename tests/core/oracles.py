"""Slow, obvious reference forms of the engine's numeric pieces (test oracles): loops over pixels, positions and
taps, compared with the fast forms under fixed seeds."""
from __future__ import annotations

import numpy as np
import torch

from gdc_core.evaluation import FOREGROUND, IGNORE
from gdc_core.scribbles import NO_LABEL


def _iou_reference(counts: dict[tuple[int, int], int], c: int) -> float | None:
    tp = counts.get((c, c), 0)
    fp = sum(n for (g, p), n in counts.items() if p == c and g != c)
    fn = sum(n for (g, p), n in counts.items() if g == c and p != c)
    return tp / (tp + fp + fn) if tp + fp + fn else None


def scores_reference(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, object]:
    """Pixel-by-pixel loop form of :meth:`Scores.summary` over (gt, pred) pairs."""
    counts: dict[tuple[int, int], int] = {}
    fg_ious = []
    for gt, pred in pairs:
        image_counts: dict[tuple[int, int], int] = {}
        for g, p in zip(np.asarray(gt).ravel().tolist(), np.asarray(pred).ravel().tolist()):
            if g != IGNORE:
                image_counts[(g, p)] = image_counts.get((g, p), 0) + 1
                counts[(g, p)] = counts.get((g, p), 0) + 1
        fg = _iou_reference(image_counts, FOREGROUND)
        if fg is not None:
            fg_ious.append(fg)
    classes = sorted({g for g, _ in counts} | {p for _, p in counts})
    ious = {str(c): _iou_reference(counts, c) for c in classes}
    correct = sum(n for (g, p), n in counts.items() if g == p)
    return {
        "miou": sum(ious.values()) / len(ious),
        "pixel_accuracy": correct / sum(counts.values()),
        "mean_fg_iou": sum(fg_ious) / len(fg_ious) if set(classes) <= {0, FOREGROUND} and fg_ious else None,
        "per_class_iou": ious,
    }


def gdc_conv2d_reference(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, offsets: torch.Tensor
) -> torch.Tensor:
    """The slow, obvious form of :func:`gdc_conv2d`: explicit loops over positions and taps."""
    batch, _, height, width = x.shape
    out = x.new_zeros(batch, weight.shape[0], height, width)
    for b in range(batch):
        ob = b if offsets.shape[0] > 1 else 0
        for i in range(height):
            for j in range(width):
                acc = bias.clone() if bias is not None else x.new_zeros(weight.shape[0])
                for k in range(9):
                    ky, kx = divmod(k, 3)
                    si = min(max(i + int(offsets[ob, k, 0, i, j]), 0), height - 1)
                    sj = min(max(j + int(offsets[ob, k, 1, i, j]), 0), width - 1)
                    acc = acc + weight[:, :, ky, kx] @ x[b, :, si, sj]
                out[b, :, i, j] = acc
    return out


def expand_scribbles_reference(scribbles: np.ndarray, superpixels: np.ndarray) -> np.ndarray:
    """Loop form of :func:`expand_scribbles`, one superpixel at a time."""
    out = np.full(scribbles.shape, NO_LABEL, dtype=np.uint8)
    for segment in np.unique(superpixels):
        inside = superpixels == segment
        touched = set(int(c) for c in scribbles[inside]) - {NO_LABEL}
        if len(touched) == 1:
            out[inside] = touched.pop()
    stroked = scribbles != NO_LABEL
    out[stroked] = scribbles[stroked]
    return out


def monte_carlo_reference(net: torch.nn.Module, features: torch.Tensor, samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One plain forward pass per sample, then mean and disagreement."""
    net.eval()
    with torch.no_grad():
        passes = torch.stack([torch.softmax(net(features)[0], dim=0) for _ in range(samples)])
    mean = passes.mean(0)
    decision = mean.argmax(0)
    disagree = (passes.argmax(1) != decision).float().mean(0)
    return mean, disagree


def keep_seeded_regions_reference(labels: np.ndarray, strokes: np.ndarray) -> tuple[np.ndarray, list[set[int]]]:
    """Slow form of :func:`keep_seeded_regions`: flood fill from the strokes, brute-force nearest
    search. Returns the kept mask and, per pixel in raster order, the set of labels any nearest kept pixel has
    (ties between equally near pixels make the refill ambiguous)."""
    height, width = labels.shape
    kept = np.zeros(labels.shape, bool)
    for cls in np.unique(labels):
        if not (strokes == cls).any():
            kept |= labels == cls
            continue
        stack = [(y, x) for y, x in zip(*np.nonzero((strokes == cls) & (labels == cls)))]
        while stack:
            y, x = stack.pop()
            if kept[y, x]:
                continue
            kept[y, x] = True
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < height and 0 <= nx < width and labels[ny, nx] == cls and not kept[ny, nx]:
                        stack.append((ny, nx))
    keep_y, keep_x = np.nonzero(kept)
    allowed = []
    for y in range(height):
        for x in range(width):
            if kept[y, x]:
                allowed.append({int(labels[y, x])})
                continue
            distance = (keep_y - y) ** 2 + (keep_x - x) ** 2
            nearest = distance == distance.min()
            allowed.append({int(v) for v in labels[keep_y[nearest], keep_x[nearest]]})
    return kept, allowed


def farthest_reference(mask: np.ndarray) -> tuple[float, tuple[int, int] | None]:
    """(distance, (row, col)) of the ``mask`` pixel farthest from every pixel outside it, the image's surroundings
    counting as outside (ties: the first in row-major order); (0.0, None) for an empty mask."""
    height, width = mask.shape
    outside = [(r, c) for r in range(-1, height + 1) for c in range(-1, width + 1)
               if not (0 <= r < height and 0 <= c < width) or not mask[r, c]]
    top = (0.0, None)
    for r in range(height):
        for c in range(width):
            if mask[r, c]:
                d = min(((r - rr) ** 2 + (c - cc) ** 2) ** 0.5 for rr, cc in outside)
                if d > top[0] + 1e-9:
                    top = (d, (r, c))
    return top


def click_reference(gt: np.ndarray, labels: np.ndarray) -> tuple[int, int, int] | None:
    """Loop form of :func:`interaction.next_click`: (row, col, class) of the error pixel (gt not 255, gt 1 predicted
    otherwise or gt 0 predicted 1) farthest from every pixel outside its error set; positive when the farthest false
    negative is strictly farther than every false positive. None when nothing is wrong."""
    best = {}
    for label in (FOREGROUND, 0):
        error = (gt == label) & ((labels == FOREGROUND) != (label == FOREGROUND))
        best[label] = farthest_reference(error)
    if best[FOREGROUND][1] is None and best[0][1] is None:
        return None
    label = FOREGROUND if best[FOREGROUND][0] > best[0][0] + 1e-9 else 0
    return (*best[label][1], label)


def hint_reference(labels: np.ndarray, uncertainty: np.ndarray, threshold: float) -> tuple[int, int, int] | None:
    """Loop form of :func:`interaction.next_hint`: (row, col, mask class) of the unsure pixel farthest from the
    border of its class's unsure region; ties to the lower class id. None when nothing is unsure."""
    best = None
    for label in sorted({int(v) for v in labels[uncertainty >= threshold]}):
        distance, where = farthest_reference((uncertainty >= threshold) & (labels == label))
        if best is None or distance > best[0] + 1e-9:
            best = (distance, (*where, label))
    return None if best is None else best[1]
