"""Importing changes nothing in the process; the process-wide settings (CPU runtime, None's reference reserve) are
applied where a process starts: the ``gdc-seg`` launcher, ``python -m gdc_core.cli`` and the GUI's QApplication.
Each check runs in a fresh interpreter, whose state this test session's own settings cannot hide."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# the libraries first (cv2 sets LD_LIBRARY_PATH on import), then every module of gdc_core and app, watched
IMPORT_EVERYTHING = """
import ctypes, importlib, json, os, pkgutil, sys
import cv2, numpy, PIL.Image, PySide6.QtWidgets, scipy.ndimage, skimage.segmentation, torch, torchvision
libc_opened = []
class SpyCDLL(ctypes.CDLL):
    def __init__(self, name, *args, **kwargs):
        if name is None:  # the process's own C library: how mallopt is reached
            libc_opened.append(True)
        super().__init__(name, *args, **kwargs)
ctypes.CDLL = SpyCDLL
environ, nones = dict(os.environ), sys.getrefcount(None)
import gdc_core, app
modules = [m.name for package in (gdc_core, app)
           for m in pkgutil.iter_modules(package.__path__, package.__name__ + ".")]
for name in modules:
    importlib.import_module(name)
print(json.dumps({"modules": modules, "environ_changed": sorted(k for k in {*environ, *os.environ}
                  if environ.get(k) != os.environ.get(k)), "libc_opened": len(libc_opened),
                  "none_reserve": sys.getrefcount(None) - nones >= 1 << 40}))
"""

# records whether torch was loaded when the process was tuned, then runs the command line given
TUNED_BEFORE_TORCH = """
import json, runpy, sys
import gdc_core.cpu_runtime as cpu_runtime
seen, tune = [], cpu_runtime.tune_process
cpu_runtime.tune_process = lambda: seen.append("torch" in sys.modules) or tune()
try:
    if sys.argv[1] == "launcher":
        import app.launcher
        code = app.launcher.main(sys.argv[2:])
    else:
        sys.argv = ["gdc_core.cli", *sys.argv[2:]]
        runpy.run_module("gdc_core.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code
import os
print(json.dumps({"code": code, "torch_at_tuning": seen, "torch_at_end": "torch" in sys.modules,
                  "omp": os.environ.get("OMP_WAIT_POLICY")}))
"""


def _python(code: str, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", "OMP_WAIT_POLICY")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_every_module_of_both_packages_changes_nothing_in_the_process():
    report = _python(IMPORT_EVERYTHING)
    assert {"gdc_core.cpu_runtime", "gdc_core.segmenter", "app.none_refcount", "app.main_window"} <= \
        set(report["modules"])
    assert report["environ_changed"] == []  # no OMP_WAIT_POLICY (nor anything else) set by an import
    assert report["libc_opened"] == 0  # malloc untouched
    assert not report["none_reserve"]  # None's reference count not patched


def test_the_launcher_tunes_the_process_before_torch_loads(tmp_path):
    missing = str(tmp_path / "missing.png")
    report = _python(TUNED_BEFORE_TORCH, "launcher", "segment", missing, "--scribbles", missing, "--out",
                     str(tmp_path / "out.png"))
    assert report["code"] == 2  # the missing image, reported after the engine was imported
    assert report["torch_at_tuning"] == [False] and report["torch_at_end"]
    assert report["omp"] == "PASSIVE"


def test_the_cli_module_run_as_a_program_tunes_the_process_before_torch_loads(tmp_path):
    missing = str(tmp_path / "missing.png")
    report = _python(TUNED_BEFORE_TORCH, "module", "segment", missing, "--scribbles", missing, "--out",
                     str(tmp_path / "out.png"))
    assert report["code"] == 2
    assert report["torch_at_tuning"] == [False] and report["torch_at_end"]
    assert report["omp"] == "PASSIVE"


def test_the_gui_application_gets_none_its_reference_reserve():
    report = _python("import json, sys\nimport app.gui as gui\nbefore = sys.getrefcount(None)\n"
                     "gui.create_application([])\n"
                     "print(json.dumps({'before': before < 1 << 40, 'after': sys.getrefcount(None) >= 1 << 40}))")
    assert report == {"before": True, "after": sys.version_info < (3, 12)}
