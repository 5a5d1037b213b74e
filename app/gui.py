"""``run_gui(argv)``: the QApplication, one Segmenter for the whole session, and the main window.

``gdc-seg`` opens the bundled sample image; ``gdc-seg IMAGE`` opens IMAGE; ``gdc-seg FOLDER`` opens a folder of
images (list, D / A navigation, autosave). With no argument and a folder worked on before, the window offers to
reopen it. The backbone weights file is, in this order: ``--backbone-weights FILE``, ``GDC_SEG_BACKBONE_WEIGHTS``,
the file kept in Settings, then the torch hub cache; the GUI never downloads it, so starting never waits on the
network. Without one the engine's filter-bank stem is used, the status bar says so, and the first such start
explains what to do (:mod:`app.start_notices`). ``--labels FILE`` names the classes new images start with
(:mod:`app.class_lists`).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gdc_core import Segmenter, SegmenterConfig
from gdc_core.weights import WEIGHTS_ENV

from .class_lists import ClassListError, classes_from_names, read_labels_file
from .launcher import parse_gui_arguments
from .main_window import MainWindow
from .none_refcount import make_none_immortal
from .resources import SAMPLE_IMAGE, resource_path
from .settings import APPLICATION, ORGANISATION, AppSettings
from .start_notices import show_start_notices


def create_application(argv: list[str]) -> QApplication:
    """The process's QApplication (created once), named so QSettings has a home; first makes ``None`` immortal
    where PySide6 needs it (:mod:`app.none_refcount`)."""
    make_none_immortal()
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "gdc-seg", *argv])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("gdc-seg")
    return app


def create_segmenter(config: SegmenterConfig, backbone_weights: str | None) -> Segmenter:
    """The session's Segmenter (the stem is built once, here) on ``backbone_weights`` (None: the hub cache)."""
    return Segmenter(config, backbone_weights=backbone_weights, allow_download=False)


def run_gui(argv: list[str]) -> int:
    """Open the main window on the image or folder ``argv`` names (default the bundled sample) and run the event
    loop; returns the exit code (2 for a usage error, printed)."""
    try:
        arguments = parse_gui_arguments(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
    try:
        labels = read_labels_file(arguments.labels) if arguments.labels else None
    except ClassListError as exc:
        print(f"gdc-seg: --labels {exc}", file=sys.stderr)
        return 2
    app = create_application(argv)
    settings = AppSettings()
    config = settings.engine_config(SegmenterConfig())  # the device chosen in Settings…
    named = arguments.backbone_weights or os.environ.get(WEIGHTS_ENV)
    kept_problem = None
    try:
        segmenter = create_segmenter(config, named or settings.backbone_weights or None)
    except Exception as exc:  # e.g. a named weights file that cannot be read
        if named or not settings.backbone_weights:
            QMessageBox.critical(None, "gdc-seg cannot start", f"The segmentation engine could not start:\n{exc}")
            return 1
        kept_problem = f"The backbone weights kept in Settings could not be used: {exc}"
        segmenter = create_segmenter(config, None)  # the file kept in Settings must not stop every later start
    window = MainWindow(segmenter, config)
    if labels is not None:
        window.palette.replace(classes_from_names(labels))
    window.show()
    target = arguments.target or str(resource_path(SAMPLE_IMAGE))
    if Path(target).is_dir():
        QTimer.singleShot(0, lambda: window.open_folder(target))
    else:
        QTimer.singleShot(0, lambda: window.open_image(target))
    QTimer.singleShot(0, lambda: show_start_notices(window, kept_problem, offer_last_folder=arguments.target is None))
    return app.exec()
