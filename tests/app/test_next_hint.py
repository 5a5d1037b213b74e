"""The "next" hint (key N, View > Show next correction): a marker where the samples disagree most."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from app.document import Prediction
from gdc_core.interaction import next_hint
from qt_helpers import paint_two_classes

RUN_TIMEOUT_MS = 60_000


def finished_run(window, uncertainty: np.ndarray) -> None:
    """What a finished run leaves in the document: the object on the right half, with ``uncertainty``."""
    labels = np.zeros((48, 64), np.uint8)
    labels[:, 32:] = 1
    window.session.document.set_prediction(Prediction(labels, uncertainty.astype(np.float32), 0.1))


def test_key_n_marks_the_middle_of_the_largest_unsure_area_until_the_mask_changes(qtbot, window):
    uncertainty = np.zeros((48, 64))
    uncertainty[:, 30:34] = 0.4  # along the border: 2 px deep on each side
    yy, xx = np.mgrid[:48, :64]
    uncertainty[(yy - 30) ** 2 + (xx - 12) ** 2 <= 25] = 0.35  # a 5 px blob in the background
    finished_run(window, uncertainty)
    marker = window.next_hint.marker
    assert not marker.isVisible()
    qtbot.keyClick(window.canvas, Qt.Key.Key_N)
    assert marker.isVisible() and (marker.pos().x(), marker.pos().y()) == (12.5, 30.5)
    message = window.statusBar().currentMessage()
    assert "x 12, y 30" in message and "background" in message
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)  # accepting changes the mask: the hint is stale
    assert not marker.isVisible()


def test_the_menu_action_after_a_real_run_marks_the_engines_pick(qtbot, window):
    paint_two_classes(qtbot, window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: window.session.document.prediction is not None and not window.session.runs.busy,
                    timeout=RUN_TIMEOUT_MS)
    prediction = window.session.document.prediction
    expected = next_hint(prediction.labels, prediction.uncertainty)
    window.actions.next_hint.trigger()
    if expected is None:
        assert not window.next_hint.marker.isVisible() and "agree" in window.statusBar().currentMessage()
    else:
        assert window.next_hint.marker.isVisible()
        assert window.next_hint.marker.pos().toTuple() == (expected.col + 0.5, expected.row + 0.5)
        assert prediction.uncertainty[expected.row, expected.col] >= 0.25


def test_without_a_run_or_without_doubt_there_is_no_marker(qtbot, window):
    qtbot.keyClick(window.canvas, Qt.Key.Key_N)
    assert not window.next_hint.marker.isVisible() and "segment first" in window.statusBar().currentMessage()
    finished_run(window, np.full((48, 64), 0.1))
    qtbot.keyClick(window.canvas, Qt.Key.Key_N)
    assert not window.next_hint.marker.isVisible() and "agree everywhere" in window.statusBar().currentMessage()
    assert "N" in [k.toString() for k in window.actions.next_hint.shortcuts()]
    menu = [a for a in window.menuBar().actions() if a.text() == "&View"][0].menu()
    assert window.actions.next_hint in menu.actions()
