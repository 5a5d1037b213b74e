"""What a PyInstaller build of gdc-seg sets up before anything imports torch.

``gdc-seg.spec`` writes ``gdc_seg_build.json`` into the bundle and, when a weights file was found at build time,
``weights/mobilenet_v2_stem.pt``. :func:`prepare` (called first by ``packaging/entry.py``) then:

* points ``GDC_SEG_BACKBONE_WEIGHTS`` at the bundled stem weights, unless the user set the variable (their
  file wins, as in the library), so the executable uses the ImageNet stem fully offline;
* in a CPU-only build (the default: the big CUDA libraries are replaced by stand-ins that abort when called, see
  ``packaging/cuda_stubs.py``) hides every GPU from torch with ``CUDA_VISIBLE_DEVICES=""``, so a machine with a
  GPU runs on the CPU instead of reaching a stand-in.

Outside a frozen build nothing happens. Imports nothing heavy (no torch, no Qt).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from gdc_core.weights import WEIGHTS_ENV

BUILD_INFO = "gdc_seg_build.json"
BUNDLED_WEIGHTS = Path("weights") / "mobilenet_v2_stem.pt"


def bundle_root() -> Path | None:
    """The folder a frozen build unpacks its files into (``sys._MEIPASS``), None when not frozen."""
    root = getattr(sys, "_MEIPASS", None)
    return Path(root) if root and getattr(sys, "frozen", False) else None


def build_info() -> dict:
    """What the spec recorded about this build ({} when not frozen or not recorded)."""
    root = bundle_root()
    if root is None or not (root / BUILD_INFO).is_file():
        return {}
    try:
        return json.loads((root / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def bundled_weights() -> Path | None:
    """The stem weights shipped inside the build, if any."""
    root = bundle_root()
    if root is None or not (root / BUNDLED_WEIGHTS).is_file():
        return None
    return root / BUNDLED_WEIGHTS


def prepare(environ: dict | None = None) -> None:
    """Set up the environment of a frozen run (see the module docstring); no-op outside a frozen build."""
    environ = os.environ if environ is None else environ
    if bundle_root() is None:
        return
    weights = bundled_weights()
    if weights is not None and not environ.get(WEIGHTS_ENV):
        environ[WEIGHTS_ENV] = str(weights)
    if build_info().get("cpu_only"):
        environ["CUDA_VISIBLE_DEVICES"] = ""
