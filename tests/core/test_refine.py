"""GrabCut refinement of a coarse network decision."""
import numpy as np

from gdc_core.refine import grabcut_refine
from gdc_core.scribbles import NO_LABEL


def _scene(classes=2, size=(80, 100)):
    """Flat colour blocks with light noise: ground truth, image, and strokes inside each block."""
    height, width = size
    truth = np.zeros(size, np.uint8)
    truth[20:60, 30:70] = 1
    if classes == 3:
        truth[5:20, 75:95] = 2
    colours = np.array([[30, 90, 160], [200, 70, 40], [60, 180, 60]], np.float64)
    rng = np.random.default_rng(0)
    image = np.clip(colours[truth] + rng.normal(0, 5, (height, width, 3)), 0, 255).astype(np.uint8)
    strokes = np.full(size, NO_LABEL, np.uint8)
    strokes[40, 40:60] = 1
    strokes[70, 10:90] = 0
    if classes == 3:
        strokes[12, 80:90] = 2
    return truth, image, strokes


def _blobby(truth, classes):
    """A coarse, wrong-at-the-borders probability map: the truth shifted and blurred."""
    import cv2

    shifted = np.roll(truth, (4, -5), axis=(0, 1))
    probs = np.stack([cv2.GaussianBlur((shifted == c).astype(np.float32), (0, 0), 4) for c in range(classes)])
    return probs / probs.sum(0, keepdims=True)


def test_binary_refinement_snaps_to_the_edges():
    truth, image, strokes = _scene()
    probs = _blobby(truth, 2)
    before = (probs.argmax(0) == truth).mean()
    refined = grabcut_refine(image, probs, strokes)
    assert refined.dtype == np.uint8 and refined.shape == truth.shape
    assert (refined == truth).mean() > max(before, 0.98)


def test_multiclass_refinement_and_downscaled_cut():
    truth, image, strokes = _scene(3)
    probs = _blobby(truth, 3)
    refined = grabcut_refine(image, probs, strokes, max_side=60)
    assert refined.shape == truth.shape
    assert (refined == truth).mean() > (probs.argmax(0) == truth).mean()
    assert np.all(refined[strokes != NO_LABEL] == strokes[strokes != NO_LABEL])


def test_degenerate_decision_falls_back_to_the_network():
    truth, image, strokes = _scene()
    probs = np.stack([np.ones(truth.shape, np.float32), np.zeros(truth.shape, np.float32)])
    strokes[:] = NO_LABEL  # nothing certain and nothing probable in class 1: GrabCut cannot run
    np.testing.assert_array_equal(grabcut_refine(image, probs, strokes), 0)
