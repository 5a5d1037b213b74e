"""``gdc-seg eval --protocol clicks|strokes`` in-process on a tiny folder of images and ground truth."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gdc_core.cli import main
from tiny_run import TINY

SHAPE = (30, 40)


pytestmark = pytest.mark.usefixtures("offline_stem")


def folder(tmp_path: Path) -> Path:
    """Two images (a blue left half, a yellow right half) whose object is the right half (a 255 column between),
    one multi-object ground truth (ids 2 and 3, read as one object), no scribbles/."""
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "gt").mkdir()
    image = np.zeros((*SHAPE, 3), np.uint8)
    image[:, : SHAPE[1] // 2] = (30, 40, 160)
    image[:, SHAPE[1] // 2:] = (220, 200, 50)
    gt = np.zeros(SHAPE, np.uint8)
    gt[:, SHAPE[1] // 2:] = 1
    gt[:, SHAPE[1] // 2 - 1] = 255
    multi = np.where(gt == 1, np.where(np.arange(SHAPE[0])[:, None] < 15, 2, 3), gt).astype(np.uint8)
    for stem, truth in (("a", gt), ("b", multi)):
        Image.fromarray(image).save(root / "images" / f"{stem}.png")
        Image.fromarray(truth).save(root / "gt" / f"{stem}.png")
    return root


def test_clicks_with_a_baseline_report_noc_per_image_and_per_folder(tmp_path, capsys):
    status = main(["eval", str(folder(tmp_path)), "--method", "watershed", "--protocol", "clicks",
                   "--interactions", "5", "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out)
    assert report["scored"] == 2 and report["failed"] == 0 and len(report["iou_at"]) == 5
    object_share = (SHAPE[1] // 2) / (SHAPE[1] - 1)  # all object after the first click: 20 of 39 columns
    assert report["iou_at"][0] == pytest.approx(object_share)
    for image in report["images"]:
        first, second = image["interactions"][:2]
        assert first["positive"] and not second["positive"] and second["col"] < SHAPE[1] // 2
        assert image["seconds"][0] is None and image["seconds"][1] > 0
        assert image["noc90"] == 2 and image["ious"][1:] == [1.0] * 4  # the colours split at the object's border
    assert report["noc85"] == report["noc90"] == 2 and report["never90"] == 0
    assert report["config"]["protocol"]["name"] == "clicks" and report["config"]["method"] == "watershed"


def test_strokes_with_gdc_fresh_runs_as_a_table(tmp_path, capsys):
    status = main(["eval", str(folder(tmp_path)), "--protocol", "strokes", "--interactions", "3", "--cold", *TINY])
    out = capsys.readouterr().out
    assert status == 0
    assert "protocol strokes" in out and "(fresh runs)" in out and "images: 2 scored, 0 failed" in out
    for label in ("NoC@85 / NoC@90", "never reaching 85 / 90", "IoU@k (%)", "seconds per prediction"):
        assert label in out


@pytest.mark.parametrize("options, named", [
    (["--protocol", "clicks", "--style", "skeleton"], "--style"),
    (["--protocol", "clicks", "--stop-iou", "1.5"], "--stop-iou"),
    (["--protocol", "strokes", "--interactions", "0"], "--interactions"),
])
def test_bad_protocol_options_are_one_line_exit_2(tmp_path, capsys, options, named):
    assert main(["eval", str(folder(tmp_path)), "--method", "watershed", *options]) == 2
    err = capsys.readouterr().err
    assert named in err and len(err.strip().splitlines()) == 1
