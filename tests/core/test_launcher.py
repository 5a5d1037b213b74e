"""The ``gdc-seg`` command's start: --version and --help without torch, the GUI's arguments, and the command line
offline (no weights anywhere, no network): a warning, no "Downloading" line."""
from __future__ import annotations

import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
from PIL import Image

from app.launcher import main as launcher_main

REPOSITORY = Path(__file__).resolve().parents[2]
# after the command ran: the heavy modules it imported (torch takes seconds, Qt needs a display's libraries)
IMPORTED = "import sys; print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6'})))"


def run_launcher(*argv: str) -> subprocess.CompletedProcess:
    code = f"import sys; from app.launcher import main; status = main({list(argv)!r}); {IMPORTED}; sys.exit(status)"
    return subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, timeout=120)


def test_version_answers_without_importing_torch_or_qt():
    done = run_launcher("--version")
    assert done.returncode == 0, done.stderr
    version, imported = done.stdout.splitlines()
    assert version.startswith("gdc-seg 0.") and imported == ""


def test_help_answers_without_importing_torch_or_qt():
    done = run_launcher("--help")
    assert done.returncode == 0, done.stderr
    assert "usage: gdc-seg" in done.stdout and "--backbone-weights FILE" in done.stdout
    assert "segment|batch|eval" in done.stdout
    assert done.stdout.splitlines()[-1] == ""  # nothing imported


def test_subcommand_help_and_usage_errors_answer_without_importing_torch():
    done = run_launcher("segment", "--help")
    assert done.returncode == 0 and "--backbone-weights" in done.stdout
    assert done.stdout.splitlines()[-1] == ""
    done = run_launcher("segment", "photo.png")  # --scribbles and --out missing
    assert done.returncode == 2 and "required" in done.stderr


def test_gui_usage_errors_are_reported_before_anything_loads(capsys):
    assert launcher_main(["a.png", "b.png"]) == 2
    assert "unrecognized arguments: b.png" in capsys.readouterr().err
    assert launcher_main(["--backbone-weights"]) == 2
    assert "expected one argument" in capsys.readouterr().err


def test_command_line_offline_without_weights_prints_no_downloading_line(tmp_path, monkeypatch, capsys):
    import torch.hub

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(torch.hub, "urlopen", offline)  # the torch hub cache is empty: tests/conftest.py
    image = np.zeros((30, 40, 3), dtype=np.uint8)
    image[:, 20:] = 220
    scribbles = np.full((30, 40), 255, dtype=np.uint8)
    scribbles[5:-5, 5], scribbles[5:-5, 35] = 0, 1
    Image.fromarray(image).save(tmp_path / "photo.png")
    Image.fromarray(scribbles, mode="L").save(tmp_path / "scribbles.png")
    status = launcher_main(["segment", str(tmp_path / "photo.png"), "--scribbles", str(tmp_path / "scribbles.png"),
                            "--out", str(tmp_path / "mask.png"), "--steps", "3", "--samples", "2", "--device", "cpu"])
    out, err = capsys.readouterr()
    assert status == 0 and (tmp_path / "mask.png").is_file()
    assert "Downloading" not in out + err
    assert "WARNING: No ImageNet MobileNetV2 weights found" in err
