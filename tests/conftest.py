"""Shared fixtures: a private home for every test, and where the optional shared weights and data live (tests
needing them skip without them).

Hermetic by construction: before any test module is imported (so before Qt or torch read the environment), HOME,
the XDG folders, TORCH_HOME and ``GDC_SEG_BACKBONE_WEIGHTS`` are pointed away from the user's own (and the CPU
runtime is tuned as ``gdc-seg`` tunes it where it starts); then every test
gets a fresh home of its own (``private_home``), with QSettings and QStandardPaths in it when
Qt is loaded. Whatever the user's home holds (saved work in ``~/Documents/gdc-seg``, settings in
``~/.config/gdc-seg``, weights in the torch hub cache), the tests neither see it nor write to it.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from gdc_core.cpu_runtime import tune_process

SHARED = Path(__file__).resolve().parents[2] / "shared"
STEM_WEIGHTS = SHARED / "weights" / "mobilenet_v2_imagenet_stem.pt"
FULL_WEIGHTS = SHARED / "weights" / "mobilenet_v2_imagenet_full.pt"
DATA = SHARED / "data"

# environment variable -> folder under a home; all of them point into the test's own home
HOME_VARIABLES = {"HOME": "", "XDG_CONFIG_HOME": ".config", "XDG_DATA_HOME": ".local/share",
                  "XDG_CACHE_HOME": ".cache", "XDG_STATE_HOME": ".local/state", "TORCH_HOME": ".cache/torch"}
# variables that would hand a test the user's files by another way
USER_VARIABLES = ("GDC_SEG_BACKBONE_WEIGHTS", "XDG_DOCUMENTS_DIR", "XDG_CONFIG_DIRS", "XDG_DATA_DIRS")


def point_home_at(home: Path, setenv) -> None:
    """Set every variable of HOME_VARIABLES to its folder under ``home`` (created) with ``setenv(name, value)``."""
    for name, sub in HOME_VARIABLES.items():
        folder = home / sub
        folder.mkdir(parents=True, exist_ok=True)
        setenv(name, str(folder))


# the session's fallback home, set while this file is imported: before the test modules (and Qt, torch) are
SESSION_HOME = Path(tempfile.mkdtemp(prefix="gdc-seg-tests-home-"))
point_home_at(SESSION_HOME, os.environ.__setitem__)
for _name in USER_VARIABLES:
    os.environ.pop(_name, None)
tune_process()  # the test session is a process that runs the engine: OpenMP and malloc as gdc-seg sets them


def pytest_unconfigure(config) -> None:
    shutil.rmtree(SESSION_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory, monkeypatch) -> Path:
    """This test's own, empty home (a fresh temporary folder beside its ``tmp_path``, so that stays empty): HOME,
    XDG folders and TORCH_HOME under it; with Qt loaded, QSettings under it and QStandardPaths in test mode (its
    Documents folder is ``home/Documents``)."""
    home = tmp_path_factory.mktemp("home")
    point_home_at(home, monkeypatch.setenv)
    for name in USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if "PySide6.QtCore" in sys.modules:  # never import Qt here: tests/core proves gdc_core runs without it
        from PySide6.QtCore import QSettings, QStandardPaths

        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            folder = home / (".config" if scope == QSettings.Scope.UserScope else "system-settings")
            for format_ in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
                QSettings.setPath(format_, scope, str(folder))
        QStandardPaths.setTestModeEnabled(True)
    return home


@pytest.fixture
def stem_weights() -> Path:
    if not STEM_WEIGHTS.is_file():
        pytest.skip("ImageNet stem weights not available (../shared/weights)")
    return STEM_WEIGHTS
