"""Graphics items that show numpy layers on the canvas and repaint only what changed.

:class:`LabelLayerItem` shows an (h, w) uint8 array through a 256-entry RGBA lookup table. It keeps an RGBA
buffer with a QImage view on it; :meth:`LabelLayerItem.refresh` recolours one rectangle and schedules a repaint of
that rectangle only. An array smaller than the image (a preview at the network's resolution) is stretched over it.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from gdc_core import NO_LABEL


def class_lut(colours: np.ndarray) -> np.ndarray:
    """(256, 4) uint8 RGBA lookup from (256, 3) class colours: opaque, except 255 (no label) transparent."""
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, :3] = colours
    lut[:, 3] = 255
    lut[NO_LABEL] = 0
    return lut


def uncertainty_lut() -> np.ndarray:
    """(256, 4) uint8 RGBA lookup for uncertainty quantised to 0..255: certain pixels transparent, doubtful ones
    from orange to bright yellow and increasingly opaque."""
    level = np.linspace(0.0, 1.0, 256)
    lut = np.empty((256, 4), dtype=np.uint8)
    lut[:, 0] = 255
    lut[:, 1] = np.round(96 + 159 * level)
    lut[:, 2] = np.round(64 * level)
    lut[:, 3] = np.round(np.clip(level * 1.6, 0, 1) * 235)
    return lut


class LabelLayerItem(QGraphicsItem):
    """Shows ``labels`` (h, w) uint8 over an image of ``size`` (W, H) pixels, coloured by a lookup table."""

    def __init__(self, lut: np.ndarray, parent: QGraphicsItem | None = None):
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.lut = lut
        self.labels: np.ndarray | None = None
        self._rgba = np.zeros((1, 1, 4), dtype=np.uint8)
        self._qimage = QImage()

    def set_labels(self, labels: np.ndarray | None, size: tuple[int, int] | None = None) -> None:
        """Show ``labels`` (kept by reference: edits become visible through :meth:`refresh`), stretched over
        ``size`` (W, H) when given and different from the array's; None shows nothing."""
        self.prepareGeometryChange()
        self.labels = labels
        if labels is None:
            self._rgba = np.zeros((1, 1, 4), dtype=np.uint8)
            self._qimage = QImage()
            return
        height, width = labels.shape
        self._rgba = np.ascontiguousarray(self.lut[labels])
        self._qimage = QImage(self._rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
        scale_x = size[0] / width if size else 1.0
        scale_y = size[1] / height if size else 1.0
        self.setTransform(QTransform.fromScale(scale_x, scale_y))
        self.update()

    def set_lut(self, lut: np.ndarray) -> None:
        """New colours: recolour everything."""
        self.lut = lut
        if self.labels is not None:
            self._rgba[...] = self.lut[self.labels]
            self.update()

    def refresh(self, rect: QRect) -> None:
        """Recolour ``rect`` (array pixels) after the labels changed there, and repaint only that area."""
        if self.labels is None:
            return
        rect = rect.intersected(QRect(0, 0, self.labels.shape[1], self.labels.shape[0]))
        if rect.isEmpty():
            return
        rows = slice(rect.top(), rect.top() + rect.height())
        cols = slice(rect.left(), rect.left() + rect.width())
        self._rgba[rows, cols] = self.lut[self.labels[rows, cols]]
        self.update(QRectF(rect))

    def boundingRect(self) -> QRectF:
        if self.labels is None:
            return QRectF()
        return QRectF(0, 0, self.labels.shape[1], self.labels.shape[0])

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self.labels is None:
            return
        exposed = option.exposedRect.intersected(self.boundingRect()).toAlignedRect()
        if exposed.isEmpty():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QRectF(exposed), self._qimage, QRectF(exposed))


class BrushRing(QGraphicsItem):
    """The brush outline at its true size: a black and a white circle (visible on any image), 1-2 screen
    pixels wide whatever the zoom."""

    def __init__(self, parent: QGraphicsItem | None = None):
        super().__init__(parent)
        self.diameter = 10.0
        self.setZValue(100)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_diameter(self, diameter: float) -> None:
        self.prepareGeometryChange()
        self.diameter = float(diameter)

    def boundingRect(self) -> QRectF:
        r = self.diameter / 2 + 2
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        r = self.diameter / 2
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for colour, width in ((QColor(0, 0, 0, 200), 3.0), (QColor(255, 255, 255), 1.2)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawEllipse(QPointF(0, 0), r, r)
