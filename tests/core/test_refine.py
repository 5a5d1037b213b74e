"""GrabCut refinement of a coarse network decision."""
import numpy as np

from gdc_core.config import parse_refine
from gdc_core.refine import keep_seeded_regions, refine_labels
from oracles import keep_seeded_regions_reference
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
    refined = refine_labels(image, probs, strokes, ("grabcut",))
    assert refined.dtype == np.uint8 and refined.shape == truth.shape
    assert (refined == truth).mean() > max(before, 0.98)


def test_multiclass_refinement_and_downscaled_cut():
    truth, image, strokes = _scene(3)
    probs = _blobby(truth, 3)
    refined = refine_labels(image, probs, strokes, ("grabcut",), max_side=60)
    assert refined.shape == truth.shape
    assert (refined == truth).mean() > (probs.argmax(0) == truth).mean()
    assert np.all(refined[strokes != NO_LABEL] == strokes[strokes != NO_LABEL])


def test_degenerate_decision_falls_back_to_the_network():
    truth, image, strokes = _scene()
    probs = np.stack([np.ones(truth.shape, np.float32), np.zeros(truth.shape, np.float32)])
    strokes[:] = NO_LABEL  # nothing certain and nothing probable in class 1: GrabCut cannot run
    np.testing.assert_array_equal(refine_labels(image, probs, strokes, ("grabcut",)), 0)


def test_seeded_regions_drop_specks_and_fill_from_neighbours():
    labels = np.zeros((12, 12), np.uint8)
    labels[2:6, 2:6] = 1  # the object, stroked
    labels[9:11, 9:11] = 1  # a speck far away, never stroked
    labels[3, 3] = 0  # a one-pixel hole in the object
    strokes = np.full((12, 12), NO_LABEL, np.uint8)
    strokes[4, 4] = 1
    strokes[0, 0] = 0
    out = keep_seeded_regions(labels, strokes)
    assert np.all(out[9:11, 9:11] == 0), "the unstroked speck goes to the surrounding class"
    assert out[3, 3] == 1, "the enclosed hole is not connected to the background stroke"
    assert np.all(out[2:6, 2:6] == 1)


def test_seeded_regions_match_reference():
    rng = np.random.default_rng(0)
    for _ in range(5):
        labels = (rng.random((20, 24)) < 0.4).astype(np.uint8) + (rng.random((20, 24)) < 0.2)
        strokes = np.where(rng.random((20, 24)) < 0.03, labels, NO_LABEL).astype(np.uint8)
        out = keep_seeded_regions(labels, strokes)
        kept, allowed = keep_seeded_regions_reference(labels, strokes)
        np.testing.assert_array_equal(out[kept], labels[kept])
        assert all(int(value) in options for value, options in zip(out.ravel(), allowed))


def test_parse_refine():
    assert parse_refine("none") == ()
    assert parse_refine("seeded+grabcut") == ("grabcut", "seeded")
    assert parse_refine("seeded+prior+grabcut") == ("prior", "grabcut", "seeded")
    import pytest

    with pytest.raises(ValueError):
        parse_refine("crf")


def test_refinement_is_reproducible_whatever_ran_before():
    """GrabCut's k-means start depends on OpenCV's random state; on a real photo with a rough decision that state
    changes the cut (hundreds of pixels when unseeded), so each cut must seed it."""
    from pathlib import Path

    import cv2

    from gdc_core.io import read_image, read_label_map
    from gdc_core.refine import grabcut_labels

    resources = Path(__file__).resolve().parents[2] / "resources"
    image = read_image(resources / "sample.png")
    scribbles = read_label_map(resources / "sample_scribbles.png")
    strokes = np.where(scribbles == NO_LABEL, NO_LABEL, (scribbles > 0).astype(np.uint8)).astype(np.uint8)
    noise = np.random.default_rng(0).random(image.shape[:2]).astype(np.float32)
    decision = (cv2.GaussianBlur(noise, (0, 0), 15) > 0.5).astype(np.uint8)
    results = []
    for seed in (1, 2, 3):
        cv2.setRNGSeed(seed)
        results.append(grabcut_labels(image, decision, strokes, 2))
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


def test_band_lets_grabcut_move_only_pixels_near_the_networks_border():
    """The decision is the object shifted by (4, -5) px: without a band GrabCut snaps it to the edges; with a 3 px
    band only pixels within 3 px of the decision's border (exact Euclidean distance, brute force here) may change,
    so the snap stops short where the error is wider."""
    truth, image, strokes = _scene()
    probs = _blobby(truth, 2)
    decision = probs.argmax(0)
    assert (refine_labels(image, probs, strokes, ("grabcut",)) == truth).mean() > 0.98
    band = 3
    refined = refine_labels(image, probs, strokes, ("grabcut",), band=band)
    border_y, border_x = np.nonzero(_border(decision))
    changed_y, changed_x = np.nonzero(refined != decision)
    assert len(changed_y) > 0
    for y, x in zip(changed_y, changed_x):
        assert np.sqrt(((border_y - y) ** 2 + (border_x - x) ** 2).min()) <= band + 1, (y, x)
    assert (refined == truth).mean() > (decision == truth).mean()
    assert (refined == truth).mean() < 0.98, "errors wider than the band remain"


def _border(labels):
    """Pixels with a 4-neighbour of another label (both sides of the border)."""
    border = np.zeros(labels.shape, bool)
    border[1:] |= labels[1:] != labels[:-1]
    border[:-1] |= labels[1:] != labels[:-1]
    border[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    border[:, :-1] |= labels[:, 1:] != labels[:, :-1]
    return border


def test_colour_models_are_kept_per_class_and_start_the_next_cut(monkeypatch):
    """The first refinement fits and keeps every class's GrabCut colour models; the next one starts its cuts from
    them (GC_EVAL, no k-means) and reaches the same decision on the same input."""
    import cv2

    import gdc_core.refine as refine

    truth, image, strokes = _scene(3)
    probs = _blobby(truth, 3)
    modes = []
    real = cv2.grabCut
    monkeypatch.setattr(refine.cv2, "grabCut", lambda *args: modes.append(args[-1]) or real(*args))
    models = {}
    cold = refine_labels(image, probs, strokes, ("grabcut",), colour_models=models)
    assert sorted(models) == [0, 1, 2] and modes == [cv2.GC_INIT_WITH_MASK] * 3
    assert all(b.shape == f.shape == (1, 65) and b.any() and f.any() for b, f in models.values())
    first = {c: (b.copy(), f.copy()) for c, (b, f) in models.items()}
    modes.clear()
    warm = refine_labels(image, probs, strokes, ("grabcut",), colour_models=models)
    assert modes == [cv2.GC_EVAL] * 3
    assert (warm == cold).mean() > 0.99 and (warm == truth).mean() > 0.98
    assert any(not np.array_equal(models[c][0], first[c][0]) for c in models), "the fitted models were written back"


def test_no_unanchored_region_survives_at_full_resolution():
    """Specks of the network's full-size decision that vanish at the refinement's resolution must not come back."""
    import cv2

    truth, image, strokes = _scene()
    size = (truth.shape[1] * 8, truth.shape[0] * 8)  # 800 x 640: refined at 512 px, then brought back
    truth = cv2.resize(truth, size, interpolation=cv2.INTER_NEAREST)
    image = cv2.resize(image, size, interpolation=cv2.INTER_NEAREST)
    strokes = cv2.resize(strokes, size, interpolation=cv2.INTER_NEAREST)
    probs = _blobby(truth, 2)
    rng = np.random.default_rng(1)
    for y, x in zip(rng.integers(0, 640, 300), rng.integers(0, 800, 300)):  # 300 one-pixel specks of class 1
        probs[:, y, x] = (0.2, 0.8)
    refined = refine_labels(image, probs, strokes, ("grabcut", "seeded"), max_side=512)
    for cls in (0, 1):
        count, regions = cv2.connectedComponents((refined == cls).astype(np.uint8), connectivity=8)
        anchored = set(np.unique(regions[(strokes == cls) & (refined == cls)]).tolist())
        assert set(range(1, count)) <= anchored, f"class {cls}: {count - 1 - len(anchored)} unanchored regions"
