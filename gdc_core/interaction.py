"""Interactive evaluation: a robot corrects the mask again and again, as the field measures interactive tools.

Everything here is two-class: ground truth and predictions are (H, W) uint8 maps with 0 background, 1 object and,
in the ground truth, 255 ignored (:func:`evaluation.binary_gt` gives this view of a multi-object map). Before the
first interaction nothing is predicted (all background); each interaction adds strokes of one class to the
scribble map where the current prediction is wrong, then the method predicts again.

``clicks``   the robot of RITM, f-BRS and SimpleClick: the next click is at the error pixel farthest from the
             border of its error region (the distance transform of the false-negative and of the false-positive
             pixels, the image border counting as a border; ties: the first in row-major order); it is positive
             (object) when that farthest false-negative pixel is farther than every false-positive one, else
             negative. "The largest error region" is thus the thickest one. The first click lands at the object's
             interior point farthest from its border. A click is a disk of :data:`simulate.CLICK_RADIUS` px (at
             854 px; scaled with the image) clipped to its class's ground-truth region.
``strokes``  the DAVIS interactive benchmark's robot: a 3 px stroke along the longest skeleton path of the largest
             (most pixels; ties: false negatives first, then row-major order of the first pixel) 8-connected error
             region, kept inside it; a click at the region's farthest point when it is too small or thin for one.

A method needs strokes of two classes: while only one class is stroked (after the first interaction) the mask is
that class everywhere, and no time is counted. NoC@t is the number of interactions after which the foreground IoU
first reaches t, :data:`MAX_INTERACTIONS` when it never does (the images "never reaching t" are counted too).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import cv2
import numpy as np

from .evaluation import FOREGROUND, IGNORE, Sample, binary_gt, one_class_fill
from .io import read_image, read_label_map
from .scribbles import BACKGROUND, NO_LABEL
from .simulate import CLICK_RADIUS, REFERENCE_SIDE, skeleton_strokes, stroke_px

PROTOCOLS = ("clicks", "strokes")
MAX_INTERACTIONS = 20
NOC_THRESHOLDS = (0.85, 0.90)
STROKE_WIDTH = 3  # px at simulate.REFERENCE_SIDE

# predict(image, scribbles, first) -> (H, W) uint8 labels; ``first``: the first run on this image
Predictor = Callable[[np.ndarray, np.ndarray, bool], np.ndarray]


@dataclass(frozen=True)
class Interaction:
    """One robot action: ``pixels`` (H, W) bool to stroke with ``label`` (1 positive, 0 negative); ``row``, ``col``:
    the click's centre, or for a stroke the error region's farthest point."""

    label: int
    row: int
    col: int
    pixels: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict:
        return {"positive": self.label == FOREGROUND, "row": self.row, "col": self.col,
                "pixels": int(self.pixels.sum())}


def foreground_iou(gt: np.ndarray, labels: np.ndarray) -> float:
    """|gt 1 and labels 1| / |gt 1 or labels 1| over the pixels whose gt is not 255; 1.0 when both are empty."""
    valid = gt != IGNORE
    truth, predicted = valid & (gt == FOREGROUND), valid & (labels == FOREGROUND)
    union = int(np.count_nonzero(truth | predicted))
    return 1.0 if union == 0 else int(np.count_nonzero(truth & predicted)) / union


def error_masks(gt: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false negatives, false positives): (H, W) bool each, gt-255 pixels never in either."""
    valid = gt != IGNORE
    predicted = labels == FOREGROUND
    return valid & (gt == FOREGROUND) & ~predicted, valid & (gt == BACKGROUND) & predicted


def border_distance(mask: np.ndarray) -> np.ndarray:
    """(H, W) float32 exact Euclidean distance of every ``mask`` pixel to the nearest pixel outside it, the image
    border counting as outside (0 off the mask)."""
    padded = np.pad(mask.astype(np.uint8), 1)
    return cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


def farthest_point(distance: np.ndarray) -> tuple[int, int]:
    """(row, col) of the maximum of ``distance``, the first in row-major order."""
    row, col = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return int(row), int(col)


def click_disk(gt: np.ndarray, row: int, col: int, label: int) -> np.ndarray:
    """The pixels of a click of class ``label`` at (row, col): a disk of the scaled :data:`simulate.CLICK_RADIUS`
    within ``gt == label``, (H, W) bool."""
    canvas = np.zeros(gt.shape, np.uint8)
    cv2.circle(canvas, (col, row), stroke_px(CLICK_RADIUS, max(gt.shape) / REFERENCE_SIDE), 1, -1)
    return canvas.astype(bool) & (gt == label)


def next_click(gt: np.ndarray, labels: np.ndarray) -> Interaction | None:
    """The click robot's next click on the prediction ``labels`` (module docstring); None when nothing is wrong."""
    fn, fp = (border_distance(mask) for mask in error_masks(gt, labels))
    far_fn, far_fp = float(fn.max()), float(fp.max())
    if far_fn == 0 and far_fp == 0:
        return None
    label = FOREGROUND if far_fn > far_fp else BACKGROUND
    row, col = farthest_point(fn if label == FOREGROUND else fp)
    return Interaction(label, row, col, click_disk(gt, row, col, label))


def largest_error_region(gt: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The 8-connected false-negative or false-positive region with the most pixels and its class (1 for a false
    negative); ties go to false negatives, then to the region met first in row-major order. None: no error."""
    best = None
    for label, mask in zip((FOREGROUND, BACKGROUND), error_masks(gt, labels)):
        count, components, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        if count > 1:
            index = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            area = int(stats[index, cv2.CC_STAT_AREA])
            if best is None or area > best[0]:
                best = (area, components == index, label)
    return None if best is None else (best[1], best[2])


def next_stroke(gt: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> Interaction | None:
    """The corrective-stroke robot's next stroke (module docstring); None when nothing is wrong."""
    found = largest_error_region(gt, labels)
    if found is None:
        return None
    region, label = found
    row, col = farthest_point(border_distance(region))
    scale = max(gt.shape) / REFERENCE_SIDE
    stroke = skeleton_strokes(region, stroke_px(STROKE_WIDTH, scale), scale, rng) & region
    if not stroke.any():
        stroke = click_disk(gt, row, col, label)
    return Interaction(label, row, col, stroke)


def noc(ious: Iterable[float], threshold: float, max_interactions: int = MAX_INTERACTIONS) -> int:
    """The number of interactions after which the IoU (``ious[k - 1]`` after k) first reaches ``threshold``;
    ``max_interactions`` when it never does within them."""
    for k, iou in enumerate(ious, start=1):
        if k > max_interactions:
            break
        if iou >= threshold:
            return k
    return max_interactions


@dataclass
class InteractionRun:
    """One image's interactive loop.

    Attributes:
        ious: foreground IoU after interaction k at index k - 1 (``max_interactions`` entries; after an early stop
            the last IoU is carried forward: the annotator keeps the mask).
        seconds: wall seconds of the method's prediction after each interaction done; None where no method ran
            (one class stroked).
        interactions: what the robot did, one :meth:`Interaction.to_dict` per interaction done.
    """

    ious: list[float]
    seconds: list[float | None]
    interactions: list[dict]

    def summary(self) -> dict:
        """``noc85``, ``noc90``, ``ious``, ``seconds`` and ``interactions`` for a JSON report."""
        return {**{noc_key(t): noc(self.ious, t, len(self.ious)) for t in NOC_THRESHOLDS},
                "ious": self.ious, "seconds": self.seconds, "interactions": self.interactions}


def noc_key(threshold: float) -> str:
    """0.85 -> ``noc85``: the report's name of NoC at ``threshold``."""
    return f"noc{round(100 * threshold)}"


def run_interactions(image: np.ndarray, gt: np.ndarray, predict: Predictor, protocol: str = "clicks", *,
                     max_interactions: int = MAX_INTERACTIONS, stop_iou: float | None = None,
                     seed: int = 0) -> InteractionRun:
    """The robot's loop on one image.

    Args:
        image: (H, W) or (H, W, 3) uint8, passed to ``predict`` unchanged (the same object every time).
        gt: (H, W) uint8 two-class ground truth (0, 1, 255 ignored) with at least one object pixel.
        predict: the method; ``first`` is True on its first call for this image.
        protocol: one of :data:`PROTOCOLS`.
        max_interactions: interactions at most.
        stop_iou: stop once the IoU reaches this (None: always ``max_interactions``).
        seed: seed of the stroke robot's jitter (clicks are deterministic).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose {' or '.join(PROTOCOLS)}")
    gt = np.asarray(gt)
    if not np.any(gt == FOREGROUND):
        raise ValueError("the ground truth has no object pixel")
    scribbles = np.full(gt.shape, NO_LABEL, np.uint8)
    labels = np.zeros(gt.shape, np.uint8)
    first = True
    ious: list[float] = []
    seconds: list[float | None] = []
    done: list[dict] = []
    for k in range(1, max_interactions + 1):
        if protocol == "clicks":
            interaction = next_click(gt, labels)
        else:
            interaction = next_stroke(gt, labels, np.random.default_rng([seed, k]))
        if interaction is None:
            break
        scribbles[interaction.pixels] = interaction.label
        done.append(interaction.to_dict())
        filled = one_class_fill(scribbles)
        if filled is not None:
            labels, spent = filled, None
        else:
            tic = time.perf_counter()
            labels = np.asarray(predict(image, scribbles, first))
            spent = time.perf_counter() - tic
            first = False
        ious.append(foreground_iou(gt, labels))
        seconds.append(spent)
        if stop_iou is not None and ious[-1] >= stop_iou:
            break
    last = ious[-1] if ious else foreground_iou(gt, labels)
    ious += [last] * (max_interactions - len(ious))
    return InteractionRun(ious, seconds, done)


def read_two_class(sample: Sample) -> tuple[np.ndarray, np.ndarray]:
    """(image, two-class gt) of an evaluation sample (its scribbles are not read). Raises io.ImageReadError and
    ValueError (another size than the image)."""
    image, gt = read_image(sample.image), read_label_map(sample.gt)
    if gt.shape != image.shape[:2]:
        raise ValueError(f"{sample.gt}: {gt.shape[1]}x{gt.shape[0]} but the image is "
                         f"{image.shape[1]}x{image.shape[0]}")
    return image, binary_gt(gt)


def evaluate_interactive(samples: list[Sample], predict: Predictor, protocol: str, *,
                         max_interactions: int = MAX_INTERACTIONS, stop_iou: float | None = None, seed: int = 0,
                         on_item: Callable[[int, str], None] | None = None) -> list[dict]:
    """Run the loop on every sample (two-class view); one record per image: ``name``, ``status`` (``scored`` or
    ``failed`` with an ``error``) and :meth:`InteractionRun.summary`. ``on_item(index, text)`` after each image."""
    records = []
    for index, sample in enumerate(samples, start=1):
        try:
            image, gt = read_two_class(sample)
            run = run_interactions(image, gt, predict, protocol, max_interactions=max_interactions,
                                   stop_iou=stop_iou, seed=seed)
        except Exception as exc:  # one unreadable image or one crash of a method is that image's failure
            records.append({"name": sample.name, "status": "failed", "error": f"{sample.name}: {exc}"})
            if on_item:
                on_item(index, f"FAILED {sample.name}: {exc}")
            continue
        record = {"name": sample.name, "status": "scored", **run.summary()}
        records.append(record)
        if on_item:
            on_item(index, f"{sample.name}: NoC@90 {record['noc90']}, IoU@{max_interactions} "
                           f"{100 * run.ious[-1]:.1f} %")
    return records


def summarise_interactive(records: list[dict]) -> dict:
    """Folder figures over the scored records: mean ``noc85``/``noc90``, ``never85``/``never90`` (images that never
    reach it), ``iou_at`` (mean IoU after k = 1..N interactions), ``seconds_first`` (mean of each image's first
    timed prediction, a fresh run) and ``seconds_later`` (mean of the later ones), ``scored``, ``failed``."""
    scored = [r for r in records if r["status"] == "scored"]
    report: dict = {"scored": len(scored), "failed": len(records) - len(scored)}
    if not scored:
        return report
    for threshold in NOC_THRESHOLDS:
        key = noc_key(threshold)
        report[key] = float(np.mean([r[key] for r in scored]))
        report[key.replace("noc", "never")] = sum(max(r["ious"]) < threshold for r in scored)
    report["iou_at"] = [float(v) for v in np.mean([r["ious"] for r in scored], axis=0)]
    timed = [[s for s in r["seconds"] if s is not None] for r in scored]
    firsts = [t[0] for t in timed if t]
    laters = [s for t in timed for s in t[1:]]
    report["seconds_first"] = float(np.mean(firsts)) if firsts else None
    report["seconds_later"] = float(np.mean(laters)) if laters else None
    return report


REPORTED_IOU_AT = (1, 2, 3, 5, 10, 20)  # the interactions whose mean IoU the table shows


def format_interactive(report: dict) -> str:
    """The human-readable table of an interactive eval report (``gdc-seg eval --protocol``)."""
    config = report["config"]
    protocol = config["protocol"]
    head = (f"eval {report['data']}: method {config['method']}"
            + ("" if config["method"] != "gdc" else " (warm start)" if config["warm"] else " (fresh runs)")
            + f"; protocol {protocol['name']}, at most {protocol['interactions']} interactions, two-class"
            + (f", every {protocol['every']}th image" if protocol["every"] > 1 else ""))
    if config["method"] == "gdc":
        head += f"\nbackbone: {config['backbone']} ({'ImageNet' if config['pretrained'] else 'UNTRAINED'})"
    lines = [head, f"images: {report['scored']} scored, {report['failed']} failed, device {config['device']}"]
    if report["scored"]:
        def seconds(value):
            return "n/a" if value is None else f"{value:.2f}"

        shown = [k for k in REPORTED_IOU_AT if k <= len(report["iou_at"])]
        lines += [
            f"  NoC@85 / NoC@90         {report['noc85']:.2f} / {report['noc90']:.2f}",
            f"  never reaching 85 / 90  {report['never85']} / {report['never90']}",
            "  IoU@k (%)               " + ", ".join(f"{k}: {100 * report['iou_at'][k - 1]:.1f}" for k in shown),
            f"  seconds per prediction  first {seconds(report['seconds_first'])}, "
            f"later {seconds(report['seconds_later'])}",
        ]
    lines += [f"  failed: {r['error']}" for r in report["images"] if r["status"] == "failed"]
    return "\n".join(lines)


HINT_UNCERTAINTY = 0.25  # a pixel is unsure when at least this fraction of the Monte-Carlo samples disagree


@dataclass(frozen=True)
class Hint:
    """Where to correct next: pixel (``row``, ``col``), whose current mask class is ``mask_label``; ``depth`` px
    from the border of its unsure region."""

    row: int
    col: int
    mask_label: int
    depth: float


def next_hint(labels: np.ndarray, uncertainty: np.ndarray, threshold: float = HINT_UNCERTAINTY) -> Hint | None:
    """The click robot's rule without ground truth (the app's "next" hint).

    The robot clicks at the pixel farthest from the border of its false-negative or false-positive region. Without
    ground truth, the unsure pixels (``uncertainty >= threshold``) stand in for the errors, split by the class the
    mask gives them (as errors are split into false negatives and false positives): the hint is the unsure pixel
    farthest from the border of its class's unsure region (the image border counting as a border; ties: the lower
    class id, then row-major order). None when no pixel is unsure.

    Args:
        labels: (H, W) uint8 class ids of the current mask.
        uncertainty: (H, W) float in [0, 1], the fraction of samples disagreeing with the mask.
    """
    unsure = np.asarray(uncertainty) >= threshold
    best = None
    for label in np.unique(labels[unsure]):
        distance = border_distance(unsure & (labels == label))
        depth = float(distance.max())
        if best is None or depth > best.depth:
            row, col = farthest_point(distance)
            best = Hint(row, col, int(label), depth)
    return best
