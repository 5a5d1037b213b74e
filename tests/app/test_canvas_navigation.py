"""Point 1: the canvas shows the image and its layers; wheel zoom about the cursor, pan, fit."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QEnterEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from qt_helpers import drag, to_view


def wheel(canvas, position: QPoint, notches: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    event = QWheelEvent(QPointF(position), QPointF(canvas.viewport().mapToGlobal(position)), QPoint(0, 0),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton, modifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(canvas.viewport(), event)


def visible_image_rect(canvas):
    return canvas.mapToScene(canvas.viewport().rect()).boundingRect()


def test_opens_fitted_with_layers_in_order(window):
    canvas = window.canvas
    shown = visible_image_rect(canvas)
    assert shown.contains(canvas.scene().sceneRect().adjusted(1, 1, -1, -1))
    assert canvas.zoom > 5  # a 64 x 48 image fills a 900 x 600 window
    z = [item.zValue() for item in (canvas.image_item, canvas.mask_item, canvas.prediction_item,
                                     canvas.uncertainty_item, canvas.scribble_item)]
    assert z == sorted(z)


def test_wheel_zooms_about_the_cursor_with_or_without_ctrl(window):
    canvas = window.canvas
    for modifier in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier):
        window.actions.fit.trigger()
        cursor = to_view(canvas, 20, 15)
        before = canvas.zoom
        wheel(canvas, cursor, 3, modifier)
        assert canvas.zoom > before * 1.9
        under = canvas.mapToScene(cursor)
        assert abs(under.x() - 20) < 1 and abs(under.y() - 15) < 1
        wheel(canvas, cursor, -1, modifier)
        assert canvas.zoom < before * 1.9


def test_middle_drag_and_space_drag_pan(qtbot, window):
    canvas = window.canvas
    wheel(canvas, to_view(canvas, 32, 24), 6)
    scribbles_before = window.session.document.scribbles.copy()
    for use_space in (False, True):
        start = canvas.mapToScene(canvas.viewport().rect().center())
        viewport = canvas.viewport()
        a, b = QPoint(300, 300), QPoint(200, 250)
        if use_space:
            qtbot.keyPress(canvas, Qt.Key.Key_Space)
            qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
            qtbot.mouseMove(viewport, b)
            qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)
            qtbot.keyRelease(canvas, Qt.Key.Key_Space)
        else:
            qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=a)
            qtbot.mouseMove(viewport, b)
            qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=b)
        moved = canvas.mapToScene(canvas.viewport().rect().center()) - start
        assert moved.x() > 0.5 and moved.y() > 0.2  # dragging left/up brings the right/bottom into view
    assert (window.session.document.scribbles == scribbles_before).all()  # panning never paints


def test_f_and_ctrl_0_fit(qtbot, window):
    canvas = window.canvas
    for key, modifier in ((Qt.Key.Key_F, Qt.KeyboardModifier.NoModifier),
                          (Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)):
        fitted = canvas.zoom
        wheel(canvas, to_view(canvas, 10, 10), 4)
        assert canvas.zoom > fitted * 2
        qtbot.keyClick(canvas, key, modifier)
        assert abs(canvas.zoom - fitted) < 1e-6 * fitted


def test_painting_needs_no_visible_scrollbars_and_maps_pixels_exactly(qtbot, window):
    """A dab at the centre of pixel (10, 20) lands in that pixel at any zoom."""
    canvas = window.canvas
    canvas.set_brush_size(1)
    wheel(canvas, to_view(canvas, 10, 20), 5)
    drag(qtbot, canvas, [(10.5, 20.5)])
    stroked = window.session.document.scribbles != 255
    assert stroked.sum() == 1 and stroked[20, 10]


def test_hovering_the_image_gives_it_the_keys_unless_a_class_name_is_being_edited(qtbot, window):
    canvas, panel = window.canvas, window.palette_panel
    window.brush_spin.setFocus()
    QApplication.sendEvent(canvas, QEnterEvent(QPointF(10, 10), QPointF(10, 10), QPointF(10, 10)))
    assert canvas.hasFocus()
    panel.list.editItem(panel.list.item(1))
    editor = QApplication.focusWidget()
    QApplication.sendEvent(canvas, QEnterEvent(QPointF(10, 10), QPointF(10, 10), QPointF(10, 10)))
    assert QApplication.focusWidget() is editor
