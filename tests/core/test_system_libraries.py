"""Before Qt opens a window the launcher checks the system libraries of Qt's X11 plugin: one readable line naming
what is missing and the apt-get command, instead of Qt's abort (exit 134). The README and .ci/run name the same
packages."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from app import system_libraries
from app.system_libraries import LIBRARY_PACKAGES, debian_packages, window_problem

REPOSITORY = Path(__file__).resolve().parents[2]


def fake_ldd(folder: Path, missing: list[str]) -> Path:
    """A folder holding an ``ldd`` that reports ``missing`` as not found (and libc as found)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"\t{name} => not found" for name in missing] + ["\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6"]
    script = folder / "ldd"
    script.write_text("#!/bin/sh\nprintf '%s\\n' " + " ".join(f"'{line}'" for line in lines) + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def test_missing_libraries_are_named_with_the_apt_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{fake_ldd(tmp_path / 'bin', ['libxcb-cursor.so.0', 'libxcb-icccm.so.4'])}:"
                               f"{os.environ['PATH']}")
    problem = window_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"})
    assert problem is not None and "\n" not in problem
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4" in problem
    assert problem.endswith("sudo apt-get install -y libxcb-cursor0 libxcb-icccm4")


def test_nothing_is_said_when_all_is_there_or_qt_draws_offscreen(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{fake_ldd(tmp_path / 'bin', [])}:{os.environ['PATH']}")
    assert window_problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}) is None
    assert window_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert window_problem({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}) is None
    assert "DISPLAY is not set" in window_problem({"QT_QPA_PLATFORM": "xcb"})


def test_gdc_seg_prints_one_line_instead_of_aborting(tmp_path):
    """The whole start, as a user runs it, on a machine whose loader cannot find libxcb-cursor."""
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0",
           "PATH": f"{fake_ldd(tmp_path / 'bin', ['libxcb-cursor.so.0'])}:{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-c", "import sys; from app.launcher import main; sys.exit(main([]))"],
                          cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        "gdc-seg cannot open its window: Qt's X11 plugin needs libxcb-cursor.so.0, which is missing; install "
        "with: sudo apt-get install -y libxcb-cursor0"]


def test_every_library_of_the_real_plugin_has_its_package():
    """What the installed xcb plugin links against, beyond glibc and Qt's own libraries, is in the table."""
    plugin = system_libraries.xcb_plugin_path()
    report = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    linked = {line.split()[0] for line in report.splitlines() if "=>" in line}
    ours = {name for name in linked if name.startswith(("libxcb", "libX11", "libxkb", "libGL.", "libEGL"))}
    assert ours <= set(LIBRARY_PACKAGES), ours - set(LIBRARY_PACKAGES)


def test_readme_and_ci_install_the_same_packages():
    readme = (REPOSITORY / "README.md").read_text()
    assert f"apt-get install -y {' '.join(debian_packages())}" in readme
    ci = (REPOSITORY / ".ci" / "run").read_text()
    assert "python3 -m app.system_libraries" in ci and "apt-get install" in ci
    listed = subprocess.run([sys.executable, "-m", "app.system_libraries"], cwd=REPOSITORY, capture_output=True,
                            text=True, check=True).stdout.split()
    assert listed == debian_packages()
