"""The ``gdc-seg`` command: headless subcommands go to :mod:`gdc_core.cli`, everything else opens the GUI.

Importing this module imports no Qt, so ``gdc-seg segment ...`` works on machines without a display.
"""
from __future__ import annotations

import sys

HEADLESS_COMMANDS = ("segment", "batch", "eval")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in HEADLESS_COMMANDS:
        from gdc_core.cli import main as cli_main

        return cli_main(argv)
    if argv and argv[0] == "--self-test":  # headless: segment the bundled sample, exit 0 only on a sensible mask
        from app.self_test import main as self_test_main

        return self_test_main(argv[1:])
    if argv and argv[0] == "--version":
        from gdc_core import __version__

        print(f"gdc-seg {__version__}")
        return 0
    from app.gui import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
