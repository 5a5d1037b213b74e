"""The interactive evaluation runs the engine as the app does: the loop's labels, warm-started (the app's Auto after a
stroke) or fresh (the app's R), equal those of the app's worker given the same strokes in the same order."""
from __future__ import annotations

import numpy as np
import pytest

from app.worker import SegmentationController, SegmentationJob
from gdc_core import Segmenter
from gdc_core.evaluation import MethodRunner
from gdc_core.interaction import run_interactions
from qt_helpers import TINY, make_image

CONFIG = TINY.replace(preview_every=0, seed=0)


def gt_of_the_red_square() -> np.ndarray:
    gt = np.zeros((48, 64), np.uint8)
    gt[16:32, 44:56] = 1
    return gt


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_the_loop_gives_the_labels_of_the_apps_worker(qtbot, segmenter, warm):
    image = make_image()
    loop_segmenter = Segmenter(CONFIG, stem=segmenter.stem)
    runner = MethodRunner("gdc", loop_segmenter, warm=warm)
    seen = []

    def predict(im, scribbles, first):
        labels = runner(im, scribbles, first)
        seen.append((scribbles.copy(), labels.copy()))
        return labels

    run_interactions(image, gt_of_the_red_square(), predict, "clicks", max_interactions=5)
    assert len(seen) >= 3

    controller = SegmentationController(Segmenter(CONFIG, stem=segmenter.stem))
    results = []
    controller.succeeded.connect(lambda outcome: results.append(outcome.result.labels))
    try:
        for scribbles, _ in seen:  # the app: Auto sends a warm job after each stroke, R a fresh one
            with qtbot.waitSignal(controller.idle, timeout=60_000):
                controller.submit(SegmentationJob(1, image, scribbles, CONFIG, warm_start=warm))
    finally:
        controller.shutdown()
    assert len(results) == len(seen)
    for (_, labels), app_labels in zip(seen, results):
        np.testing.assert_array_equal(labels, app_labels)
