"""The ``gdc-seg`` command: headless subcommands go to :mod:`gdc_core.cli`, everything else opens the GUI.

Importing this module imports neither Qt nor torch: ``gdc-seg --version`` and ``--help`` answer at once, a
usage error or a machine that cannot open a window (missing system libraries, no display) is reported in one
line before Qt or torch load, and ``gdc-seg segment ...`` works on machines without a display.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from gdc_core import cpu_runtime

HEADLESS_COMMANDS = ("segment", "batch", "eval")
EXIT_USAGE, EXIT_NO_WINDOW = 2, 1
USAGE_EPILOG = """\
With no argument the bundled sample photo opens; with a FOLDER its images are listed and the work on each is
autosaved. Headless commands (no window): gdc-seg segment|batch|eval ... (gdc-seg segment --help).
Also: gdc-seg --version, gdc-seg --self-test (segments the sample, exit 0 on a sensible mask)."""


@dataclass(frozen=True)
class GuiArguments:
    """What ``gdc-seg [--backbone-weights FILE] [--labels FILE] [IMAGE | FOLDER]`` asked for (None: not given)."""

    target: str | None
    backbone_weights: str | None
    labels: str | None


def gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gdc-seg", description="Segment images by painting a few class scribbles.",
                                     epilog=USAGE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", nargs="?", metavar="IMAGE | FOLDER", help="an image, or a folder of images")
    parser.add_argument("--backbone-weights", metavar="FILE",
                        help="ImageNet MobileNetV2 weights (.pth/.pt) for this session; kept in Settings… instead "
                             "for every session")
    parser.add_argument("--labels", metavar="FILE",
                        help="class names, one per line (labelme's labels.txt works): the classes new images start "
                             "with; kept in Settings… instead for every session")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def parse_gui_arguments(argv: list[str]) -> GuiArguments:
    """The GUI's arguments; ``--help`` and usage errors are printed by argparse and raise SystemExit (0 / 2)."""
    arguments = gui_parser().parse_args(argv)
    return GuiArguments(arguments.target, arguments.backbone_weights, arguments.labels)


def main(argv: list[str] | None = None) -> int:
    """The ``gdc-seg`` process: tunes the CPU runtime (before torch loads), then runs what ``argv`` asks for."""
    cpu_runtime.tune_process()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in HEADLESS_COMMANDS:
        from gdc_core.cli import main as cli_main

        return cli_main(argv)
    if argv and argv[0] == "--self-test":  # headless: segment the bundled sample, exit 0 only on a sensible mask
        from app.self_test import main as self_test_main

        return self_test_main(argv[1:])
    if "--version" in argv:
        from gdc_core import __version__  # imports no torch

        print(f"gdc-seg {__version__}")
        return 0
    try:
        parse_gui_arguments(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
    from app.system_libraries import window_problem

    problem = window_problem()
    if problem is not None:  # Qt would abort with a paragraph of plugin text (exit 134)
        print(problem, file=sys.stderr)
        return EXIT_NO_WINDOW
    from app.gui import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
