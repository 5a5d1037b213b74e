"""The system libraries Qt needs to open a window on Linux (its X11 "xcb" platform plugin and QtGui), the Debian
packages that hold them, and the check the launcher makes before creating the QApplication.

Without these libraries Qt aborts the process (exit 134) with a paragraph about plugins; :func:`window_problem`
finds what is missing first and says so in one line with the ``apt-get`` command. Standard library only, so
``.ci/run`` can list the packages (``python3 -m app.system_libraries``) before anything is installed.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Mapping

# shared library (soname) -> the Debian / Ubuntu package holding it: what QtGui and the xcb plugin link against,
# beyond what every Debian system has
LIBRARY_PACKAGES = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
}
XCB_PLUGIN = Path("Qt") / "plugins" / "platforms" / "libqxcb.so"


def debian_packages() -> list[str]:
    """Every package of LIBRARY_PACKAGES, in table order (what the README's apt-get line installs)."""
    return list(dict.fromkeys(LIBRARY_PACKAGES.values()))


def apt_command(packages: list[str]) -> str:
    return "sudo apt-get install -y " + " ".join(packages)


def xcb_plugin_path() -> Path | None:
    """PySide6's xcb platform plugin (found without importing PySide6), or None when there is none."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    roots = [Path(frozen_root) / "PySide6"] if frozen_root else []
    spec = importlib.util.find_spec("PySide6")
    roots += [Path(folder) for folder in (spec.submodule_search_locations or [])] if spec else []
    return next((root / XCB_PLUGIN for root in roots if (root / XCB_PLUGIN).is_file()), None)


def missing_libraries(plugin: Path, run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> list[str]:
    """The shared libraries ``plugin`` needs that the dynamic loader cannot find (as ``ldd`` reports them, all of
    them at once, where loading would stop at the first); [] when none are missing or ``ldd`` is unavailable."""
    if shutil.which("ldd") is None:
        return []
    try:
        report = run(["ldd", str(plugin)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split()[0] for line in report.splitlines() if "not found" in line]


def uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will open its windows through the xcb plugin: asked for in QT_QPA_PLATFORM, or Linux's default
    outside a Wayland session."""
    asked = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if asked:
        return asked == "xcb"
    return sys.platform.startswith("linux") and environ.get("XDG_SESSION_TYPE") != "wayland"


def window_problem(environ: Mapping[str, str] | None = None,
                   run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> str | None:
    """One line saying why Qt could not open a window here (missing system libraries with the command that installs
    them, or no X display), or None when nothing is known to stand in the way."""
    environ = os.environ if environ is None else environ
    if not uses_xcb(environ):
        return None
    plugin = xcb_plugin_path()
    missing = missing_libraries(plugin, run) if plugin is not None else []
    if missing:
        packages = list(dict.fromkeys(LIBRARY_PACKAGES[name] for name in missing if name in LIBRARY_PACKAGES))
        install = f"; install with: {apt_command(packages)}" if packages else ""
        return (f"gdc-seg cannot open its window: Qt's X11 plugin needs {', '.join(missing)}, which "
                f"{'is' if len(missing) == 1 else 'are'} missing{install}")
    if not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        return ("gdc-seg cannot open its window: no display (DISPLAY is not set). Start it in a desktop session, "
                "under xvfb-run, or use the headless commands: gdc-seg segment|batch|eval")
    return None


if __name__ == "__main__":  # `python3 -m app.system_libraries`: the packages, one line, for apt-get
    print(" ".join(debian_packages()))
