"""``gdc-seg batch --ray ADDRESS`` on a local Ray cluster the test starts: a head and one worker node on this
machine, one CPU each, so the two actors run on different nodes. Skipped when Ray is not installed."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gdc_core.backbone
from gdc_core.backbone import WEIGHTS_ENV
from gdc_core.cli import main

from test_cli import TINY, write_pair

ray = pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cluster(monkeypatch):
    """Head + worker node (1 CPU each); their Python workers import this checkout's gdc_core."""
    from ray.cluster_utils import Cluster

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    started = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        started.add_node(num_cpus=1)
        yield started
    finally:
        started.shutdown()


def test_ray_batch_on_a_local_two_node_cluster_resumes_and_isolates_failures(tmp_path, cluster, monkeypatch,
                                                                             capsys):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(gdc_core.backbone, "_torchvision_state", lambda allow_download: None)
    images, scribbles, out = tmp_path / "images", tmp_path / "scribbles", tmp_path / "masks"
    for stem in ("a", "b", "c", "bad"):
        write_pair(images, stem, scribbles_dir=scribbles)
    (images / "bad.png").write_bytes(b"not an image")
    arguments = ["batch", str(images), "--scribbles", str(scribbles), "--out", str(out), "--ray", cluster.address,
                 "--workers", "2", "--format", "coco", *TINY]
    assert main(arguments) == 1
    report = json.loads((out / "batch-report.json").read_text())
    status = {Path(e["image"]).name: (e["status"], e["reason"]) for e in report["images"]}
    assert {name: s for name, (s, _) in status.items()} == {"a.png": "done", "b.png": "done", "bad.png": "failed",
                                                            "c.png": "done"}
    assert status["bad.png"][1].startswith(f"{images / 'bad.png'}: not a readable image")
    here = tmp_path / "here"  # the same masks as this process makes
    assert main([*arguments[:6], "--out", str(here), "--workers", "1", *TINY]) == 1
    for stem in "abc":
        assert np.array_equal(np.asarray(Image.open(out / f"{stem}.png")), np.asarray(Image.open(here / f"{stem}.png")))
    assert len(json.loads((out / "coco.json").read_text())["images"]) == 3
    capsys.readouterr()
    assert main(arguments) == 1  # resume: only the failed image runs again
    assert "4 images: 0 done, 3 skipped, 1 failed" in capsys.readouterr().out
