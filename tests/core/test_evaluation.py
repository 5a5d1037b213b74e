"""Metric code (confusion matrix, mIoU, pixel accuracy, foreground IoU) against a pixel-loop reference."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gdc_core.evaluation import (DatasetError, Scores, confusion_matrix, is_two_class, list_dataset, mean_iou,
                                 per_class_iou, pixel_accuracy)
from oracles import scores_reference

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # optional shared evaluation data


def random_pair(rng: np.random.Generator, classes: list[int], shape=(9, 11)) -> tuple[np.ndarray, np.ndarray]:
    """A random (gt, prediction) pair over ``classes``, with about 15 % of the gt set to ignore (255)."""
    gt = rng.choice(classes, size=shape).astype(np.uint8)
    gt[rng.random(shape) < 0.15] = 255
    pred = rng.choice(classes, size=shape).astype(np.uint8)
    keep = rng.random(shape) < 0.6
    pred[keep & (gt != 255)] = gt[keep & (gt != 255)]
    return gt, pred


def assert_summary_equal(summary: dict, reference: dict) -> None:
    for key in ("miou", "pixel_accuracy", "mean_fg_iou"):
        if reference[key] is None:
            assert summary[key] is None, key
        else:
            assert summary[key] == pytest.approx(reference[key], abs=1e-12), key
    assert summary["per_class_iou"].keys() == reference["per_class_iou"].keys()
    for c, value in reference["per_class_iou"].items():
        assert summary["per_class_iou"][c] == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize("classes", [[0, 1], [0, 1, 2, 3], [0, 5, 17]])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_match_pixel_loop_reference(classes, seed):
    rng = np.random.default_rng(seed)
    pairs = [random_pair(rng, classes) for _ in range(4)]
    scores = Scores.empty()
    for gt, pred in pairs:
        scores.add(gt, pred)
    assert_summary_equal(scores.summary(), scores_reference(pairs))


def test_hand_computed_example():
    gt = np.array([[0, 0, 1, 1], [0, 255, 1, 1]], dtype=np.uint8)
    pred = np.array([[0, 1, 1, 1], [0, 0, 0, 1]], dtype=np.uint8)
    matrix = confusion_matrix(gt, pred)
    assert matrix[0, 0] == 2 and matrix[0, 1] == 1 and matrix[1, 1] == 3 and matrix[1, 0] == 1
    assert matrix.sum() == 7  # the ignored pixel is not counted
    assert per_class_iou(matrix) == pytest.approx({0: 2 / 4, 1: 3 / 5})
    assert mean_iou(matrix) == pytest.approx((0.5 + 0.6) / 2)
    assert pixel_accuracy(matrix) == pytest.approx(5 / 7)


def test_class_only_predicted_counts_as_zero_and_absent_class_is_left_out():
    gt = np.zeros((2, 2), dtype=np.uint8)
    pred = np.array([[0, 0], [0, 2]], dtype=np.uint8)
    ious = per_class_iou(confusion_matrix(gt, pred))
    assert ious == pytest.approx({0: 0.75, 2: 0.0})


def test_foreground_iou_only_for_two_class_sets():
    two = Scores.empty()
    assert two.add(np.array([[0, 1]], np.uint8), np.array([[1, 1]], np.uint8)) == pytest.approx(0.5)
    assert two.add(np.array([[0, 0]], np.uint8), np.array([[0, 0]], np.uint8)) is None  # no foreground anywhere
    assert two.summary()["mean_fg_iou"] == pytest.approx(0.5)
    assert is_two_class(two.matrix)
    three = Scores.empty()
    three.add(np.array([[0, 1, 2]], np.uint8), np.array([[0, 1, 2]], np.uint8))
    assert not is_two_class(three.matrix)
    assert three.summary()["mean_fg_iou"] is None


def test_empty_scores_are_none():
    summary = Scores.empty().summary()
    assert summary["miou"] is None and summary["pixel_accuracy"] is None and summary["mean_fg_iou"] is None


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8))


def make_folder(root, names=("b.png", "a.jpg")) -> None:
    for sub in ("images", "gt", "scribbles"):
        (root / sub).mkdir(parents=True)
    for name in names:
        Image.new("RGB", (4, 4)).save(root / "images" / name)
    (root / "images" / "notes.txt").write_text("not an image")


def test_list_dataset_pairs_files_by_stem(tmp_path):
    make_folder(tmp_path)
    samples = list_dataset(tmp_path)
    assert [s.name for s in samples] == ["a.jpg", "b.png"]
    assert samples[0].gt == tmp_path / "gt" / "a.png" and samples[0].scribbles == tmp_path / "scribbles" / "a.png"


def test_list_dataset_rejects_bad_folders(tmp_path):
    with pytest.raises(DatasetError, match="images"):
        list_dataset(tmp_path)
    make_folder(tmp_path / "empty", names=())
    with pytest.raises(DatasetError, match="no images"):
        list_dataset(tmp_path / "empty")


def test_list_dataset_on_shared_grabcut_dev():
    folder = DATA / "grabcut-dev"
    if not folder.is_dir():
        pytest.skip("shared evaluation data not available (../shared/data)")
    samples = list_dataset(folder)
    assert len(samples) == 25 and all(s.gt.is_file() and s.scribbles.is_file() for s in samples)
