"""The interactive protocol: where the robots click and stroke, NoC and IoU@k arithmetic, and the loop."""
from __future__ import annotations

import numpy as np
import pytest

from gdc_core.baselines import watershed
from gdc_core.evaluation import Scores
from gdc_core.interaction import (click_disk, foreground_iou, next_click, next_hint, next_stroke, noc,
                                  run_interactions, summarise_interactive)
from gdc_core.scribbles import NO_LABEL
from oracles import click_reference, hint_reference


def disc(shape, centre, radius) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius ** 2


def test_the_first_click_is_at_the_objects_interior_point_farthest_from_its_border():
    gt = np.zeros((30, 40), np.uint8)
    gt[disc(gt.shape, (13, 22), 7)] = 1
    click = next_click(gt, np.zeros_like(gt))
    assert (click.row, click.col, click.label) == (13, 22, 1) == click_reference(gt, np.zeros_like(gt))
    assert click.pixels[13, 22] and not click.pixels[gt == 0].any()


def test_the_image_border_counts_as_a_border():
    gt = np.zeros((20, 40), np.uint8)
    gt[:, :12] = 1  # an object cut by the left edge: its farthest point is 6 px in, not on the edge
    click = next_click(gt, np.zeros_like(gt))
    assert click.col == 5 and (click.row, click.col, click.label) == click_reference(gt, np.zeros_like(gt))


@pytest.mark.parametrize("seed", range(4))
def test_clicks_match_the_loop_reference_on_random_masks(seed):
    rng = np.random.default_rng(seed)
    gt = np.zeros((22, 28), np.uint8)
    gt[disc(gt.shape, rng.integers(4, 18, 2), rng.integers(4, 9))] = 1
    gt[rng.random(gt.shape) < 0.05] = 255  # ignored pixels are never errors
    labels = np.zeros_like(gt)
    labels[disc(gt.shape, rng.integers(4, 18, 2), rng.integers(3, 9))] = 1
    click = next_click(gt, labels)
    assert (click.row, click.col, click.label) == click_reference(gt, labels)
    assert next_click(gt, labels) == click  # deterministic


def test_the_thicker_error_wins_and_sets_the_clicks_class():
    gt = np.zeros((40, 60), np.uint8)
    gt[5:35, 5:25] = 1
    labels = gt.copy()
    labels[5:35, 5:9] = 0  # a thin missed strip: a false negative 4 px wide
    labels[10:30, 35:55] = 1  # a thick false positive: 20 px wide
    click = next_click(gt, labels)
    assert click.label == 0 and (click.row, click.col, click.label) == click_reference(gt, labels)
    assert 10 <= click.row < 30 and 35 <= click.col < 55
    labels[10:30, 35:55] = 0
    click = next_click(gt, labels)
    assert click.label == 1 and 5 <= click.col < 9
    assert next_click(gt, gt) is None


def test_a_click_is_a_disk_clipped_to_its_class():
    gt = np.zeros((480, 854), np.uint8)
    gt[:, :400] = 1
    pixels = click_disk(gt, 100, 398, 1)
    assert pixels.sum() < np.pi * 5 ** 2 + 12 and pixels[100, 393:399].all() and not pixels[:, 400:].any()
    big = np.zeros((960, 1708), np.uint8)
    assert click_disk(big, 500, 500, 0).sum() > 3.5 * click_disk(gt, 100, 600, 0).sum()  # radius scales


def test_the_stroke_robot_strokes_the_largest_error_region_deterministically():
    gt = np.zeros((120, 160), np.uint8)
    gt[20:100, 30:90] = 1
    labels = gt.copy()
    labels[20:100, 30:40] = 0  # false negatives: 800 px
    labels[20:100, 110:135] = 1  # false positives: 2000 px, the largest region, long and thin
    stroke = next_stroke(gt, labels, np.random.default_rng(0))
    assert stroke.label == 0 and stroke.pixels.any()
    assert not stroke.pixels[~((labels == 1) & (gt == 0))].any()  # inside the false positives only
    rows, cols = np.nonzero(stroke.pixels)
    assert rows.max() - rows.min() > 40  # a stroke along the region, not a dot
    again = next_stroke(gt, labels, np.random.default_rng(0))
    assert np.array_equal(again.pixels, stroke.pixels)


def test_a_region_too_small_for_a_stroke_gets_a_click():
    gt = np.zeros((120, 160), np.uint8)
    gt[50:53, 50:53] = 1
    stroke = next_stroke(gt, np.zeros_like(gt), np.random.default_rng(0))
    assert stroke.label == 1 and (stroke.row, stroke.col) == (51, 51)
    assert np.array_equal(stroke.pixels, click_disk(gt, 51, 51, 1)) and stroke.pixels[51, 51]


def test_foreground_iou_matches_the_confusion_matrix():
    rng = np.random.default_rng(3)
    gt = rng.choice([0, 1, 255], size=(20, 30), p=[0.5, 0.4, 0.1]).astype(np.uint8)
    labels = rng.integers(0, 2, size=gt.shape).astype(np.uint8)
    scores = Scores.empty()
    assert foreground_iou(gt, labels) == pytest.approx(scores.add(gt, labels))


def test_noc_arithmetic_by_hand():
    ious = [0.10, 0.84, 0.86, 0.85, 0.89, 0.91, 0.95] + [0.95] * 13
    assert noc(ious, 0.85) == 3 and noc(ious, 0.90) == 6
    assert noc([0.5] * 20, 0.85) == 20  # never reached: the maximum
    assert noc([0.5] * 5 + [0.99] * 15, 0.9, max_interactions=4) == 4
    records = [
        {"status": "scored", "noc85": 3, "noc90": 6, "ious": ious, "seconds": [None, 1.0, 0.4, 0.2] + [0.3] * 16},
        {"status": "scored", "noc85": 20, "noc90": 20, "ious": [0.5] * 20, "seconds": [None, 3.0, 0.6]},
        {"status": "failed", "error": "x"},
    ]
    summary = summarise_interactive(records)
    assert summary["noc85"] == 11.5 and summary["noc90"] == 13
    assert summary["never85"] == 1 and summary["never90"] == 1 and summary["scored"] == 2 and summary["failed"] == 1
    assert summary["iou_at"][0] == pytest.approx(0.30) and summary["iou_at"][2] == pytest.approx(0.68)
    assert summary["seconds_first"] == pytest.approx(2.0)
    assert summary["seconds_later"] == pytest.approx((0.4 + 0.2 + 0.3 * 16 + 0.6) / 19)


def _scene():
    """A textured image with two blobs of another colour and its two-class ground truth."""
    rng = np.random.default_rng(0)
    gt = np.zeros((90, 120), np.uint8)
    gt[disc(gt.shape, (40, 40), 18)] = 1
    gt[disc(gt.shape, (60, 95), 12)] = 1
    image = np.where(gt[..., None] == 1, [200, 60, 50], [40, 120, 190]).astype(np.float64)
    return np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8), gt


def test_the_loop_fills_one_class_then_runs_the_method_and_records_each_interaction():
    image, gt = _scene()
    calls = []

    def predict(im, scribbles, first):
        assert im is image
        calls.append((first, scribbles.copy()))
        return watershed(im, scribbles)

    run = run_interactions(image, gt, predict, "clicks", max_interactions=6)
    assert run.ious[0] == pytest.approx((gt == 1).sum() / gt.size)  # one class stroked: filled with it
    assert run.seconds[0] is None and all(s is not None and s >= 0 for s in run.seconds[1:])
    assert [first for first, _ in calls] == [True] + [False] * (len(calls) - 1)
    assert run.interactions[0]["positive"] and not run.interactions[1]["positive"]
    strokes = [np.count_nonzero(s != NO_LABEL) for _, s in calls]
    assert strokes == sorted(strokes)  # each interaction adds strokes, none is lost
    assert len(run.ious) == 6 and run.ious[-1] > 0.9


def test_a_perfect_method_stops_the_robot_and_the_curve_stays_at_one():
    image, gt = _scene()
    run = run_interactions(image, gt, lambda im, s, first: gt.copy(), "strokes", max_interactions=20)
    assert len(run.interactions) == 2 and run.ious == [pytest.approx((gt == 1).mean())] + [1.0] * 19
    assert run.summary()["noc90"] == 2


def test_stop_iou_ends_early_and_carries_the_last_iou():
    image, gt = _scene()
    run = run_interactions(image, gt, lambda im, s, first: watershed(im, s), "clicks", max_interactions=10,
                           stop_iou=0.5)
    assert len(run.interactions) == 2 and run.ious[2:] == [run.ious[1]] * 8


def test_bad_protocol_or_an_empty_object_are_refused():
    image, gt = _scene()
    with pytest.raises(ValueError, match="protocol"):
        run_interactions(image, gt, lambda *a: gt, "taps")
    with pytest.raises(ValueError, match="no object"):
        run_interactions(image, np.zeros_like(gt), lambda *a: gt)


def test_the_hint_is_the_middle_of_the_thickest_unsure_region_of_one_mask_class():
    labels = np.zeros((40, 60), np.uint8)
    labels[:, 30:] = 1
    uncertainty = np.zeros((40, 60), np.float32)
    uncertainty[:, 26:34] = 0.4  # a band along the mask's border: 4 px thick on each side
    uncertainty[disc(labels.shape, (20, 45), 6)] = 0.3  # a blob inside the object: 6 px deep
    uncertainty[disc(labels.shape, (8, 10), 8)] = 0.2  # thicker, but below the threshold
    hint = next_hint(labels, uncertainty)
    assert (hint.row, hint.col, hint.mask_label) == (20, 45, 1) == hint_reference(labels, uncertainty, 0.25)
    assert next_hint(labels, np.full(labels.shape, 0.1, np.float32)) is None


@pytest.mark.parametrize("seed", range(3))
def test_the_hint_matches_the_loop_reference_on_random_maps(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=(6, 8)).repeat(4, 0).repeat(4, 1).astype(np.uint8)  # 24 x 32, three classes
    uncertainty = rng.random((12, 16)).repeat(2, 0).repeat(2, 1).astype(np.float32)
    hint = next_hint(labels, uncertainty, 0.5)
    assert (hint.row, hint.col, hint.mask_label) == hint_reference(labels, uncertainty, 0.5)
