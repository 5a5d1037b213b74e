"""The Segmenter facade end to end on synthetic images (no weights needed), and the no-Qt rule."""
import subprocess
import sys

import numpy as np
import pytest

from gdc_core import NO_LABEL, RunCancelled, ScribbleError, Segmenter, SegmenterConfig

FAST = SegmenterConfig(steps=50, samples=8, superpixels=150, seed=0, preview_seconds=0)


def _two_regions(height=90, width=120):
    """A textured image with a disc of another colour, its ground truth and sparse scribbles."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:height, :width]
    disc = (yy - height / 2) ** 2 + (xx - width * 0.6) ** 2 < (height * 0.3) ** 2
    image = np.where(disc[..., None], [200, 60, 50], [40, 120, 190]).astype(np.float64)
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    scribbles = np.full((height, width), NO_LABEL, np.uint8)
    scribbles[height // 2 - 1:height // 2 + 2, int(width * 0.5):int(width * 0.7)] = 1
    scribbles[5:8, 5:width - 5] = 0
    scribbles[height - 8:height - 5, 5:40] = 0
    return image, disc.astype(np.uint8), scribbles


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter(FAST, allow_download=False)


@pytest.mark.parametrize("literal", [False, True], ids=["fast", "paper-literal"])
def test_end_to_end_reaches_high_iou(segmenter, literal):
    image, truth, scribbles = _two_regions()
    segmenter.set_image(image)
    progress = []
    result = segmenter.run(scribbles, config=FAST.replace(literal=literal), on_progress=progress.append)
    assert result.labels.shape == truth.shape and result.labels.dtype == np.uint8
    assert result.probabilities.shape == (2, *truth.shape)
    np.testing.assert_allclose(result.probabilities.sum(0), 1.0, atol=1e-4)
    assert result.uncertainty.shape == truth.shape and 0 <= result.uncertainty.min() <= result.uncertainty.max() <= 1
    inter = np.logical_and(result.labels == 1, truth == 1).sum()
    union = np.logical_or(result.labels == 1, truth == 1).sum()
    assert inter / union > 0.9
    stages = [p.stage for p in progress]
    assert stages[0] == "superpixels" and "training" in stages and "sampling" in stages
    assert [p.step for p in progress if p.stage == "training"] == list(range(1, 51))
    assert sum(p.preview is not None for p in progress) == 5
    assert set(result.timings) >= {"superpixels", "training", "sampling", "total"}
    assert result.device == "cpu" and result.classes == (0, 1)
    assert any("weights" in w for w in result.warnings)  # no weights in this test: the fallback says so


def test_full_size_outputs_for_large_images_and_class_ids_kept():
    image, truth, scribbles = _two_regions(300, 420)
    scribbles = np.where(scribbles == 1, 7, scribbles).astype(np.uint8)  # class ids need not be 0..K-1
    seg = Segmenter(FAST.replace(max_side=100, steps=20, samples=2), allow_download=False)
    seg.set_image(image)
    result = seg.run(scribbles)
    assert result.labels.shape == (300, 420) and set(np.unique(result.labels)) <= {0, 7}
    assert result.classes == (0, 7)


def test_same_seed_same_result_and_stop_request(segmenter):
    image, _, scribbles = _two_regions()
    segmenter.set_image(image)
    config = FAST.replace(steps=5, samples=3)
    a = segmenter.run(scribbles, config=config)
    b = segmenter.run(scribbles, config=config)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    seen = []
    with pytest.raises(RunCancelled):
        segmenter.run(scribbles, config=config, on_progress=seen.append,
                      should_stop=lambda: any(p.stage == "training" and p.step >= 2 for p in seen))
    assert max(p.step for p in seen if p.stage == "training") == 2


def test_bad_scribbles_are_reported(segmenter):
    image, _, scribbles = _two_regions()
    segmenter.set_image(image)
    with pytest.raises(ScribbleError, match="two classes"):
        segmenter.run(np.where(scribbles == 1, NO_LABEL, scribbles).astype(np.uint8))
    with pytest.raises(ScribbleError, match="image is"):
        segmenter.run(scribbles[:-1])


def test_unknown_or_missing_device():
    with pytest.raises(ValueError):
        SegmenterConfig(device="tpu")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            Segmenter(SegmenterConfig(device="cuda"), allow_download=False)


def test_gdc_core_never_imports_qt():
    code = ("import sys, gdc_core, gdc_core.segmenter, gdc_core.io, gdc_core.backbone, gdc_core.network;"
            "import importlib, pkgutil;"
            "[importlib.import_module('gdc_core.' + m.name) for m in pkgutil.iter_modules(gdc_core.__path__)];"
            "bad = [m for m in sys.modules if m.startswith(('PySide', 'PyQt', 'shiboken', 'app'))];"
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_warm_start_continues_the_previous_network(segmenter):
    image, truth, scribbles = _two_regions()
    segmenter.set_image(image)
    config = FAST.replace(steps=20, warm_steps=4, samples=2)
    fresh = segmenter.run(scribbles, config=config)
    more = scribbles.copy()
    more[60:63, 90:110] = 0
    seen = []
    warm = segmenter.run(more, config=config, warm_start=True, on_progress=seen.append)
    assert max(p.step for p in seen if p.stage == "training") == 4
    assert warm.losses[0] < fresh.losses[0], "starts from the trained network, not from scratch"
    seen.clear()
    three = more.copy()
    three[10:12, 10:20] = 2  # a new class: the old network cannot continue
    segmenter.run(three, config=config, warm_start=True, on_progress=seen.append)
    assert max(p.step for p in seen if p.stage == "training") == 20
    segmenter.set_image(image)  # a new image forgets the network
    seen.clear()
    segmenter.run(scribbles, config=config, warm_start=True, on_progress=seen.append)
    assert max(p.step for p in seen if p.stage == "training") == 20


def test_prepare_computes_features_and_superpixels_once_for_the_runs(monkeypatch):
    import gdc_core.segmenter as facade

    calls = []
    real = facade.compute_superpixels
    monkeypatch.setattr(facade, "compute_superpixels", lambda *args: calls.append(args) or real(*args))
    segmenter = Segmenter(FAST.replace(steps=3, samples=2), allow_download=False)
    image, _, scribbles = _two_regions()
    segmenter.set_image(image)
    segmenter.prepare()
    assert len(calls) == 1
    segmenter.run(scribbles)
    segmenter.run(scribbles)
    assert len(calls) == 1, "the runs reuse the prepared superpixels"
    segmenter.run(scribbles, config=segmenter.config.replace(superpixels=80))
    assert len(calls) == 2, "other superpixel settings are computed afresh"


def test_previews_are_rate_limited_in_time(segmenter):
    image, _, scribbles = _two_regions()
    segmenter.set_image(image)
    progress = []
    segmenter.run(scribbles, config=FAST.replace(steps=20, samples=2, preview_every=5, preview_seconds=3600),
                  on_progress=progress.append)
    assert [p.step for p in progress if p.stage == "training"] == list(range(1, 21))
    assert not any(p.preview is not None for p in progress), "no preview within the first hour"


@pytest.mark.parametrize("resolution, literal, expected", [
    ("features", False, (45, 60)),  # half the 90 x 120 working image: the stem feature map's size
    ("input", False, (90, 120)),
    ("features", True, (90, 120)),  # the paper-literal path always over-segments the input image
])
def test_superpixels_run_at_the_configured_resolution(monkeypatch, resolution, literal, expected):
    import gdc_core.segmenter as facade

    shapes = []
    real = facade.compute_superpixels
    monkeypatch.setattr(facade, "compute_superpixels", lambda image, *args: shapes.append(image.shape[:2])
                        or real(image, *args))
    config = FAST.replace(steps=3, samples=2, superpixel_resolution=resolution, literal=literal, refine="none")
    segmenter = Segmenter(config, allow_download=False)
    image, truth, scribbles = _two_regions()
    segmenter.set_image(image)
    result = segmenter.run(scribbles)
    assert shapes == [expected]
    assert result.labels.shape == truth.shape


def test_superpixels_at_the_features_size_segment_as_well(segmenter):
    image, truth, scribbles = _two_regions()
    segmenter.set_image(image)
    scores = {}
    for resolution in ("features", "input"):
        labels = segmenter.run(scribbles, config=FAST.replace(superpixel_resolution=resolution, refine="none")).labels
        scores[resolution] = ((labels == 1) & (truth == 1)).sum() / ((labels == 1) | (truth == 1)).sum()
    assert scores["features"] > 0.85 and scores["features"] > scores["input"] - 0.05, scores


def test_a_warm_run_refines_from_the_previous_runs_colour_models(monkeypatch):
    import cv2

    import gdc_core.refine as refine

    modes = []
    real = cv2.grabCut
    monkeypatch.setattr(refine.cv2, "grabCut", lambda *args: modes.append(args[-1]) or real(*args))
    segmenter = Segmenter(FAST.replace(steps=5, warm_steps=2, samples=2), allow_download=False)
    image, truth, scribbles = _two_regions()
    segmenter.set_image(image)
    segmenter.run(scribbles)
    segmenter.run(scribbles, warm_start=True)
    segmenter.run(scribbles)  # a cold run starts afresh
    assert modes == [cv2.GC_INIT_WITH_MASK, cv2.GC_EVAL, cv2.GC_INIT_WITH_MASK]
    segmenter.set_image(image)  # a new image forgets them
    segmenter.run(scribbles, warm_start=True)
    assert modes[-1] == cv2.GC_INIT_WITH_MASK


def test_a_warm_run_that_ends_against_the_strokes_is_retrained_fresh(segmenter):
    """Swap the classes' strokes: one warm step cannot turn the network around, so the run trains a fresh network
    (all ``steps``) and its result fits the new strokes; a warm run that fits them keeps its few steps."""
    image, truth, scribbles = _two_regions()
    segmenter.set_image(image)
    config = FAST.replace(steps=20, warm_steps=1, samples=4, refine="none")
    segmenter.run(scribbles, config=config)
    swapped = np.where(scribbles == NO_LABEL, NO_LABEL, 1 - scribbles).astype(np.uint8)
    seen = []
    result = segmenter.run(swapped, config=config, warm_start=True, on_progress=seen.append)
    assert [p.step for p in seen if p.stage == "training"][-1] == 20 and result.timings.get("retrained") == 1.0
    painted = swapped != NO_LABEL
    assert (result.labels[painted] == swapped[painted]).mean() > 0.9
    seen.clear()
    more = swapped.copy()
    more[60:63, 90:110] = 1
    kept = segmenter.run(more, config=config, warm_start=True, on_progress=seen.append)
    assert [p.step for p in seen if p.stage == "training"][-1] == 1 and "retrained" not in kept.timings
