"""Big photos in the app: time to open a 24 MP photo, to paint one stroke, to zoom and pan, and to autosave its
work, measured offscreen on a synthetic 6000 x 4000 JPEG. Not a test: it prints figures.

    QT_QPA_PLATFORM=offscreen python benchmarks/big_photo.py [--width 6000 --height 4000] [--repeats 3]

"open" is File > Open (reading and decoding the JPEG, the document's layers, the canvas pixmap) plus the first
paint; "stroke" is a mouse press, 30 moves across 1500 image pixels with a 40 px brush and the release, each
event followed by the repaint it causes (what the user waits for); "zoom + pan" is 10 wheel steps and a 400 px
pan with repaints; "autosave: GUI thread" is what the app's autosave costs the GUI thread (copying the layers and
handing them to the writer thread: the brush's only stall), "autosave: written" the time until scribbles, mask
and classes are on disk (PNG encoding on the writer thread); "save on switch" is the synchronous save done before
switching images. Best of --repeats, wall-clock seconds.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def synthetic_photo(width: int, height: int) -> np.ndarray:
    """Smooth colour gradients with noise and a few shapes: compresses and decodes like a real photo."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = (127 + 100 * np.sin(x / 300)).astype(np.uint8)
    image[..., 1] = (127 + 100 * np.cos(y / 250)).astype(np.uint8)
    image[..., 2] = ((x + y) / (width + height) * 255).astype(np.uint8)
    image[height // 3: height // 2, width // 4: width // 2] = (200, 40, 40)
    image = np.clip(image.astype(np.int16) + rng.integers(-12, 12, image.shape, dtype=np.int16), 0, 255)
    return image.astype(np.uint8)


def timed(function) -> float:
    start = time.perf_counter()
    function()
    QApplication.processEvents()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=6000)
    parser.add_argument("--height", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from gdc_core.cpu_runtime import tune_process

    tune_process()  # before torch loads
    import torch

    from app.gui import create_application
    from app.main_window import MainWindow
    from gdc_core import Segmenter, SegmenterConfig
    from gdc_core.io import read_image

    torch.set_num_threads(1)
    app = create_application([])
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "photos"
        folder.mkdir()
        photo = folder / "big.jpg"
        Image.fromarray(synthetic_photo(args.width, args.height)).save(photo, quality=92)
        megapixels = args.width * args.height / 1e6
        print(f"{args.width} x {args.height} ({megapixels:.1f} MP) JPEG, {photo.stat().st_size / 1e6:.1f} MB, "
              f"Qt {os.environ['QT_QPA_PLATFORM']}, {os.cpu_count()} CPUs")
        window = MainWindow(Segmenter(SegmenterConfig(device="cpu"), allow_download=False))
        window.resize(1400, 900)
        window.show()
        QApplication.processEvents()
        canvas, viewport = window.canvas, window.canvas.viewport()

        figures: dict[str, list[float]] = {k: [] for k in ("decode", "open", "stroke", "zoom + pan",
                                                           "autosave: GUI thread", "autosave: written",
                                                           "save on switch")}
        for _ in range(args.repeats):
            figures["decode"].append(timed(lambda: read_image(photo)))
            window.document = None  # open afresh each time, without the "unsaved work" question
            figures["open"].append(timed(lambda: window.open_image(photo)))
            canvas.set_brush_size(40)

            def stroke():
                points = [canvas.mapFromScene(QPointF(1000 + 50 * i, 1500 + 10 * i)) for i in range(31)]
                QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
                for point in points[1:]:
                    QTest.mouseMove(viewport, point)
                    viewport.repaint()  # the repaint each move causes, done now so it is timed
                QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])
                viewport.repaint()

            figures["stroke"].append(timed(stroke))

            def zoom_and_pan():
                centre = QPointF(viewport.width() / 2, viewport.height() / 2)
                for _step in range(10):
                    event = QWheelEvent(centre, viewport.mapToGlobal(centre), QPoint(), QPoint(0, 120),
                                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                        Qt.ScrollPhase.NoScrollPhase, False)
                    QApplication.sendEvent(viewport, event)
                    viewport.repaint()
                start = QPoint(700, 450)
                QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, start)
                for step in range(1, 21):
                    QTest.mouseMove(viewport, start + QPoint(20 * step, 0))
                    viewport.repaint()
                QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier,
                                   start + QPoint(400, 0))
                canvas.fit()

            figures["zoom + pan"].append(timed(zoom_and_pan))
            mask = np.zeros(window.document.shape, np.uint8)
            mask[:, args.width // 2:] = 1
            window.document.replace_work(window.document.scribbles, mask, text="benchmark mask")
            autosave = window.autosave
            autosave.attach(window.document, folder / "gdc-seg")
            start = time.perf_counter()
            autosave.save_in_background()
            figures["autosave: GUI thread"].append(time.perf_counter() - start)
            while autosave.dirty:
                QApplication.processEvents()
                time.sleep(0.002)
            figures["autosave: written"].append(time.perf_counter() - start)
            window.document.replace_work(window.document.scribbles, 1 - mask, text="benchmark mask 2")
            figures["save on switch"].append(timed(autosave.flush))
            autosave.attach(None, None)
            window.document.undo_stack.setClean()
        for name, values in figures.items():
            print(f"{name:>20}: best {min(values):6.3f} s   (runs: {', '.join(f'{v:.3f}' for v in values)})")
        window.document.undo_stack.setClean()
        window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
