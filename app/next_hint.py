"""The "next" hint (key N): a marker on the canvas where a correcting stroke pays most, as
:func:`gdc_core.interaction.next_hint` picks it from the shown mask and the uncertainty of the last run.

The marker stays until the document's prediction or mask changes, or the document is closed.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QStatusBar, QStyleOptionGraphicsItem, QWidget

from gdc_core.interaction import Hint, next_hint

from .document import AnnotationDocument

MARKER_RADIUS = 9  # screen pixels, whatever the zoom
MESSAGE_MS = 10000


class HintMarker(QGraphicsItem):
    """A ring with a cross, a fixed size on screen, in black and white (visible on any image)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(99)

    def boundingRect(self) -> QRectF:
        r = MARKER_RADIUS + 3
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        r = MARKER_RADIUS
        for colour, width in ((QColor(0, 0, 0, 220), 4.0), (QColor(255, 255, 255), 2.0)):
            painter.setPen(QPen(colour, width))
            painter.drawEllipse(QPointF(0, 0), r, r)
            painter.drawLine(QPointF(-r - 2, 0), QPointF(-r / 3, 0))
            painter.drawLine(QPointF(r / 3, 0), QPointF(r + 2, 0))
            painter.drawLine(QPointF(0, -r - 2), QPointF(0, -r / 3))
            painter.drawLine(QPointF(0, r / 3), QPointF(0, r + 2))


class NextHint(QObject):
    """Shows and hides the hint marker on ``canvas``'s scene and says what it means on ``status_bar``."""

    def __init__(self, canvas: QGraphicsView, status_bar: QStatusBar):
        super().__init__(canvas)
        self.canvas, self.status_bar = canvas, status_bar
        self.marker = HintMarker()
        self.marker.hide()
        canvas.scene().addItem(self.marker)
        self.hint: Hint | None = None
        self._document: AnnotationDocument | None = None

    def show(self, document: AnnotationDocument | None) -> Hint | None:
        """Mark where to correct ``document`` next (its prediction, else its accepted mask, with the last run's
        uncertainty) and centre the view there; says why not on the status bar when there is nothing to mark."""
        self.hide()
        labels = None
        if document is not None:
            labels = document.prediction.labels if document.prediction is not None else document.mask
        if labels is None or document.uncertainty is None:
            self.status_bar.showMessage("No hint yet: segment first (R), the hint reads the run's uncertainty.",
                                        MESSAGE_MS)
            return None
        self.hint = next_hint(labels, document.uncertainty)
        if self.hint is None:
            self.status_bar.showMessage("No hint: the samples agree everywhere.", MESSAGE_MS)
            return None
        self._follow(document)
        self.marker.setPos(self.hint.col + 0.5, self.hint.row + 0.5)
        self.marker.show()
        self.canvas.centerOn(self.marker)
        try:
            name = document.classes.by_id(self.hint.mask_label).name
        except KeyError:
            name = f"class {self.hint.mask_label}"
        self.status_bar.showMessage(
            f"Next correction at x {self.hint.col}, y {self.hint.row} (marked): the mask says {name} there but the "
            f"samples disagree most; if it is wrong, paint the right class over it.", MESSAGE_MS)
        return self.hint

    def hide(self) -> None:
        """Remove the marker (the document's mask changed, or another image is shown)."""
        self.marker.hide()
        self.hint = None
        self._follow(None)

    def _follow(self, document: AnnotationDocument | None) -> None:
        """Hide the marker when ``document``'s prediction or mask changes (and stop following the previous one)."""
        if self._document is not None:
            self._document.prediction_changed.disconnect(self._changed)
            self._document.layer_replaced.disconnect(self._changed)
            self._document.destroyed.disconnect(self._closed)
        self._document = document
        if document is not None:
            document.prediction_changed.connect(self._changed)
            document.layer_replaced.connect(self._changed)
            document.destroyed.connect(self._closed)

    def _changed(self, *args) -> None:
        self.hide()

    def _closed(self, *args) -> None:
        self._document = None  # being destroyed: nothing to disconnect
        self.hide()
