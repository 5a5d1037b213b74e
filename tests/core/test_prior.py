"""The spatial prior (objects lie near their strokes) against a brute-force reference."""
import numpy as np

from gdc_core.prior import class_reach, far_background, limit_to_reach, within_reach
from gdc_core.scribbles import NO_LABEL


def _reference_reach(strokes, cls, min_reach, reach_factor):
    ys, xs = np.nonzero(strokes == cls)
    return max(min_reach * max(strokes.shape),
               reach_factor * 0.5 * np.hypot(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1))


def _reference_limit(decision, strokes, background, min_reach, reach_factor):
    """Pixel by pixel: an object pixel farther from every stroke of its class than the class's reach is background."""
    out = decision.copy()
    for cls in np.unique(decision):
        ys, xs = np.nonzero(strokes == cls)
        if cls == background or len(ys) == 0:
            continue
        reach = _reference_reach(strokes, cls, min_reach, reach_factor)
        for y, x in zip(*np.nonzero(decision == cls)):
            if np.sqrt(((ys - y) ** 2 + (xs - x) ** 2).min()) > reach:
                out[y, x] = background
    return out


def _random_case(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(20, 40)), int(rng.integers(20, 40)))
    strokes = np.full(shape, NO_LABEL, np.uint8)
    for cls in range(3):
        y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        strokes[y:y + int(rng.integers(1, 6)), x:x + int(rng.integers(1, 6))] = cls
    decision = rng.integers(0, 3, shape).astype(np.uint8)
    return decision, strokes


def test_limit_to_reach_matches_the_reference():
    for seed in range(12):
        decision, strokes = _random_case(seed)
        for background, min_reach, factor in ((0, 0.1, 0.5), (1, 0.2, 1.5), (2, 0.05, 0.0)):
            np.testing.assert_array_equal(limit_to_reach(decision, strokes, background, min_reach, factor),
                                          _reference_limit(decision, strokes, background, min_reach, factor))


def test_reach_is_the_larger_of_the_floor_and_the_strokes_extent():
    strokes = np.full((100, 200), NO_LABEL, np.uint8)
    strokes[50, 20:80] = 1  # 60 px long: half-diagonal about 30 px
    assert class_reach(strokes, 1, 0.1, 0.5) == 20.0  # 0.1 * 200 beats 0.5 * 30
    assert abs(class_reach(strokes, 1, 0.01, 2.0) - np.hypot(60, 1)) < 1e-9


def test_background_and_unstroked_classes_reach_everywhere():
    strokes = np.full((30, 30), NO_LABEL, np.uint8)
    strokes[0, 0] = 0
    strokes[29, 29] = 2
    reach = within_reach(strokes, 0, 0.1, 0.5)
    assert reach.shape == (3, 30, 30)
    assert reach[0].all() and reach[1].all()
    assert reach[2, 29, 29] and not reach[2, 0, 0]


def test_far_background_is_unpainted_and_out_of_every_objects_reach():
    strokes = np.full((40, 100), NO_LABEL, np.uint8)
    strokes[20, 10:14] = 1
    strokes[20, 90] = 0
    far = far_background(strokes, 0, 0.1, 0.5)  # reach 10 px
    ys, xs = np.mgrid[:40, :100]
    distance = np.sqrt((ys - 20) ** 2 + np.maximum(0, np.maximum(10 - xs, xs - 13)) ** 2)
    np.testing.assert_array_equal(far, (distance > 10) & (strokes == NO_LABEL))
