"""Build the PyInstaller executable from a clean clone and prove it starts and segments (issue 8).

Slow (about 10-15 minutes on 2 cores) and several GB of scratch space, so it runs only with
``GDC_SEG_BUILD_TEST=1`` (``.ci/run`` sets it). Only committed files count: the build runs in a ``git clone``
of this repository. When ``../shared/weights/mobilenet_v2_imagenet_stem.pt`` (or ``$GDC_SEG_BUILD_WEIGHTS``)
exists, the build bundles it and the executable must use the ImageNet stem with no weights available outside
it (an empty ``TORCH_HOME``, no ``GDC_SEG_BACKBONE_WEIGHTS``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_WEIGHTS = REPO.parent / "shared" / "weights" / "mobilenet_v2_imagenet_stem.pt"
MAX_CPU_ONLY_BYTES = 3 * 1024**3  # the CPU-only build measured 1.5 GB; 5 GB means the CUDA trimming broke

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("GDC_SEG_BUILD_TEST") != "1",
                       reason="builds the PyInstaller executable (slow); set GDC_SEG_BUILD_TEST=1"),
]


def folder_size(folder: Path) -> int:
    return sum(entry.stat().st_size for entry in folder.rglob("*") if entry.is_file() and not entry.is_symlink())


def clean_env(tmp_path: Path) -> dict:
    """A user's environment: no Python variables, no weights outside the build, no display."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8",
           "TORCH_HOME": str(tmp_path / "empty-torch-home"), "QT_QPA_PLATFORM": "offscreen"}
    Path(env["HOME"]).mkdir(exist_ok=True)
    return env


def test_frozen_build_starts_and_segments(tmp_path, capsys):
    try:
        check_frozen_build(tmp_path, capsys)
    finally:  # 1.7 GB of build: keep it only when asked (GDC_SEG_KEEP_BUILD=1)
        if os.environ.get("GDC_SEG_KEEP_BUILD") != "1":
            for folder in ("dist", "build", "clone"):
                shutil.rmtree(tmp_path / folder, ignore_errors=True)


def check_frozen_build(tmp_path: Path, capsys) -> None:
    import importlib.util

    assert importlib.util.find_spec("PyInstaller"), 'GDC_SEG_BUILD_TEST=1 needs: pip install "pyinstaller==6.22.3"'
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    dist, work = tmp_path / "dist", tmp_path / "build"
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(dist), "--workpath", str(work), str(clone / "gdc-seg.spec")]
    weights = os.environ.get("GDC_SEG_BUILD_WEIGHTS") or (str(SHARED_WEIGHTS) if SHARED_WEIGHTS.is_file() else "")
    if weights:
        command += ["--", "--weights", weights]
    build_env = {k: v for k, v in os.environ.items() if k != "GDC_SEG_BACKBONE_WEIGHTS"}
    tic = time.perf_counter()
    built = subprocess.run(command, cwd=clone, env=build_env, capture_output=True, text=True, timeout=3600)
    build_seconds = time.perf_counter() - tic
    assert built.returncode == 0, built.stdout[-5000:] + built.stderr[-10000:]

    # the build analysed the clone's code, not an editable install of the working tree
    analysis = (work / "gdc-seg" / "Analysis-00.toc").read_text()
    assert str(clone / "gdc_core" / "segmenter.py") in analysis
    assert str(REPO / "gdc_core" / "segmenter.py") not in analysis

    exe = dist / "gdc-seg" / "gdc-seg"
    env = clean_env(tmp_path)
    version = subprocess.run([str(exe), "--version"], env=env, cwd=tmp_path, capture_output=True, text=True,
                             timeout=300)
    assert version.returncode == 0, version.stderr[-5000:]
    from gdc_core import __version__
    assert version.stdout.strip() == f"gdc-seg {__version__}"

    tic = time.perf_counter()
    checked = subprocess.run([str(exe), "--self-test"], env=env, cwd=tmp_path, capture_output=True, text=True,
                             timeout=900)
    self_test_seconds = time.perf_counter() - tic
    ok_lines = [line for line in checked.stdout.splitlines() if line.startswith("self-test: OK")]
    size = folder_size(dist / "gdc-seg")
    with capsys.disabled():
        print(f"\nfrozen build: {build_seconds:.0f} s, dist/gdc-seg {size / 1024**3:.2f} GiB ({size} bytes)"
              f"{', weights ' + Path(weights).name if weights else ', no weights bundled'}")
        print(f"frozen self-test ({self_test_seconds:.0f} s): {ok_lines[0] if ok_lines else checked.stdout[-2000:]}")
    assert checked.returncode == 0 and ok_lines, checked.stdout[-5000:] + checked.stderr[-10000:]
    assert "frozen)" in ok_lines[0]
    assert "qt=offscreen window=" in ok_lines[0]
    if weights:  # bundled, and found with nothing outside the build
        assert "stem=imagenet:mobilenet_v2_stem.pt" in ok_lines[0]
    else:
        assert "stem=UNTRAINED" in ok_lines[0]
    if '"cpu_only": true' in (dist / "gdc-seg" / "_internal" / "gdc_seg_build.json").read_text():
        assert size < MAX_CPU_ONLY_BYTES, f"CPU-only build weighs {size / 1024**3:.2f} GiB"
