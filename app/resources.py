"""Where the bundled files (``resources/sample.png`` and friends) are, in a checkout and in a frozen build.

A PyInstaller build unpacks data files under ``sys._MEIPASS``; the spec is expected to copy the repository's
``resources/`` folder there as ``resources/``. In a checkout (or an editable install) the folder sits beside
the ``app`` package.
"""
from __future__ import annotations

import sys
from pathlib import Path

SAMPLE_IMAGE = "sample.png"
SAMPLE_SCRIBBLES = "sample_scribbles.png"


def resources_dir() -> Path:
    """The folder holding the bundled resources (it may not exist in a broken install)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(name: str) -> Path:
    """The path of the bundled resource ``name`` (e.g. ``"sample.png"``); the file may be missing."""
    return resources_dir() / name
