"""Full-size pixel-array helpers against numpy's plain forms (seeded, ties included)."""
import numpy as np
import pytest

from gdc_core.images import decide, label_values


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_decide_equals_argmax_with_the_first_class_on_ties(classes):
    rng = np.random.default_rng(classes)
    scores = rng.integers(0, 4, size=(classes, 37, 53)).astype(np.float32)  # few levels: many exact ties
    decision = decide(scores)
    assert decision.dtype == np.uint8 and decision.shape == (37, 53)
    np.testing.assert_array_equal(decision, scores.argmax(0))


@pytest.mark.parametrize("dtype", [np.uint8, np.int32])
def test_label_values_equal_np_unique(dtype):
    rng = np.random.default_rng(0)
    labels = np.full((40, 60), 255, dtype)
    labels[rng.integers(0, 40, 30), rng.integers(0, 60, 30)] = rng.integers(0, 21, 30)
    np.testing.assert_array_equal(label_values(labels), np.unique(labels))
    np.testing.assert_array_equal(label_values(np.zeros((3, 3), dtype)), [0])
