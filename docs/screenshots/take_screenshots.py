"""Regenerate the screenshots in this folder: the main window on the bundled sample, under a real X server.

    GDC_SEG_BACKBONE_WEIGHTS=/path/to/mobilenet_v2_imagenet_stem.pt \
        xvfb-run -s "-screen 0 1400x900x24" python docs/screenshots/take_screenshots.py

Writes empty.png, scribbles.png, running.png (a run in progress with its first preview), mask.png and
uncertainty.png (the paper's settings: 50 steps, 50 samples).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from app.gui import create_application, create_segmenter
from app.main_window import MainWindow
from app.resources import SAMPLE_IMAGE, SAMPLE_SCRIBBLES, resource_path
from gdc_core import SegmenterConfig

HERE = Path(__file__).resolve().parent


def settle(seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def hover(window: MainWindow, x: float, y: float) -> None:
    """Move the mouse over image point (x, y) so the brush ring shows there."""
    viewport = window.canvas.viewport()
    position = QPointF(window.canvas.mapFromScene(QPointF(x, y)))
    QApplication.sendEvent(viewport, QMouseEvent(QMouseEvent.Type.MouseMove, position,
                                                 QPointF(viewport.mapToGlobal(position.toPoint())),
                                                 Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                                 Qt.KeyboardModifier.NoModifier))


def shoot(window: MainWindow, name: str) -> None:
    settle()
    window.grab().save(str(HERE / name))
    print("wrote", HERE / name)


def main() -> int:
    create_application([])
    config = SegmenterConfig()
    window = MainWindow(create_segmenter(config, None), config)  # weights: GDC_SEG_BACKBONE_WEIGHTS
    window.resize(1280, 800)
    window.move(QPoint(0, 0))
    window.show()
    settle()
    if not window.open_image(resource_path(SAMPLE_IMAGE)):
        return 1
    window.canvas.set_brush_size(14)
    shoot(window, "empty.png")
    window.load_scribbles(resource_path(SAMPLE_SCRIBBLES))
    hover(window, 300, 110)
    shoot(window, "scribbles.png")
    previews = []
    window.controller.progressed.connect(lambda progress: progress.preview is not None and previews.append(1))
    window.segment()
    while window.controller.busy and not previews:
        settle(0.05)
    shoot(window, "running.png")
    while window.controller.busy:
        settle(0.1)
    if window.document.prediction is None:
        print("the run failed:", window.statusBar().currentMessage(), file=sys.stderr)
        return 1
    hover(window, 300, 110)
    shoot(window, "mask.png")
    window.actions.uncertainty.trigger()
    shoot(window, "uncertainty.png")
    window.document.undo_stack.setClean()  # nothing to save on close
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
