"""Every test runs in a home of its own (tests/conftest.py): the user's files are neither read nor written."""
from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path



def test_home_and_xdg_folders_are_this_tests_own(private_home, tmp_path):
    assert Path.home() == private_home != Path(pwd.getpwuid(os.getuid()).pw_dir)
    assert Path(os.path.expanduser("~/Documents")) == private_home / "Documents"
    assert list(tmp_path.iterdir()) == []  # the test's own folder stays empty
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "TORCH_HOME"):
        assert Path(os.environ[name]).is_relative_to(private_home), name
    assert "GDC_SEG_BACKBONE_WEIGHTS" not in os.environ


def test_torch_hub_cache_is_empty_and_private(private_home):
    import torch

    assert Path(torch.hub.get_dir()).is_relative_to(private_home)
    assert not any(Path(torch.hub.get_dir()).rglob("*.pth"))


def test_a_child_process_inherits_the_private_home(private_home):
    out = subprocess.run([sys.executable, "-c", "import pathlib; print(pathlib.Path.home())"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert Path(out) == private_home
