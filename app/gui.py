"""``run_gui(argv)``: the QApplication, one Segmenter for the whole session, and the main window.

``gdc-seg`` opens the bundled sample image; ``gdc-seg IMAGE`` opens IMAGE; ``gdc-seg FOLDER`` opens a folder of
images (list, D / A navigation, autosave into ``FOLDER/gdc-seg/``). The backbone weights are found by the
engine (``GDC_SEG_BACKBONE_WEIGHTS``, then the torch hub cache); the GUI never downloads them, so starting never
waits on the network. Without them the engine's filter-bank stem is used and the status bar says so.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gdc_core import Segmenter, SegmenterConfig

from .main_window import MainWindow
from .resources import SAMPLE_IMAGE, resource_path
from .settings import APPLICATION, ORGANISATION, AppSettings

USAGE = ("usage: gdc-seg [IMAGE]  or  gdc-seg FOLDER (its images, autosaved)   "
         "(headless: gdc-seg segment|batch|eval ..., see gdc-seg segment --help)")


def create_application(argv: list[str]) -> QApplication:
    """The process's QApplication (created once), named so QSettings has a home."""
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "gdc-seg", *argv])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("gdc-seg")
    return app


def create_segmenter(config: SegmenterConfig) -> Segmenter:
    """The session's Segmenter (the stem is built once, here)."""
    return Segmenter(config, allow_download=False)


def run_gui(argv: list[str]) -> int:
    """Open the main window on ``argv[0]`` (an image or a folder; default the bundled sample) and run the event
    loop; returns the exit code."""
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(USAGE, file=sys.stderr)
        return 2
    app = create_application(argv)
    config = AppSettings().engine_config(SegmenterConfig())  # the device chosen in Settings…
    try:
        segmenter = create_segmenter(config)
    except Exception as exc:  # e.g. a named weights file that cannot be read
        QMessageBox.critical(None, "gdc-seg cannot start", f"The segmentation engine could not start:\n{exc}")
        return 1
    window = MainWindow(segmenter, config)
    window.show()
    target = argv[0] if argv else str(resource_path(SAMPLE_IMAGE))
    if Path(target).is_dir():
        QTimer.singleShot(0, lambda: window.open_folder(target))
    else:
        QTimer.singleShot(0, lambda: window.open_image(target))
    return app.exec()
