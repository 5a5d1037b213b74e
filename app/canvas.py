"""ImageCanvas: the image with its layers, zoom and pan, the brush ring, and painting strokes into the document.

Layers from bottom to top: image, accepted mask, prediction (or a training preview), uncertainty, scribbles.
Mouse: left-drag paints with the current tool; right-drag, or Alt+left-drag, erases; middle-drag or Space+drag
pans; the wheel (with or without Ctrl) zooms about the cursor. Scene coordinates are image pixels.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QKeyEvent, QMouseEvent, QPixmap, QWheelEvent
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QFrame, QGraphicsPixmapItem, QGraphicsScene,
                               QGraphicsView, QLineEdit, QWidget)

from gdc_core import NO_LABEL
from gdc_core.io import grey_to_uint8

from .document import MASK, SCRIBBLES, AnnotationDocument
from .layers import BrushRing, LabelLayerItem, class_lut, uncertainty_lut
from .classes import ClassList, drawing_colour_table

BRUSH = "brush"
ERASER = "eraser"
MIN_BRUSH, MAX_BRUSH = 1, 512
MIN_ZOOM, MAX_ZOOM = 0.01, 64.0
WHEEL_ZOOM_PER_NOTCH = 1.25  # one wheel notch (120 units)


# the sizes ``[`` and ``]`` step through (px): 1 to 8 one by one, then four steps per doubling (8·2^(k/4),
# rounded), so growing and shrinking visit the same sizes and every step above 8 px is 19 % give or take rounding
BRUSH_SIZES = (*range(MIN_BRUSH, 8), *sorted({round(8 * 2 ** (k / 4)) for k in range(25)}))


def next_brush_size(size: int, grow: bool) -> int:
    """The brush diameter after one ``]`` (grow) or ``[`` (shrink) press: the next size of BRUSH_SIZES above or
    below ``size`` (a size between two of them, typed in the box, goes to the nearer one in that direction)."""
    if grow:
        return next((step for step in BRUSH_SIZES if step > size), MAX_BRUSH)
    return next((step for step in reversed(BRUSH_SIZES) if step < size), MIN_BRUSH)


def editing_in_a_list(widget: QWidget | None) -> bool:
    """True for the text editor of an item being renamed in a list (e.g. a class name)."""
    if not isinstance(widget, QLineEdit):
        return False
    while widget is not None:
        if isinstance(widget, QAbstractItemView):
            return True
        widget = widget.parentWidget()
    return False


class ImageCanvas(QGraphicsView):
    """Shows an :class:`AnnotationDocument` and paints strokes into it.

    Signals:
        brush_size_changed(int): the brush diameter in image pixels.
        tool_changed(str): ``brush`` or ``eraser``.
        target_changed(str): strokes now go to ``scribbles`` or ``mask``.
    """

    brush_size_changed = Signal(int)
    tool_changed = Signal(str)
    target_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.document: AnnotationDocument | None = None
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor(48, 48, 48)))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)

        self.image_item = QGraphicsPixmapItem()
        lut = class_lut(drawing_colour_table(ClassList.default()))
        self.mask_item = LabelLayerItem(lut)
        self.prediction_item = LabelLayerItem(lut)
        self.uncertainty_item = LabelLayerItem(uncertainty_lut())
        self.scribble_item = LabelLayerItem(lut)
        self.ring = BrushRing()
        for z, item in enumerate((self.image_item, self.mask_item, self.prediction_item, self.uncertainty_item,
                                  self.scribble_item)):
            item.setZValue(z)
            self.scene().addItem(item)
        self.scene().addItem(self.ring)
        self.ring.hide()

        self.tool = BRUSH
        self.target = SCRIBBLES
        self.brush_size = 12
        self.ring.set_diameter(self.brush_size)
        self.overlay_visible = True
        self.overlay_opacity = 0.5
        self.uncertainty_visible = False
        self.scribbles_visible = True
        self._previewing = False
        self._stroke = None
        self._pan_from: QPoint | None = None
        self._space_held = False
        self._auto_fit = True
        self._update_visibility()

    # ---- document -------------------------------------------------------------------------------------------
    def set_document(self, document: AnnotationDocument) -> None:
        """Show ``document`` (fitted to the view) and follow its changes."""
        if self.document is not None:
            self.document.layer_changed.disconnect(self._layer_changed)
            self.document.layer_replaced.disconnect(self._layer_replaced)
            self.document.prediction_changed.disconnect(self._prediction_changed)
            self.document.classes_changed.disconnect(self._recolour)
        self._stroke = None
        self.document = document
        height, width = document.shape
        image = QImage(document.image.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        self.image_item.setPixmap(QPixmap.fromImage(image))
        self.scene().setSceneRect(QRectF(0, 0, width, height))
        self.scribble_item.set_labels(document.scribbles)
        document.layer_changed.connect(self._layer_changed)
        document.layer_replaced.connect(self._layer_replaced)
        document.prediction_changed.connect(self._prediction_changed)
        document.classes_changed.connect(self._recolour)
        self._recolour()
        self._layer_replaced(MASK)
        self._prediction_changed()
        self.fit()

    def _layer_changed(self, name: str, rect: QRect) -> None:
        (self.scribble_item if name == SCRIBBLES else self.mask_item).refresh(rect)

    def _layer_replaced(self, name: str) -> None:
        if name == SCRIBBLES:
            self.scribble_item.set_labels(self.document.scribbles)
        else:
            self.mask_item.set_labels(self.document.mask)
            if self.document.mask is None and self.target == MASK:
                self.set_target(SCRIBBLES)
        self._update_visibility()

    def _prediction_changed(self) -> None:
        prediction, uncertainty = self.document.prediction, self.document.uncertainty
        self._previewing = False
        self.prediction_item.set_labels(None if prediction is None else prediction.labels)
        self.uncertainty_item.set_labels(None if uncertainty is None else grey_to_uint8(uncertainty))
        self._update_visibility()

    def show_preview(self, labels: np.ndarray | None) -> None:
        """Show an intermediate (h, w) label map of a run in progress, stretched over the image; None goes back
        to the document's prediction."""
        if labels is None:
            if self._previewing:
                self._prediction_changed()
            return
        self._previewing = True
        height, width = self.document.shape
        self.prediction_item.set_labels(labels, (width, height))
        self._update_visibility()

    def _recolour(self) -> None:
        lut = class_lut(drawing_colour_table(self.document.classes))
        for item in (self.mask_item, self.prediction_item, self.scribble_item):
            item.set_lut(lut)

    # ---- view options ---------------------------------------------------------------------------------------
    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_visible = visible
        self._update_visibility()

    def set_overlay_opacity(self, opacity: float) -> None:
        """Opacity of the mask and prediction, 0..1."""
        self.overlay_opacity = float(opacity)
        self._update_visibility()

    def set_uncertainty_visible(self, visible: bool) -> None:
        """Show where the Monte-Carlo samples disagree, in place of the mask overlay."""
        self.uncertainty_visible = visible
        self._update_visibility()

    def set_scribbles_visible(self, visible: bool) -> None:
        self.scribbles_visible = visible
        self._update_visibility()

    def _update_visibility(self) -> None:
        show_overlay = self.overlay_visible and not self.uncertainty_visible
        self.mask_item.setVisible(show_overlay and self.mask_item.labels is not None)
        self.prediction_item.setVisible(show_overlay and self.prediction_item.labels is not None
                                        and (self.target == SCRIBBLES or self._previewing))
        self.uncertainty_item.setVisible(self.uncertainty_visible and self.uncertainty_item.labels is not None)
        self.scribble_item.setVisible(self.scribbles_visible)
        for item in (self.mask_item, self.prediction_item):
            item.setOpacity(self.overlay_opacity)

    # ---- tools ----------------------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        if tool not in (BRUSH, ERASER):
            raise ValueError(f"unknown tool {tool!r}")
        if tool != self.tool:
            self.tool = tool
            self.tool_changed.emit(tool)

    def set_target(self, target: str) -> bool:
        """Paint on ``scribbles`` or on the accepted ``mask``; False (unchanged) when there is no mask yet."""
        if target == MASK and (self.document is None or self.document.mask is None):
            return False
        if target != self.target:
            self.target = target
            self._update_visibility()
            self.target_changed.emit(target)
        return True

    def set_brush_size(self, size: int) -> None:
        """Brush diameter in image pixels, clamped to 1..512."""
        size = int(min(MAX_BRUSH, max(MIN_BRUSH, size)))
        if size != self.brush_size:
            self.brush_size = size
            self.ring.set_diameter(size)
            self.brush_size_changed.emit(size)

    def grow_brush(self) -> None:
        self.set_brush_size(next_brush_size(self.brush_size, True))

    def shrink_brush(self) -> None:
        self.set_brush_size(next_brush_size(self.brush_size, False))

    # ---- zoom and pan ---------------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self.transform().m11()

    def fit(self) -> None:
        """Show the whole image, centred (F, Ctrl+0)."""
        self._auto_fit = True
        if self.document is not None:
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom by ``factor`` keeping the image point under ``anchor`` (viewport pixels; default: centre) still."""
        factor = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor)) / self.zoom
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        fixed = self.mapToScene(anchor)
        self._auto_fit = False
        self.scale(factor, factor)
        moved = self.mapFromScene(fixed) - anchor
        self._scroll_by(moved.x(), moved.y())

    def _scroll_by(self, dx: float, dy: float) -> None:
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(dx))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(dy))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(WHEEL_ZOOM_PER_NOTCH ** (delta / 120.0), event.position().toPoint())
        event.accept()

    # ---- keyboard and mouse ---------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = True
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = False
                self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def enterEvent(self, event) -> None:
        if not editing_in_a_list(QApplication.focusWidget()):
            self.setFocus()  # so Space pans and the keys act on the image without a click first
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        self.ring.hide()
        super().leaveEvent(event)

    def image_point(self, viewport_pos: QPointF) -> QPointF:
        """The image position (pixels, float) under a viewport position."""
        return self.mapToScene(viewport_pos.toPoint())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.document is None or self._stroke is not None or self._pan_from is not None:
            return
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_held):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            self.ring.hide()
            event.accept()
            return
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        erase = (button == Qt.MouseButton.RightButton or self.tool == ERASER
                 or bool(event.modifiers() & Qt.KeyboardModifier.AltModifier))
        value = NO_LABEL if erase else self.document.current_class
        self._stroke = self.document.begin_stroke(self.target, value, self.brush_size)
        point = self.image_point(event.position())
        self._stroke.line_to(point.x(), point.y())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = self.image_point(event.position())
        if self._pan_from is not None:
            now = event.position().toPoint()
            delta = now - self._pan_from
            self._pan_from = now
            self._auto_fit = False
            self._scroll_by(-delta.x(), -delta.y())
            event.accept()
            return
        if self.document is not None:
            self.ring.setPos(point)
            self.ring.show()
        if self._stroke is not None:
            self._stroke.line_to(point.x(), point.y())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held else Qt.CursorShape.CrossCursor)
        elif self._stroke is not None and event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            stroke, self._stroke = self._stroke, None
            self.document.end_stroke(stroke)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.mousePressEvent(event)  # a quick second dab is a stroke, not a double-click action
