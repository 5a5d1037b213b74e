"""Point 2: brush and eraser strokes through the view, brush size and ring, one undo step per stroke."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from app.strokes import TILE, StrokeRecord, capsule
from gdc_core import NO_LABEL
from qt_helpers import drag, to_view


def stroked(window) -> np.ndarray:
    return window.session.document.scribbles != NO_LABEL


def test_brush_stroke_paints_the_current_class_along_the_path(qtbot, window):
    canvas = window.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_B)
    qtbot.keyClick(canvas, Qt.Key.Key_2)
    canvas.set_brush_size(5)
    drag(qtbot, canvas, [(10.5, 10.5), (30.5, 10.5), (30.5, 30.5)])  # pixel centres
    scribbles = window.session.document.scribbles
    assert scribbles[10, 10] == scribbles[10, 20] == scribbles[20, 30] == scribbles[30, 30] == 1
    assert scribbles[12, 10] == 1 and scribbles[13, 10] == NO_LABEL  # radius 2.5 around the path
    assert set(np.unique(scribbles)) == {1, NO_LABEL}
    assert not stroked(window)[40:, :].any() and not stroked(window)[:, 40:].any()


def test_a_stroke_is_one_undo_step_ctrl_z_and_both_redo_keys(qtbot, window):
    canvas = window.canvas
    drag(qtbot, canvas, [(5, 5), (20, 5)])
    first = window.session.document.scribbles.copy()
    drag(qtbot, canvas, [(5, 30), (15, 30), (25, 30), (35, 30)])
    second = window.session.document.scribbles.copy()
    assert window.session.document.undo_stack.count() == 2
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (window.session.document.scribbles == first).all()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not stroked(window).any()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert (window.session.document.scribbles == first).all()
    qtbot.keyClick(canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert (window.session.document.scribbles == second).all()
    assert window.isWindowModified()


def test_eraser_key_right_drag_and_alt_drag_erase(qtbot, window):
    canvas = window.canvas
    canvas.set_brush_size(9)
    for row in (8, 24, 40):
        drag(qtbot, canvas, [(2, row), (60, row)])
    canvas.set_brush_size(3)
    drag(qtbot, canvas, [(10, 8), (20, 8)], button=Qt.MouseButton.RightButton)
    drag(qtbot, canvas, [(10, 24), (20, 24)], modifier=Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(canvas, Qt.Key.Key_E)
    assert window.actions.eraser.isChecked() and canvas.tool == "eraser"
    drag(qtbot, canvas, [(10, 40), (20, 40)])
    for row in (8, 24, 40):
        assert not stroked(window)[row, 11:20].any()
        assert stroked(window)[row, 30:60].all()
    assert canvas.tool == "eraser"  # right-drag and Alt erase on the fly, without switching tools
    qtbot.keyClick(canvas, Qt.Key.Key_B)
    assert canvas.tool == "brush" and window.actions.brush.isChecked()


def test_bracket_keys_resize_the_brush_and_the_ring_shows_its_true_size(qtbot, window):
    canvas = window.canvas
    canvas.set_brush_size(10)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert canvas.brush_size == 11 and window.brush_spin.value() == 11
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert canvas.brush_size == 8
    qtbot.mouseMove(canvas.viewport(), to_view(canvas, 20, 20))
    ring = canvas.ring
    assert ring.isVisible()
    assert abs(ring.pos().x() - 20) < 0.5 and abs(ring.pos().y() - 20) < 0.5
    assert ring.diameter == 8  # in image pixels: the view's zoom scales it like the image
    on_screen = canvas.mapFromScene(ring.mapToScene(4, 0)).x() - canvas.mapFromScene(ring.mapToScene(-4, 0)).x()
    assert abs(on_screen - 8 * canvas.zoom) <= 2


def test_a_stroke_repaints_only_the_region_it_touches(qtbot, window):
    rects = []
    window.session.document.layer_changed.connect(lambda name, rect: rects.append(rect))
    window.canvas.set_brush_size(4)
    drag(qtbot, window.canvas, [(10, 10), (14, 12)])
    assert rects and all(r.width() <= 12 and r.height() <= 12 for r in rects[:-1])


def test_capsule_covers_the_swept_disc():
    (rows, cols), covered = capsule((50, 50), (10.5, 10.5), (30.5, 10.5), 5)
    full = np.zeros((50, 50), bool)
    full[rows, cols] = covered
    ys, xs = np.mgrid[0:50, 0:50] + 0.5
    t = np.clip((xs - 10.5) / 20, 0, 1)
    expected = (xs - (10.5 + 20 * t)) ** 2 + (ys - 10.5) ** 2 <= 2.5 ** 2
    assert (full == expected).all()
    assert capsule((50, 50), (-20, -20), (-10, -10), 4) is None


def test_stroke_record_keeps_only_touched_tiles():
    layer = np.full((3 * TILE, 3 * TILE), NO_LABEL, np.uint8)
    record = StrokeRecord(layer)
    record.remember(slice(TILE + 1, TILE + 5), slice(1, 5))
    layer[TILE + 1:TILE + 5, 1:5] = 3
    (top, left, bottom, right), before, after = record.patches()
    assert (top, left, bottom, right) == (TILE, 0, 2 * TILE, TILE)
    assert (before == NO_LABEL).all() and (after[1:5, 1:5] == 3).all()


def test_bracket_keys_step_evenly_and_the_same_sizes_both_ways(qtbot, window):
    canvas = window.canvas
    canvas.set_brush_size(1)
    up = [1]
    while canvas.brush_size < 512:
        qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
        up.append(canvas.brush_size)
    down = [512]
    while canvas.brush_size > 1:
        qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
        down.append(canvas.brush_size)
    assert up == down[::-1]  # ] then [ comes back to the same size, everywhere
    assert [b - a for a, b in zip(up, up[1:]) if b <= 8] == [1] * 7
    ratios = [b / a for a, b in zip(up, up[1:]) if a >= 16]  # below, whole pixels round the steps coarsely
    assert 1.15 <= min(ratios) and max(ratios) <= 1.23  # about 19 % per step
