"""Quality and time of the warm-started update after one more stroke, against a cold run with every stroke.

    python benchmarks/warm_start.py --weights ../shared/weights/mobilenet_v2_imagenet_stem.pt
        [--data ../shared/data] [--folders grabcut-dev,voc-dev,acdc-dev] [--warm-steps 15,10,5]

For every image with strokes of two classes or more, one stroke is held back: the smallest connected stroke of a
class that keeps another stroke (when every class has a single stroke, half of the largest stroke). The first run
uses the other strokes; the warm run (``Segmenter.run(..., warm_start=True)``) adds the held-back stroke and
continues that network for ``warm_steps`` steps. The cold run trains a fresh network on every stroke. Prints
mIoU per folder (one confusion matrix, as ``gdc-seg eval``) and the warm run's mean seconds; one torch thread.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from gdc_core.cpu_runtime import tune_process
from gdc_core.evaluation import Scores, list_dataset
from gdc_core.io import read_image, read_label_map
from gdc_core.scribbles import NO_LABEL

ROOT = Path(__file__).resolve().parents[1]


def held_back_stroke(scribbles: np.ndarray) -> np.ndarray:
    """(H, W) bool: the stroke pixels the first run does not see (see the module docstring)."""
    classes = [c for c in np.unique(scribbles) if c != NO_LABEL]
    best = None
    for c in classes:
        count, components = cv2.connectedComponents((scribbles == c).astype(np.uint8), connectivity=8)
        if count <= 2:
            continue
        for i in range(1, count):
            size = int((components == i).sum())
            if best is None or size < best[0]:
                best = (size, components == i)
    if best is not None:
        return best[1]
    largest = max(classes, key=lambda c: int((scribbles == c).sum()))
    ys, xs = np.nonzero(scribbles == largest)
    half = np.argsort(xs)[len(xs) // 2:]
    held = np.zeros(scribbles.shape, bool)
    held[ys[half], xs[half]] = True
    return held


def main() -> None:
    tune_process()  # before torch loads
    import torch

    from gdc_core import Segmenter, SegmenterConfig

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="ImageNet MobileNetV2 weights file")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--folders", default="grabcut-dev,voc-dev,acdc-dev")
    parser.add_argument("--warm-steps", default="15,10,5")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warm_steps = [int(w) for w in args.warm_steps.split(",")]
    segmenter = Segmenter(SegmenterConfig(preview_every=0), backbone_weights=args.weights)
    for folder in args.folders.split(","):
        cold = Scores.empty()
        warm = {w: Scores.empty() for w in warm_steps}
        seconds = {w: [] for w in warm_steps}
        for sample in list_dataset(Path(args.data) / folder):
            image, scribbles, gt = read_image(sample.image), read_label_map(sample.scribbles), read_label_map(sample.gt)
            if len(set(np.unique(scribbles)) - {NO_LABEL}) < 2:
                continue
            partial = scribbles.copy()
            partial[held_back_stroke(scribbles)] = NO_LABEL
            segmenter.set_image(image)
            cold.add(gt, segmenter.run(scribbles).labels)
            for steps in warm_steps:
                segmenter.set_image(image)
                segmenter.run(partial)
                tic = time.perf_counter()
                result = segmenter.run(scribbles, config=segmenter.config.replace(warm_steps=steps), warm_start=True)
                seconds[steps].append(time.perf_counter() - tic)
                warm[steps].add(gt, result.labels)
        cells = [f"cold {100 * cold.summary()['miou']:.1f}"]
        cells += [f"warm {w}: {100 * warm[w].summary()['miou']:.1f} ({np.mean(seconds[w]):.2f} s)" for w in warm_steps]
        print(f"{folder:12s} " + ", ".join(cells), flush=True)


if __name__ == "__main__":
    main()
