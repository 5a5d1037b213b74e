"""fits_strokes against a per-pixel loop."""
import numpy as np
import pytest

from gdc_core.inference import fits_strokes
from gdc_core.scribbles import NO_LABEL


def loop_fits(mean, strokes, share):
    agree, total = {}, {}
    for (row, col), c in np.ndenumerate(strokes):
        if c == NO_LABEL:
            continue
        total[c] = total.get(c, 0) + 1
        best = max(range(len(mean)), key=lambda k: (mean[k, row, col], -k))
        agree[c] = agree.get(c, 0) + (best == c)
    return all(agree.get(c, 0) > share * n for c, n in total.items())


@pytest.mark.parametrize("seed", range(40))
def test_fits_strokes_matches_a_loop(seed):
    rng = np.random.default_rng(seed)
    classes = int(rng.integers(2, 5))
    mean = rng.random((classes, 9, 11)).astype(np.float32)
    mean[:, rng.random((9, 11)) < 0.1] = 0.5  # ties: the first class wins
    strokes = np.full((9, 11), NO_LABEL, np.uint8)
    painted = rng.random((9, 11)) < 0.4
    strokes[painted] = rng.integers(0, classes, painted.sum())
    share = float(rng.choice([0.0, 0.3, 0.5, 0.8]))
    assert fits_strokes(mean, strokes, share) == loop_fits(mean, strokes, share)


def test_fits_strokes_fails_when_one_class_is_lost():
    mean = np.zeros((2, 4, 4), np.float32)
    mean[0] = 1.0  # everything background
    strokes = np.full((4, 4), NO_LABEL, np.uint8)
    strokes[0] = 0
    strokes[3] = 1
    assert not fits_strokes(mean, strokes)
    mean[1, 3] = 2.0
    assert fits_strokes(mean, strokes)
