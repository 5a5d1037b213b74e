"""What benchmarks/ablation.py and benchmarks/seeds.py share: scoring one cell (``gdc-seg eval --json`` on one data
folder, one torch thread, in a child process) with its result kept as JSON, and their common options."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("grabcut-dev", "voc-dev", "acdc-dev")


def evaluate_cell(target: Path, folder: Path, eval_args: list[str], weights: str | None,
                  keep=lambda scores: scores) -> dict:
    """The scores of ``gdc-seg eval FOLDER --json EVAL_ARGS``, read from ``target`` when kept there, else measured
    and kept as ``keep(scores)``. One torch thread, so that ``--jobs`` evaluations can run side by side."""
    if target.is_file():
        return json.loads(target.read_text())
    command = [sys.executable, "-m", "gdc_core.cli", "eval", str(folder), "--json", *eval_args]
    if weights:
        command += ["--backbone-weights", weights]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(eval_args)} on {folder.name} failed: {done.stderr.strip()}")
    kept = keep(json.loads(done.stdout))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(kept, indent=1))
    return kept


def common_options(description: str, what: str) -> argparse.ArgumentParser:
    """``--weights``, ``--data``, ``--jobs`` and ``--only`` (comma-separated ``what`` names)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--weights", help="ImageNet MobileNetV2 weights file")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--only", help=f"comma-separated {what} names (default: all)")
    return parser


def present_folders(data: str) -> list[str]:
    """The dev folders found under ``data``, in the tables' order."""
    return [f for f in FOLDERS if (Path(data) / f).is_dir()]
