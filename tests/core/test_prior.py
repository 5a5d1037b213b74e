"""The spatial prior (objects lie near their strokes) against a brute-force reference."""
import numpy as np

from gdc_core.prior import class_reach, far_background, within_reach
from gdc_core.scribbles import NO_LABEL


def _reference_reach(strokes, cls, min_reach, reach_factor):
    ys, xs = np.nonzero(strokes == cls)
    return max(min_reach * max(strokes.shape),
               reach_factor * 0.5 * np.hypot(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1))


def _reference_hull(points, shape):
    """Per pixel: (inside for certain, inside possibly): the pixel's centre lies in the convex hull of ``points``
    (row, col), or within 1 px of its border (a rasterised hull may take or leave the pixels its border touches)."""
    from scipy.spatial import ConvexHull, Delaunay

    ys, xs = np.mgrid[:shape[0], :shape[1]]
    centres = np.stack([ys.ravel(), xs.ravel()], 1).astype(float)
    points = np.unique(points, axis=0).astype(float)
    if len(points) < 3 or np.linalg.matrix_rank(points - points[0]) < 2:  # a point or a segment
        inside = np.zeros(len(centres), bool)
        corners = points[[np.argmin(points @ (1, 1e-3)), np.argmax(points @ (1, 1e-3))]]
        edges = [(corners[0], corners[1])]
    else:
        inside = Delaunay(points).find_simplex(centres) >= 0
        vertices = points[ConvexHull(points).vertices]
        edges = list(zip(vertices, np.roll(vertices, -1, axis=0)))
    distance = np.full(len(centres), np.inf)
    for a, b in edges:
        t = np.clip(((centres - a) @ (b - a)) / max(1e-12, (b - a) @ (b - a)), 0, 1)
        distance = np.minimum(distance, np.hypot(*(centres - a - t[:, None] * (b - a)).T))
    inside |= distance < 1e-9
    return inside.reshape(shape), (inside | (distance <= 1.0)).reshape(shape)


def _reference_far(strokes, background, min_reach, reach_factor):
    """Pixel by pixel: unpainted, farther from every stroke of each object class than the class's reach and outside
    the convex hull of its strokes, the background strokes and the border pixels within its reach. Returns (certainly far, possibly far: the hull's
    rasterisation may decide either way near its border)."""
    certain = strokes == NO_LABEL
    possible = certain.copy()
    background_points = np.argwhere(strokes == background)
    for cls in np.unique(strokes):
        ys, xs = np.nonzero(strokes == cls)
        if cls in (background, NO_LABEL):
            continue
        reach = _reference_reach(strokes, cls, min_reach, reach_factor)
        height, width = strokes.shape
        border = [(y, x) for y in range(height) for x in range(width) if y in (0, height - 1) or x in (0, width - 1)]
        near_border = [p for p in border if np.sqrt(((ys - p[0]) ** 2 + (xs - p[1]) ** 2).min()) <= reach]
        inside, maybe_inside = _reference_hull(np.vstack([np.stack([ys, xs], 1), background_points,
                                                          np.reshape(near_border, (-1, 2))]), strokes.shape)
        for y in range(strokes.shape[0]):
            for x in range(strokes.shape[1]):
                near = np.sqrt(((ys - y) ** 2 + (xs - x) ** 2).min()) <= reach
                certain[y, x] &= not near and not maybe_inside[y, x]
                possible[y, x] &= not near and not inside[y, x]
    return certain, possible


def _random_case(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(20, 40)), int(rng.integers(20, 40)))
    strokes = np.full(shape, NO_LABEL, np.uint8)
    for cls in range(3):
        y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        strokes[y:y + int(rng.integers(1, 6)), x:x + int(rng.integers(1, 6))] = cls
    decision = rng.integers(0, 3, shape).astype(np.uint8)
    return decision, strokes


def test_far_background_matches_the_reference():
    for seed in range(12):
        _, strokes = _random_case(seed)
        for background, min_reach, factor in ((0, 0.1, 0.5), (1, 0.2, 1.5), (2, 0.05, 0.0)):
            certain, possible = _reference_far(strokes, background, min_reach, factor)
            far = far_background(strokes, background, min_reach, factor)
            assert np.all(far[certain]) and not np.any(far[~possible]), (seed, background)
            assert certain.sum() > 0.5 * possible.sum()  # the hull's border leaves little in doubt


def test_reach_is_the_larger_of_the_floor_and_the_strokes_extent():
    strokes = np.full((100, 200), NO_LABEL, np.uint8)
    strokes[50, 20:80] = 1  # 60 px long: half-diagonal about 30 px
    assert class_reach(strokes, 1, 0.1, 0.5) == 20.0  # 0.1 * 200 beats 0.5 * 30
    assert abs(class_reach(strokes, 1, 0.01, 2.0) - np.hypot(60, 1)) < 1e-9


def test_background_and_unstroked_classes_reach_everywhere_objects_their_strokes_and_the_hull():
    strokes = np.full((30, 30), NO_LABEL, np.uint8)
    strokes[0, 0] = 0
    strokes[29, 29] = 2
    reach = within_reach(strokes, 0, 0.1, 0.5)  # class 2 reaches 3 px and the diagonal to the background stroke
    assert reach.shape == (3, 30, 30)
    assert reach[0].all() and reach[1].all()
    assert reach[2, 29, 29] and reach[2, 0, 0] and reach[2, 15, 15] and reach[2, 27, 29]
    assert not reach[2, 0, 29] and not reach[2, 20, 5]


def test_far_background_is_unpainted_and_out_of_every_objects_reach():
    strokes = np.full((40, 100), NO_LABEL, np.uint8)
    strokes[20, 10:14] = 1
    strokes[20, 90] = 0  # on the same row: the hull adds only the segment between them
    far = far_background(strokes, 0, 0.1, 0.5)  # reach 10 px
    ys, xs = np.mgrid[:40, :100]
    distance = np.sqrt((ys - 20) ** 2 + np.maximum(0, np.maximum(10 - xs, xs - 13)) ** 2)
    expected = (distance > 10) & (strokes == NO_LABEL) & ~((ys == 20) & (xs >= 10) & (xs <= 90))
    np.testing.assert_array_equal(far, expected)
