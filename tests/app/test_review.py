"""Point 5: overlay opacity and toggle, the uncertainty view, accepting the prediction and correcting the mask."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar

from gdc_core import NO_LABEL
from qt_helpers import drag, paint_two_classes


@pytest.fixture
def segmented(qtbot, window):
    paint_two_classes(qtbot, window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not window.session.runs.busy, timeout=20_000)
    assert window.session.document.prediction is not None, window.statusBar().currentMessage()
    return window


def test_opacity_slider_and_v_key(qtbot, segmented):
    canvas = segmented.canvas
    segmented.opacity_slider.setValue(80)
    assert canvas.prediction_item.opacity() == pytest.approx(0.8)
    assert segmented.session.settings.overlay_opacity == 80
    qtbot.keyClick(canvas, Qt.Key.Key_V)
    assert not canvas.prediction_item.isVisible() and not segmented.actions.overlay.isChecked()
    assert canvas.scribble_item.isVisible()
    qtbot.keyClick(canvas, Qt.Key.Key_V)
    assert canvas.prediction_item.isVisible()
    qtbot.keyClick(canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ShiftModifier)
    assert not canvas.scribble_item.isVisible()


def test_u_shows_where_the_samples_disagree(qtbot, segmented):
    canvas, document = segmented.canvas, segmented.session.document
    assert segmented.actions.uncertainty.isEnabled() and not canvas.uncertainty_item.isVisible()
    qtbot.keyClick(canvas, Qt.Key.Key_U)
    assert canvas.uncertainty_item.isVisible() and not canvas.prediction_item.isVisible()
    shown = canvas.uncertainty_item.labels
    expected = np.clip(document.uncertainty * 255 + 0.5, 0, 255).astype(np.uint8)
    assert np.array_equal(shown, expected)
    alpha = canvas.uncertainty_item.lut[:, 3]
    assert alpha[0] == 0 and alpha[255] > 200 and (np.diff(alpha.astype(int)) >= 0).all()
    qtbot.keyClick(canvas, Qt.Key.Key_U)
    assert not canvas.uncertainty_item.isVisible() and canvas.prediction_item.isVisible()


def test_enter_accepts_into_an_editable_mask_corrected_with_the_brush(qtbot, segmented):
    canvas, document = segmented.canvas, segmented.session.document
    predicted = document.prediction.labels.copy()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert document.prediction is None and np.array_equal(document.mask, predicted)
    assert canvas.target == "mask" and segmented.actions.edit_mask.isChecked()
    assert canvas.mask_item.isVisible()
    scribbles = document.scribbles.copy()
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [(40.5, 20.5), (60.5, 20.5)])
    assert (document.mask[20, 41:60] == 0).all()
    drag(qtbot, canvas, [(40.5, 30.5), (50.5, 30.5)], button=Qt.MouseButton.RightButton)
    assert (document.mask[30, 41:50] == NO_LABEL).all()  # erasing the mask leaves void pixels
    assert np.array_equal(document.scribbles, scribbles)  # mask corrections leave the scribbles alone
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(document.mask, predicted)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the accept itself
    assert document.mask is None and document.prediction is not None
    assert canvas.target == "scribbles" and not segmented.actions.edit_mask.isChecked()


def test_m_switches_between_scribbles_and_mask(qtbot, segmented):
    canvas, document = segmented.canvas, segmented.session.document
    qtbot.keyClick(canvas, Qt.Key.Key_M)  # with a prediction on screen, M accepts it
    assert document.mask is not None and canvas.target == "mask"
    qtbot.keyClick(canvas, Qt.Key.Key_M)
    assert canvas.target == "scribbles"
    drag(qtbot, canvas, [(30.5, 5.5)])
    assert document.scribbles[5, 30] != NO_LABEL


def test_m_without_a_prediction_explains(qtbot, window):
    qtbot.keyClick(window.canvas, Qt.Key.Key_M)
    assert window.canvas.target == "scribbles" and not window.actions.edit_mask.isChecked()


def test_m_has_one_meaning_switch_and_the_toolbar_shows_what_strokes_paint(qtbot, segmented):
    canvas = segmented.canvas
    button = segmented.findChild(QToolBar).widgetForAction(segmented.actions.edit_mask)
    assert button.text() == "Strokes: scribbles" and not button.isChecked()
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # accept: strokes now correct the mask
    assert canvas.target == "mask" and button.text() == "Strokes: mask" and button.isChecked()
    for expected in ("scribbles", "mask", "scribbles"):  # M switches, whatever came before
        qtbot.keyClick(canvas, Qt.Key.Key_M)
        assert canvas.target == expected and button.text() == f"Strokes: {expected}"
        assert button.isChecked() == (expected == "mask")
    assert "Switch strokes between adding scribbles and correcting" in segmented.actions.edit_mask.toolTip()


def test_a_prediction_older_than_the_scribbles_is_marked_stale_also_after_esc(qtbot, segmented):
    stale = segmented.run_status.stale_label
    assert not stale.isVisibleTo(segmented)
    segmented.actions.auto.setChecked(True)
    drag(qtbot, segmented.canvas, [(10.5, 40.5), (20.5, 40.5)])  # starts a run: the prediction on screen is old
    assert stale.isVisibleTo(segmented)
    qtbot.keyClick(segmented.canvas, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not segmented.session.runs.busy, timeout=20_000)
    if segmented.statusBar().currentMessage() == "Segmentation cancelled.":
        assert stale.isVisibleTo(segmented)
    segmented.actions.auto.setChecked(False)
    qtbot.keyClick(segmented.canvas, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not segmented.session.runs.busy, timeout=20_000)
    assert not stale.isVisibleTo(segmented)


def test_last_run_time_does_not_carry_over_to_the_next_image(qtbot, segmented, tmp_path):
    assert segmented.run_status.time_label.text().startswith("Last run ")
    other = tmp_path / "images" / "other.png"
    from PIL import Image
    Image.fromarray(segmented.session.document.image[::-1].copy()).save(other)
    assert segmented.session.open_image(other)
    assert segmented.run_status.time_label.text() == ""


def test_docs_keys_page_is_the_apps_own_table(window):
    from pathlib import Path

    from app.actions import shortcut_markdown

    page = Path(__file__).resolve().parents[2] / "docs" / "keys.md"
    assert page.read_text(encoding="utf-8") == shortcut_markdown(window.actions)  # python -m app.actions remakes it
