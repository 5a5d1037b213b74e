"""SLIC expansion, scribble validation and label downscaling."""
import numpy as np
import pytest

from gdc_core.images import downscale_labels, working_shape
from gdc_core.scribbles import (NO_LABEL, ScribbleError, compute_superpixels, expand_scribbles,
                                validate_scribbles)
from oracles import expand_scribbles_reference


def test_expansion_fills_touched_superpixels():
    superpixels = np.repeat(np.arange(4), 4).reshape(4, 4)  # four horizontal bands
    scribbles = np.full((4, 4), NO_LABEL, np.uint8)
    scribbles[0, 1] = 1
    scribbles[2, 3] = 0
    out = expand_scribbles(scribbles, superpixels)
    assert np.all(out[0] == 1) and np.all(out[2] == 0)
    assert np.all(out[1] == NO_LABEL) and np.all(out[3] == NO_LABEL)


def test_two_classes_touching_one_superpixel_keep_only_their_strokes():
    superpixels = np.zeros((3, 5), int)
    scribbles = np.full((3, 5), NO_LABEL, np.uint8)
    scribbles[0, 0] = 1
    scribbles[2, 4] = 2
    out = expand_scribbles(scribbles, superpixels)
    expected = np.full((3, 5), NO_LABEL, np.uint8)
    expected[0, 0], expected[2, 4] = 1, 2
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("seed", range(5))
def test_expansion_matches_reference_on_random_maps(seed):
    rng = np.random.default_rng(seed)
    superpixels = rng.integers(0, 30, size=(40, 50))
    scribbles = np.where(rng.random((40, 50)) < 0.03, rng.integers(0, 4, size=(40, 50)), NO_LABEL).astype(np.uint8)
    np.testing.assert_array_equal(expand_scribbles(scribbles, superpixels),
                                  expand_scribbles_reference(scribbles, superpixels))


def test_slic_expansion_on_an_image_stays_inside_regions():
    image = np.zeros((60, 80, 3), np.float32)
    image[:, 40:] = 1.0
    superpixels = compute_superpixels(image, 40)
    scribbles = np.full((60, 80), NO_LABEL, np.uint8)
    scribbles[30, 5:35] = 0
    scribbles[30, 45:75] = 1
    out = expand_scribbles(scribbles, superpixels)
    assert np.all(out[:, :40][out[:, :40] != NO_LABEL] == 0)
    assert np.all(out[:, 40:][out[:, 40:] != NO_LABEL] == 1)
    assert (out != NO_LABEL).mean() > 0.15


def test_validation_messages():
    with pytest.raises(ScribbleError, match="two classes.*no strokes"):
        validate_scribbles(np.full((4, 4), NO_LABEL, np.uint8), (4, 4))
    one = np.full((4, 4), NO_LABEL, np.uint8)
    one[0, 0] = 3
    with pytest.raises(ScribbleError, match="only class 3"):
        validate_scribbles(one, (4, 4))
    with pytest.raises(ScribbleError, match="5x4 but the image is 4x4"):
        validate_scribbles(np.zeros((4, 5), np.uint8), (4, 4))
    with pytest.raises(ScribbleError, match="single-channel"):
        validate_scribbles(np.zeros((4, 4, 3), np.uint8), (4, 4))
    two = one.copy()
    two[1, 1] = 0
    assert validate_scribbles(two, (4, 4)) == (0, 3)


def test_downscale_keeps_thin_strokes():
    labels = np.full((600, 900), NO_LABEL, np.uint8)
    labels[300, :] = 1  # a 1-pixel stroke
    labels[:, 100:103] = 0
    small = downscale_labels(labels, working_shape((600, 900), 60), NO_LABEL)
    assert small.shape == (40, 60)
    assert (small == 1).sum() >= 55 and (small == 0).sum() >= 38


def test_downscale_reference_majority():
    rng = np.random.default_rng(0)
    labels = rng.choice([0, 1, 2, NO_LABEL], size=(20, 30), p=[0.2, 0.2, 0.1, 0.5]).astype(np.uint8)
    small = downscale_labels(labels, (10, 15), NO_LABEL)
    for i in range(10):
        for j in range(15):
            block = labels[2 * i:2 * i + 2, 2 * j:2 * j + 2].ravel()
            block = block[block != NO_LABEL]
            if block.size == 0:
                assert small[i, j] == NO_LABEL
            else:
                counts = np.bincount(block, minlength=3)
                assert counts[small[i, j]] == counts.max()
