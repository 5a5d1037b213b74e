"""``gdc-seg batch`` names the scribble files it looked for when it skips an image."""
from __future__ import annotations

import numpy as np
from PIL import Image

from gdc_core.cli import main


def test_skipped_line_names_both_scribble_files_looked_for(tmp_path, capsys):
    images, out = tmp_path / "images", tmp_path / "masks"
    (images / "gdc-seg").mkdir(parents=True)
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(images / "teddy.png")
    assert main(["batch", str(images), "--out", str(out), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    sidecar = images / "gdc-seg"
    assert f"teddy.png: skipped, no scribbles (neither {sidecar / 'teddy'}.png nor teddy_scribbles.png)" in err
