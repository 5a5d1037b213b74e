"""Regenerate the screenshots in this folder: the main window on the bundled sample, under a real X server.

    GDC_SEG_BACKBONE_WEIGHTS=/path/to/mobilenet_v2_imagenet_stem.pt \
        xvfb-run -a -s "-screen 0 1400x900x24" python docs/screenshots/take_screenshots.py

Writes empty.png, scribbles.png, running.png (a run in progress with its first preview), mask.png,
uncertainty.png (the default settings: 50 steps, 50 samples) and hint.png (N: where to correct next), then folder.png: a folder of four pictures made from
the sample (README's walkthrough) with the first one segmented, accepted and autosaved. Settings and the folder
live in a temporary place: the user's own are neither read nor changed.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QSettings, QStandardPaths, Qt
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


def shoot(window: MainWindow, name: str, wait: float = 0.3) -> None:
    settle(wait)
    window.grab().save(str(HERE / name))
    print("wrote", HERE / name)


def make_folder(folder: Path) -> None:
    """Four pictures: the sample and three crops of it (the only photo bundled)."""
    sample = Image.open(resource_path(SAMPLE_IMAGE)).convert("RGB")
    sample.save(folder / "cat_1.png")
    width, height = sample.size
    for index, box in enumerate([(0, 0, width * 2 // 3, height), (width // 4, 0, width, height * 3 // 4),
                                 (0, height // 5, width * 3 // 5, height)], start=2):
        sample.crop(box).save(folder / f"cat_{index}.png")


def main() -> int:
    private = Path(tempfile.mkdtemp(prefix="gdc-seg-screenshots-"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(private / "settings"))
    QStandardPaths.setTestModeEnabled(True)
    create_application([])
    config = SegmenterConfig()
    window = MainWindow(create_segmenter(config, None), config)  # weights: GDC_SEG_BACKBONE_WEIGHTS
    window.resize(1280, 800)
    window.move(QPoint(0, 0))
    window.show()
    settle()
    if not window.session.open_image(resource_path(SAMPLE_IMAGE)):
        return 1
    window.canvas.set_brush_size(14)
    shoot(window, "empty.png")
    window.session.load_scribbles(resource_path(SAMPLE_SCRIBBLES))
    hover(window, 300, 110)
    shoot(window, "scribbles.png")
    previews = []
    window.session.runs.progressed.connect(lambda progress: progress.preview is not None and previews.append(1))
    window.session.segment()
    while window.session.runs.busy and not previews:
        QApplication.processEvents()
    shoot(window, "running.png", wait=0.0)  # at once: the whole run takes about a second
    while window.session.runs.busy:
        settle(0.1)
    if window.session.document.prediction is None:
        print("the run failed:", window.statusBar().currentMessage(), file=sys.stderr)
        return 1
    hover(window, 300, 110)
    shoot(window, "mask.png")
    window.actions.uncertainty.trigger()
    shoot(window, "uncertainty.png")
    window.actions.uncertainty.trigger()  # back to the mask overlay
    window.actions.next_hint.trigger()
    shoot(window, "hint.png")
    window.session.document.undo_stack.setClean()  # nothing to save on close
    folder = private / "photos"
    folder.mkdir()
    make_folder(folder)
    if not window.session.open_folder(folder):
        return 1
    window.session.load_scribbles(resource_path(SAMPLE_SCRIBBLES))
    window.session.segment()
    deadline = time.monotonic() + 120
    while (window.session.runs.busy or window.session.document.prediction is None) and time.monotonic() < deadline:
        settle(0.1)
    if window.session.document.prediction is None:
        print("the folder run failed:", window.statusBar().currentMessage(), file=sys.stderr)
        return 1
    window.session.accept_prediction()
    window.session.autosave.flush()
    window.file_list.refresh()
    hover(window, 300, 110)
    shoot(window, "folder.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
