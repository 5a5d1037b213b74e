"""``gdc-seg --self-test`` run in-process (no build): it passes on this checkout and fails on a broken mask."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from app import frozen, self_test
from app.launcher import main as launcher_main

SHARED_STEM = Path(__file__).resolve().parents[3] / "shared" / "weights" / "mobilenet_v2_imagenet_stem.pt"


def test_self_test_passes_on_the_bundled_sample(monkeypatch):
    """With the ImageNet stem (../shared) reduced settings suffice (12 steps, 6 samples, about 4 s); the
    filter-bank stand-in needs the paper's 50/50 to keep every scribbled pixel (at 20/8 it keeps only 87%)."""
    if SHARED_STEM.is_file():
        monkeypatch.setenv("GDC_SEG_BACKBONE_WEIGHTS", str(SHARED_STEM))
        settings = dict(steps=12, samples=6)
    else:
        settings = dict(steps=50, samples=50)
    out = io.StringIO()
    assert self_test.run_self_test(**settings, check_qt=False, stream=out) == 0, out.getvalue()
    line = out.getvalue().splitlines()[0]
    assert line.startswith("self-test: OK device=")
    for field in ("stem=", "seconds=", "cat=", "background=", "scribble-agreement=", "torchvision-ops=ok",
                  "torchscript=ok"):
        assert field in line


def test_self_test_checks_qt_offscreen(monkeypatch):
    pytest.importorskip("PySide6.QtWidgets")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    text = self_test.check_qt_offscreen()
    assert "qt=offscreen" in text


def test_launcher_routes_self_test(monkeypatch, capsys):
    monkeypatch.setattr(self_test, "run_self_test", lambda steps, samples, check_qt: 7 if (steps, samples) == (3, 2) and not check_qt else 0)
    assert launcher_main(["--self-test", "--steps", "3", "--samples", "2", "--no-qt"]) == 7


def test_self_test_fails_when_the_mask_is_not_sensible(monkeypatch):
    """A segmenter that labels everything background must make the self-test fail, not pass."""
    import gdc_core

    real = gdc_core.Segmenter

    class AllBackground(real):
        def run(self, scribbles, **kwargs):
            result = super().run(scribbles, **kwargs)
            object.__setattr__(result, "labels", np.zeros_like(result.labels))
            return result

    monkeypatch.setattr(gdc_core, "Segmenter", AllBackground)
    out = io.StringIO()
    assert self_test.run_self_test(steps=2, samples=2, check_qt=False, stream=out) == 1
    assert out.getvalue().startswith("self-test: FAILED: the mask lacks a class")


def test_self_test_fails_when_resources_are_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(self_test, "_resource_path", lambda name: tmp_path / name)
    out = io.StringIO()
    assert self_test.run_self_test(steps=2, samples=2, check_qt=False, stream=out) == 1
    assert "bundled resource missing" in out.getvalue()


def test_frozen_prepare_uses_bundled_weights_and_hides_gpus(monkeypatch, tmp_path):
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "mobilenet_v2_stem.pt").write_bytes(b"x")
    (tmp_path / frozen.BUILD_INFO).write_text(json.dumps({"cpu_only": True}))
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    env: dict = {}
    frozen.prepare(env)
    assert env == {frozen.WEIGHTS_ENV: str(tmp_path / "weights" / "mobilenet_v2_stem.pt"), "CUDA_VISIBLE_DEVICES": ""}
    env = {frozen.WEIGHTS_ENV: "/mine.pt"}
    frozen.prepare(env)
    assert env[frozen.WEIGHTS_ENV] == "/mine.pt"  # the user's own file wins


def test_frozen_prepare_does_nothing_outside_a_build(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    env: dict = {}
    frozen.prepare(env)
    assert env == {}
