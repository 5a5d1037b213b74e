"""``gdc-seg batch`` finds the app's saved work by the app's rule (gdc_core.workfiles): in ``IMAGES_DIR/gdc-seg``,
else beside the image where older versions saved it, the last complete save of an interrupted one; the side
files beside the images are not images."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from gdc_core.batch import find_scribbles
from gdc_core.cli import main
from tiny_run import TINY
from gdc_core.io import write_label_map
from gdc_core.workfiles import WorkPaths

SHAPE = (30, 40)


pytestmark = pytest.mark.usefixtures("offline_stem")


def scribbles_of(column: int) -> np.ndarray:
    labels = np.full(SHAPE, 255, np.uint8)
    labels[5:-5, 4] = 0
    labels[5:-5, column] = 1
    return labels


def write_image(folder, stem):
    folder.mkdir(parents=True, exist_ok=True)
    image = np.zeros(SHAPE + (3,), np.uint8)
    image[:, 20:] = 200
    Image.fromarray(image).save(folder / f"{stem}.png")
    return folder / f"{stem}.png"


def test_batch_uses_work_beside_the_image_and_does_not_list_side_files(tmp_path, capsys):
    images, out = tmp_path / "images", tmp_path / "masks"
    write_image(images, "a")
    write_label_map(images / "a_scribbles.png", scribbles_of(30))  # where File > Save of earlier versions put it
    write_label_map(images / "a_mask.png", np.zeros(SHAPE, np.uint8))
    assert main(["batch", str(images), "--out", str(out), *TINY]) == 0
    assert "1 images: 1 done, 0 skipped, 0 failed" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "batch-report.json"]


def test_batch_reads_the_last_complete_save_of_an_interrupted_one(tmp_path):
    image = write_image(tmp_path / "images", "a")
    paths = WorkPaths(tmp_path / "images" / "gdc-seg", "a")
    paths.folder.mkdir()
    write_label_map(paths.scribbles, scribbles_of(30))
    assert find_scribbles(image, None) == paths.scribbles
    paths.staging.mkdir()  # a newer save, killed after its manifest and before the move: it is the current one
    write_label_map(paths.staging / paths.scribbles.name, scribbles_of(35))
    (paths.staging / "manifest.json").write_text(json.dumps(
        {"format": "gdc-seg saved work", "version": 1, "files": [paths.scribbles.name]}))
    assert find_scribbles(image, None) == paths.staging / paths.scribbles.name
    (paths.staging / "manifest.json").unlink()  # killed before its manifest: the previous save is current
    assert find_scribbles(image, None) == paths.scribbles
    assert find_scribbles(image, tmp_path / "elsewhere") is None
