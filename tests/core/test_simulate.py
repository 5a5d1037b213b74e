"""The seeded scribble simulator: every style is deterministic under a seed and strokes stay inside their class."""
import numpy as np
import pytest

from gdc_core.evaluation import binary_gt
from gdc_core.scribbles import NO_LABEL
from gdc_core.simulate import STYLES, SimulationError, longest_path, simulate_scribbles


def _scene():
    """A 240x427 frame: background 0, a large ellipse (1), a small box (2), an ignore band (255) round the ellipse."""
    import cv2

    gt = np.zeros((240, 427), np.uint8)
    cv2.ellipse(gt, (150, 130), (80, 50), 20, 0, 360, 255, 5)
    cv2.ellipse(gt, (150, 130), (78, 48), 20, 0, 360, 1, -1)
    gt[40:80, 320:380] = 2
    return gt


@pytest.mark.parametrize("style", STYLES)
def test_every_style_strokes_every_class_inside_it_and_never_the_ignore_band(style):
    gt = _scene()
    strokes = simulate_scribbles(gt, style, seed=3)
    assert strokes.shape == gt.shape and strokes.dtype == np.uint8
    painted = strokes != NO_LABEL
    assert np.all(strokes[painted] == gt[painted])
    assert set(np.unique(strokes[painted]).tolist()) == {0, 1, 2}


@pytest.mark.parametrize("style", STYLES)
def test_styles_are_deterministic_under_a_seed(style):
    gt = _scene()
    np.testing.assert_array_equal(simulate_scribbles(gt, style, 5), simulate_scribbles(gt, style, 5))


def test_seeds_change_the_random_styles():
    gt = _scene()
    for style in ("clicks", "dabs", "one-sided"):
        draws = {simulate_scribbles(gt, style, seed).tobytes() for seed in range(6)}
        assert len(draws) > 1, style


def test_one_sided_background_stroke_lies_on_one_side_of_the_objects_only():
    gt = _scene()
    for seed in range(8):
        strokes = simulate_scribbles(gt, "one-sided", seed)
        rows, cols = np.nonzero(strokes == 0)
        objects_rows, objects_cols = np.nonzero((gt != 0) & (gt != 255))
        sides = [cols.max() < objects_cols.min(), cols.min() > objects_cols.max(),
                 rows.max() < objects_rows.min(), rows.min() > objects_rows.max()]
        assert sum(sides) == 1, seed


def test_clicks_are_disks_at_the_farthest_interior_point():
    gt = np.zeros((101, 201), np.uint8)
    gt[20:81, 40:101] = 1  # a square: its farthest interior point is its centre (50, 70)
    strokes = simulate_scribbles(gt, "clicks", 0)
    rows, cols = np.nonzero(strokes == 1)
    assert abs(rows.mean() - 50) <= 1 and abs(cols.mean() - 70) <= 1
    assert rows.max() - rows.min() <= 11  # a disk of radius 5 px at this size (scaled by 201 / 854, at least 1)


def test_thick_strokes_are_wider_than_skeleton_ones():
    gt = _scene()
    thin = (simulate_scribbles(gt, "skeleton", 0) == 1).sum()
    thick = (simulate_scribbles(gt, "thick", 0) == 1).sum()
    assert thick > 2 * thin


def test_longest_path_of_an_l_shape_runs_end_to_end():
    mask = np.zeros((30, 30), bool)
    mask[5, 5:25] = True
    mask[5:25, 24] = True
    path = longest_path(mask)
    ends = {tuple(path[0]), tuple(path[-1])}
    assert ends == {(5, 5), (24, 24)}
    assert np.all(np.abs(np.diff(path, axis=0)).max(1) == 1)  # 8-connected steps
    assert len(path) == 38  # 20 + 20 pixels, less the corner cut by one diagonal step


def test_binary_reading_keeps_background_and_ignore():
    gt = np.array([[0, 1, 2, 255, 4]], np.uint8)
    np.testing.assert_array_equal(binary_gt(gt), [[0, 1, 1, 255, 1]])


def test_unknown_style_is_refused():
    with pytest.raises(SimulationError, match="unknown scribble style"):
        simulate_scribbles(_scene(), "zigzag")
