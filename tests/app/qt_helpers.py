"""Helpers for the app tests: a test picture, tiny run settings, and mouse strokes made as a user makes them."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from gdc_core import SegmenterConfig

# a whole run on a 64 x 48 image: a fraction of a second
TINY = SegmenterConfig(steps=3, samples=2, superpixels=50, max_side=64, preview_every=1, preview_seconds=0)


def make_image(height: int = 48, width: int = 64) -> np.ndarray:
    """A (H, W, 3) uint8 test picture: a dark textured left half, a bright right half with a red square."""
    rng = np.random.default_rng(0)
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:, : width // 2] = 40 + rng.integers(0, 20, (height, width // 2, 1))
    image[:, width // 2:] = 200 + rng.integers(0, 20, (height, width - width // 2, 1))
    image[height // 3: 2 * height // 3, width - 20: width - 8] = (220, 30, 30)
    return image


def to_view(canvas, x: float, y: float) -> QPoint:
    """The viewport position of image point (x, y)."""
    return canvas.mapFromScene(QPointF(x, y))


def drag(qtbot, canvas, points, button=Qt.MouseButton.LeftButton, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Press at the first image point, move through the others, release at the last: one stroke as a user makes it."""
    viewport = canvas.viewport()
    positions = [to_view(canvas, x, y) for x, y in points]
    qtbot.mousePress(viewport, button, modifier, positions[0])
    for position in positions[1:]:
        qtbot.mouseMove(viewport, position)
    qtbot.mouseRelease(viewport, button, modifier, positions[-1])


def paint_two_classes(qtbot, window) -> None:
    """A background stroke on the left half (key 1) and an object stroke on the right half (key 2)."""
    canvas = window.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    drag(qtbot, canvas, [(8, 10), (8, 38)])
    qtbot.keyClick(canvas, Qt.Key.Key_2)
    drag(qtbot, canvas, [(50, 10), (50, 38)])


def shown_window(qtbot, segmenter, config=TINY):
    """A MainWindow with tiny runs, shown and active (its shortcuts only work in the active window)."""
    from app.main_window import MainWindow

    main = MainWindow(segmenter, config)
    qtbot.addWidget(main)
    main.resize(900, 600)
    main.show()
    qtbot.waitExposed(main)
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow)
    return main


def running_qthreads() -> list[str]:
    """The names of the QThreads of this process that are running."""
    import gc
    import warnings

    from PySide6.QtCore import QThread

    running = []
    with warnings.catch_warnings():  # isinstance() on some deprecated torch objects warns
        warnings.simplefilter("ignore")
        threads = [thing for thing in gc.get_objects() if isinstance(thing, QThread)]
    for thread in threads:
        try:
            if thread.isRunning():
                running.append(thread.objectName())
        except RuntimeError:  # its C++ side is already gone
            pass
    return running


def on_next_dialog(kind, steps, tries: int = 200) -> list[BaseException]:
    """Once the next modal dialog of type ``kind`` is up, run ``steps(dialog)`` on it as a user would. Call before
    the action that opens it. Whatever ``steps`` raise is returned in the list (for the test to check after the
    dialog closed) and the dialog is rejected, so a failing check fails the test instead of leaving it waiting."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    errors: list[BaseException] = []

    def attempt(left: int) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, kind):
            if left > 0:
                QTimer.singleShot(10, lambda: attempt(left - 1))
            else:
                errors.append(AssertionError(f"no {kind.__name__} came up"))
            return
        try:
            steps(dialog)
        except BaseException as exc:  # noqa: BLE001  (reported to the test)
            errors.append(exc)
            dialog.reject()

    QTimer.singleShot(0, lambda: attempt(tries))
    return errors


def answer_text_dialog(qtbot, text: str | None) -> list[BaseException]:
    """Once the next text dialog (QInputDialog) is up, type ``text`` and press Enter, or Esc when None. Call before
    the click that opens it; returns :func:`on_next_dialog`'s error list."""
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    def answer(dialog):
        field = dialog.findChild(QLineEdit)
        if text is None:
            qtbot.keyClick(field, Qt.Key.Key_Escape)
            return
        field.selectAll()
        qtbot.keyClicks(field, text)
        qtbot.keyClick(field, Qt.Key.Key_Return)

    return on_next_dialog(QInputDialog, answer)
