"""``gdc-seg batch`` names the scribble files it looked for when it skips an image."""
from __future__ import annotations

import numpy as np
from PIL import Image

from gdc_core.cli import main


def test_skipped_line_names_both_scribble_files_looked_for(tmp_path, capsys):
    images, out, scribbles = tmp_path / "images", tmp_path / "masks", tmp_path / "scribbles"
    (images / "gdc-seg").mkdir(parents=True)
    scribbles.mkdir()
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(images / "teddy.png")
    assert main(["batch", str(images), "--scribbles", str(scribbles), "--out", str(out), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert (f"teddy.png: skipped, no scribbles (neither {scribbles / 'teddy.png'} "
            f"nor {scribbles / 'teddy_scribbles.png'})") in err


def test_skipped_line_without_scribbles_folder_names_the_apps_work_file(tmp_path, capsys):
    """Without --scribbles the batch reads the app's saved work (gdc_core.workfiles): the line names where the app
    saves it."""
    images, out = tmp_path / "images", tmp_path / "masks"
    (images / "gdc-seg").mkdir(parents=True)
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(images / "teddy.png")
    assert main(["batch", str(images), "--out", str(out), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert f"teddy.png: skipped, no scribbles ({images / 'gdc-seg' / 'teddy_scribbles.png'})" in err
