"""Scoring label maps against ground truth, listing an evaluation folder, and the one-shot evaluation loop
(:func:`evaluate`: every image predicted once from its scribbles by a :class:`MethodRunner`). The interactive
protocols are in :mod:`interaction`.

Conventions (the ones of ``shared/data/README.md``): label maps are (H, W) uint8 class ids; ground-truth pixels
equal to 255 are ignored. Quality over a folder is the mIoU of **one** confusion matrix accumulated over all its
images, averaged over the classes that occur (in the ground truth or the predictions: a class nobody has and
nobody predicts has no IoU). Two-class folders (ids 0 background and 1 foreground only) also get the mean of the
per-image foreground IoU. Every score is a fraction in [0, 1].
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from .io import IMAGE_SUFFIXES, ImageReadError, read_image, read_label_map
from .scribbles import BACKGROUND, NO_LABEL

if TYPE_CHECKING:  # torch-backed: imported by the caller that builds a Segmenter
    from .segmenter import Progress, Segmenter

IGNORE = 255
NUM_IDS = 256  # uint8 label maps: ids 0..255, 255 being the ignore value of the ground truth
FOREGROUND = 1


class DatasetError(ValueError):
    """A folder that is not laid out as ``images/``, ``gt/``, ``scribbles/``."""


@dataclass(frozen=True)
class Sample:
    """One evaluation item: the image and its ground truth and scribbles (``<stem>.png``; they may be missing)."""

    name: str
    image: Path
    gt: Path
    scribbles: Path


def list_dataset(root: str | Path, *, scribbles: bool = True) -> list[Sample]:
    """The samples of an evaluation folder, sorted by file name.

    Every image file in ``root/images`` (suffix in :data:`io.IMAGE_SUFFIXES`) gives one sample whose label maps
    are ``root/gt/<stem>.png`` and ``root/scribbles/<stem>.png``; whether those exist is checked when they are
    read. ``scribbles=False``: the folder needs no ``scribbles/`` (they are simulated from ``gt/``). Raises
    :class:`DatasetError` when a subfolder is missing or there are no images.
    """
    root = Path(root)
    for sub in ("images", "gt", "scribbles") if scribbles else ("images", "gt"):
        if not (root / sub).is_dir():
            raise DatasetError(f"{root / sub}: no such folder (an evaluation folder holds images/, gt/ and "
                               f"scribbles/; simulated scribble styles need only images/ and gt/)")
    images = sorted(p for p in (root / "images").iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise DatasetError(f"{root / 'images'}: no images")
    return [Sample(p.name, p, root / "gt" / f"{p.stem}.png", root / "scribbles" / f"{p.stem}.png") for p in images]


def binary_gt(gt: np.ndarray) -> np.ndarray:
    """The two-class reading of a multi-object label map (ground truth or scribbles): every id other than 0 and
    255 becomes 1. Simulate on the multi-object ground truth first, then read both as two-class: an annotator
    strokes every object."""
    gt = np.asarray(gt)
    return np.where((gt == BACKGROUND) | (gt == IGNORE), gt, 1).astype(np.uint8)


HUMAN = "human"  # the scribble "style" of the folder's own scribbles/


def read_sample(sample: Sample, style: str = HUMAN, seed: int = 0,
                two_class: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, gt, scribbles) of one sample; the scribbles are the folder's own (``style`` "human") or simulated from
    the ground truth in ``style`` with ``seed`` (:mod:`simulate`). ``two_class``: ground truth and scribbles read as
    background 0 against every other id as 1 (strokes are simulated per object first).

    Raises io.ImageReadError for unreadable files and DatasetError for label maps of another size than the image.
    """
    from .simulate import simulate_scribbles  # it imports this module's conventions

    image, gt = read_image(sample.image), read_label_map(sample.gt)
    scribbles = read_label_map(sample.scribbles) if style == HUMAN else simulate_scribbles(gt, style, seed)
    for path, array in ((sample.gt, gt), (sample.scribbles, scribbles)):
        if array.shape != image.shape[:2]:
            raise DatasetError(f"{path}: {array.shape[1]}x{array.shape[0]} but the image is "
                               f"{image.shape[1]}x{image.shape[0]}")
    if two_class:
        gt, scribbles = binary_gt(gt), binary_gt(scribbles)
    return image, gt, scribbles


def confusion_matrix(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(256, 256) int64 counts, entry [g, p] = pixels of ground truth g predicted as p; gt 255 is left out.

    Args:
        gt, pred: (H, W) uint8 label maps of the same shape.
    """
    gt = np.asarray(gt)
    pred = np.asarray(pred)
    if gt.shape != pred.shape:
        raise ValueError(f"ground truth {gt.shape} and prediction {pred.shape} differ in shape")
    valid = gt != IGNORE
    pairs = gt[valid].astype(np.int64) * NUM_IDS + pred[valid].astype(np.int64)
    return np.bincount(pairs, minlength=NUM_IDS * NUM_IDS).reshape(NUM_IDS, NUM_IDS)


def per_class_iou(matrix: np.ndarray) -> dict[int, float]:
    """IoU = TP / (TP + FP + FN) of every class that occurs (non-zero union) in a (256, 256) confusion matrix."""
    tp = np.diag(matrix).astype(np.float64)
    union = matrix.sum(0) + matrix.sum(1) - tp
    return {int(c): float(tp[c] / union[c]) for c in np.flatnonzero(union)}


def mean_iou(matrix: np.ndarray) -> float | None:
    """Mean of :func:`per_class_iou`; None for an empty matrix."""
    ious = per_class_iou(matrix)
    return float(np.mean(list(ious.values()))) if ious else None


def pixel_accuracy(matrix: np.ndarray) -> float | None:
    """Fraction of counted pixels whose prediction equals the ground truth; None for an empty matrix."""
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else None


def is_two_class(matrix: np.ndarray) -> bool:
    """True when the only classes that occur are 0 (background) and 1 (foreground)."""
    occurring = set(per_class_iou(matrix))
    return bool(occurring) and occurring <= {0, FOREGROUND}


@dataclass
class Scores:
    """Accumulates a folder's scores image by image.

    Attributes:
        matrix: (256, 256) int64 confusion matrix over all added images.
        fg_ious: per-image foreground IoU of the images where foreground occurs.
    """

    matrix: np.ndarray
    fg_ious: list[float]

    @classmethod
    def empty(cls) -> "Scores":
        return cls(np.zeros((NUM_IDS, NUM_IDS), dtype=np.int64), [])

    def add(self, gt: np.ndarray, pred: np.ndarray) -> float | None:
        """Count one image; returns its foreground IoU (None when it has no foreground)."""
        image_matrix = confusion_matrix(gt, pred)
        self.matrix += image_matrix
        fg = per_class_iou(image_matrix).get(FOREGROUND)
        if fg is not None:
            self.fg_ious.append(fg)
        return fg

    def summary(self) -> dict[str, object]:
        """``miou``, ``pixel_accuracy``, ``mean_fg_iou`` (None unless two-class) and ``per_class_iou``."""
        two_class = is_two_class(self.matrix)
        return {
            "miou": mean_iou(self.matrix),
            "pixel_accuracy": pixel_accuracy(self.matrix),
            "mean_fg_iou": float(np.mean(self.fg_ious)) if two_class and self.fg_ious else None,
            "per_class_iou": {str(c): v for c, v in per_class_iou(self.matrix).items()},
        }


def one_class_fill(scribbles: np.ndarray) -> np.ndarray | None:
    """What a method predicts from strokes of one class: that class everywhere ((H, W) uint8); None when two or more
    classes are stroked (a method runs). Raises ValueError when nothing is stroked."""
    classes = np.unique(scribbles[scribbles != NO_LABEL])
    if len(classes) == 0:
        raise ValueError("no strokes")
    return np.full(scribbles.shape, classes[0], dtype=np.uint8) if len(classes) == 1 else None


class MethodRunner:
    """A method to score, called as ``runner(image, scribbles, first=True, on_progress=None)`` -> (H, W) uint8 labels.

    ``gdc`` goes through ``segmenter`` exactly as the app does: a first run on an image sets it and trains a fresh
    network; later runs on the same image (``first`` False, the interactive loop) continue the previous network
    (``warm_start``) when ``warm``, else train a fresh one on the cached features (the app's R). A baseline
    (:data:`baselines.BASELINES`) runs from scratch every time. ``timings`` holds the last run's seconds per stage
    (``total`` at least); ``warn`` receives the segmenter's warnings.
    """

    def __init__(self, method: str, segmenter: "Segmenter | None" = None, *, warm: bool = True,
                 warn: Callable[[str], None] = lambda message: None):
        from .baselines import BASELINES

        if method != "gdc" and method not in BASELINES:
            raise ValueError(f"unknown method {method!r}; choose gdc or one of {', '.join(BASELINES)}")
        if method == "gdc" and segmenter is None:
            raise ValueError("the gdc method needs a Segmenter")
        self.method, self.segmenter, self.warm, self.warn = method, segmenter, warm, warn
        self._baseline = None if method == "gdc" else BASELINES[method]
        self.timings: dict[str, float] = {}

    def settings(self) -> dict:
        """The method and, for gdc, its configuration, device and backbone (for a report)."""
        if self.segmenter is None:
            return {"method": self.method, "device": "cpu"}
        segmenter = self.segmenter
        return {"method": "gdc", **segmenter.config.to_dict(), "device": segmenter.device.type,
                "backbone": segmenter.stem.source, "pretrained": segmenter.stem.pretrained, "warm": self.warm}

    def __call__(self, image: np.ndarray, scribbles: np.ndarray, first: bool = True,
                 on_progress: "Callable[[Progress], None] | None" = None) -> np.ndarray:
        if self._baseline is not None:
            tic = time.perf_counter()
            labels = self._baseline(image, scribbles)
            self.timings = {"total": time.perf_counter() - tic}
            return labels
        if first:
            self.segmenter.set_image(image)
        result = self.segmenter.run(scribbles, warm_start=self.warm and not first, on_progress=on_progress)
        for message in result.warnings:
            self.warn(message)
        self.timings = result.timings
        return result.labels


def evaluate(samples: list[Sample], runner: MethodRunner, *, style: str = HUMAN, seed: int = 0,
             two_class: bool = False, on_progress: "Callable[[int, str, Progress], None] | None" = None,
             on_item: Callable[[int, str], None] | None = None) -> tuple[Scores, list[dict]]:
    """The one-shot evaluation: predict every sample from its scribbles (:func:`read_sample` with ``style``,
    ``seed``, ``two_class``) and score it.

    Returns the accumulated :class:`Scores` and one record per image: ``name``, ``status`` (``scored`` with
    ``classes``, ``fg_iou`` and ``timings``, or ``trivial`` True when one class is stroked and fills the image;
    ``failed`` with an ``error``). A sample without strokes, an unreadable one or one on which the method crashes
    is that sample's failure. ``on_progress(index, name, progress)`` during a run, ``on_item(index, text)`` after.
    """
    scores = Scores.empty()
    records = []
    for index, sample in enumerate(samples, start=1):
        try:
            image, gt, scribbles = read_sample(sample, style, seed, two_class)
            classes = [int(c) for c in np.unique(scribbles) if c != NO_LABEL]
            try:
                labels = one_class_fill(scribbles)
            except ValueError:
                raise DatasetError(f"{sample.scribbles}: no strokes") from None
            record = {"classes": classes, "trivial": True}
            if labels is None:
                progress = None if on_progress is None else (lambda p, i=index, n=sample.name: on_progress(i, n, p))
                labels = runner(image, scribbles, on_progress=progress)
                record = {"classes": classes, "timings": runner.timings}
        except (ImageReadError, DatasetError) as exc:
            records.append({"name": sample.name, "status": "failed", "error": str(exc)})
            if on_item:
                on_item(index, f"FAILED {exc}")
            continue
        except Exception as exc:  # a method crashing on one image is that image's failure, reported
            records.append({"name": sample.name, "status": "failed", "error": f"{exc.__class__.__name__}: {exc}"})
            if on_item:
                on_item(index, f"FAILED {sample.name}: {exc.__class__.__name__}: {exc}")
            continue
        record = {"name": sample.name, "status": "scored", **record, "fg_iou": scores.add(gt, labels)}
        records.append(record)
        seconds = record.get("timings", {}).get("total")
        if on_item:
            on_item(index, f"{sample.name}: " + ("one class, filled" if seconds is None else f"{seconds:.1f} s"))
    return scores, records


def summarise(scores: Scores, records: list[dict], settings: dict, data: Path) -> dict:
    """The one-shot report: scores (fractions, None when n/a), mean seconds per timed image and per stage."""
    timed = [r["timings"] for r in records if "timings" in r]
    stages = sorted({stage for t in timed for stage in t})
    mean_timings = {stage: float(np.mean([t[stage] for t in timed if stage in t])) for stage in stages}
    return {
        "data": str(data),
        **scores.summary(),
        "seconds_per_image": mean_timings.get("total"),
        "timings": mean_timings,
        "scored": sum(r["status"] == "scored" for r in records),
        "failed": sum(r["status"] == "failed" for r in records),
        "images": records,
        "config": settings,
    }
