"""Classical baselines (GrabCut, watershed, random walker) on small synthetic images."""
from __future__ import annotations

import numpy as np
import pytest

from gdc_core.baselines import BASELINES
from gdc_core.evaluation import confusion_matrix, per_class_iou
from gdc_core.scribbles import NO_LABEL, ScribbleError


def regions_image(classes=(0, 1), shape=(48, 60), seed=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertical bands of distinct noisy colours, one per class: (image (H, W, 3) uint8, truth, scribbles)."""
    rng = np.random.default_rng(seed)
    colours = np.array([(40, 60, 170), (220, 200, 40), (60, 180, 70), (200, 50, 60)], dtype=np.float64)
    height, width = shape
    band = np.minimum(np.arange(width) * len(classes) // width, len(classes) - 1)
    truth = np.asarray(classes, dtype=np.uint8)[np.broadcast_to(band, shape)]
    image = colours[np.broadcast_to(band, shape)] + rng.normal(0, 12, (*shape, 3))
    scribbles = np.full(shape, NO_LABEL, dtype=np.uint8)
    for index, c in enumerate(classes):
        centre = int((index + 0.5) * width / len(classes))
        scribbles[8:-8, centre - 1:centre + 1] = c
    return np.clip(image, 0, 255).astype(np.uint8), truth, scribbles


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_two_regions_are_found(name):
    image, truth, scribbles = regions_image(classes=(0, 7))
    labels = BASELINES[name](image, scribbles)
    assert labels.shape == truth.shape and labels.dtype == np.uint8
    assert set(np.unique(labels)) <= {0, 7}
    assert per_class_iou(confusion_matrix(truth, labels))[7] > 0.9
    stroked = scribbles != NO_LABEL
    assert np.array_equal(labels[stroked], scribbles[stroked])


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_grey_image_with_three_classes(name):
    image, truth, scribbles = regions_image(classes=(0, 1, 2), shape=(40, 72), seed=1)
    grey = image.mean(axis=2).astype(np.uint8)
    labels = BASELINES[name](grey, scribbles)
    ious = per_class_iou(confusion_matrix(truth, labels))
    assert labels.shape == truth.shape and set(ious) == {0, 1, 2}
    assert min(ious.values()) > 0.8


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_single_class_scribbles_are_rejected(name):
    image, _, scribbles = regions_image()
    with pytest.raises(ScribbleError, match="two classes"):
        BASELINES[name](image, np.where(scribbles == 1, NO_LABEL, scribbles).astype(np.uint8))
