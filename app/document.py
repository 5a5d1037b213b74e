"""The work on one image, independent of any widget: the image, the scribble layer, the accepted mask, the latest
prediction, and a QUndoStack with one command per user action (a whole stroke is one step).

Layers are numpy arrays shared with the views, which repaint only the rectangles reported by ``layer_changed``.
Label values are class ids; 255 (``NO_LABEL``) means "no stroke" in scribbles and "void" in the mask.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRect, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from gdc_core import NO_LABEL

from .palette import LabelClass, LabelPalette
from .strokes import StrokeRecord, capsule

SCRIBBLES = "scribbles"
MASK = "mask"
LAYERS = (SCRIBBLES, MASK)

_document_keys = itertools.count(1)


@dataclass(frozen=True)
class Prediction:
    """A finished run, at the image's size: ``labels`` (H, W) uint8 class ids, ``uncertainty`` (H, W) float32 in
    [0, 1] (fraction of the Monte-Carlo samples that disagree), ``seconds`` the run's wall time."""

    labels: np.ndarray
    uncertainty: np.ndarray
    seconds: float


def as_display_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W) grey or (H, W, 3|4) uint8 -> contiguous (H, W, 3) uint8 RGB."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"expected an (H, W) or (H, W, 3|4) uint8 image, got {image.dtype} {image.shape}")
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


class AnnotationDocument(QObject):
    """Everything the user made on one image.

    Attributes:
        key: a number unique in this process, telling documents (and runs started for them) apart.
        image: (H, W, 3) uint8 RGB.
        path: the image file, or None for an image that did not come from a file.
        full_size: (H, W) the file declares: larger than ``shape`` when it was decoded reduced
            (:func:`gdc_core.io.open_image`), ``shape`` otherwise.
        scribbles: (H, W) uint8 class id per stroke pixel, 255 elsewhere.
        mask: (H, W) uint8 accepted, editable mask, or None until a prediction is accepted.
        prediction: the latest finished run not yet accepted, or None.
        uncertainty: (H, W) float32 in [0, 1] of the latest finished run (kept after accepting), or None.

    Signals:
        layer_changed(str, QRect): pixels of layer ``scribbles`` or ``mask`` changed inside the rect (image pixels).
        layer_replaced(str): a whole layer changed or appeared/disappeared.
        prediction_changed: ``prediction`` was set, accepted or cleared.
        scribbles_edited: a change to the scribbles was committed (stroke end, undo, redo, load, class removal).
    """

    layer_changed = Signal(str, QRect)
    layer_replaced = Signal(str)
    prediction_changed = Signal()
    scribbles_edited = Signal()

    def __init__(self, image: np.ndarray, path: str | Path | None = None, parent: QObject | None = None,
                 full_size: tuple[int, int] | None = None):
        super().__init__(parent)
        self.key = next(_document_keys)
        self.image = as_display_rgb(image)
        self.image.setflags(write=False)
        self.path = Path(path) if path is not None else None
        self.full_size = tuple(full_size) if full_size is not None else self.shape
        self.scribbles = np.full(self.shape, NO_LABEL, dtype=np.uint8)
        self.mask: np.ndarray | None = None
        self.prediction: Prediction | None = None
        self.uncertainty: np.ndarray | None = None
        self.undo_stack = QUndoStack(self)

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) in pixels."""
        return self.image.shape[:2]

    def layer(self, name: str) -> np.ndarray | None:
        if name not in LAYERS:
            raise ValueError(f"unknown layer {name!r}")
        return self.scribbles if name == SCRIBBLES else self.mask

    def scribbled_classes(self) -> tuple[int, ...]:
        """Class ids present in the scribbles, ascending."""
        return tuple(int(c) for c in np.unique(self.scribbles) if c != NO_LABEL)

    def begin_stroke(self, name: str, value: int, diameter: float) -> "Stroke":
        """Start painting ``value`` (a class id, or 255 to erase) on layer ``name`` with a round brush."""
        if self.layer(name) is None:
            raise ValueError(f"there is no {name} to paint on yet")
        return Stroke(self, name, value, diameter)

    def end_stroke(self, stroke: "Stroke") -> None:
        """Make a finished stroke one undo step (nothing happens for a stroke that changed no pixel)."""
        if stroke.record.empty:
            return
        box, before, after = stroke.record.patches()
        if np.array_equal(before, after):
            return
        verb = "Erase" if stroke.value == NO_LABEL else "Paint"
        self.undo_stack.push(PatchCommand(self, stroke.name, box, before, after, f"{verb} {stroke.name}"))

    def set_prediction(self, prediction: Prediction | None) -> None:
        """Show a new run's result (not an undo step: results are not edits); None hides the prediction but keeps
        its uncertainty."""
        self.prediction = prediction
        if prediction is not None:
            self.uncertainty = prediction.uncertainty
        self.prediction_changed.emit()

    def accept_prediction(self) -> bool:
        """Copy the prediction into the editable mask as one undo step; False when there is none."""
        if self.prediction is None:
            return False
        self.undo_stack.push(AcceptCommand(self))
        return True

    def clear_scribbles(self) -> None:
        if (self.scribbles != NO_LABEL).any():
            self.replace_work(np.full(self.shape, NO_LABEL, dtype=np.uint8), self.mask, text="Clear scribbles")

    def replace_work(self, scribbles: np.ndarray, mask: np.ndarray | None, *, palette: LabelPalette | None = None,
                     classes: list[LabelClass] | None = None, text: str = "Load work") -> None:
        """Replace the scribbles, the mask and optionally the palette's classes, as one undo step."""
        for array in (scribbles, mask):
            if array is not None and (array.shape != self.shape or array.dtype != np.uint8):
                raise ValueError(f"a layer must be ({self.shape[0]}, {self.shape[1]}) uint8, got {array.dtype} "
                                 f"{array.shape}")
        self.undo_stack.push(ReplaceCommand(self, scribbles, mask, palette, classes, text))

    def remove_class(self, palette: LabelPalette, class_id: int) -> None:
        """Remove a class from ``palette`` and erase its pixels from scribbles and mask, as one undo step."""
        self.undo_stack.push(RemoveClassCommand(self, palette, class_id))

    def _write(self, name: str, box: tuple[int, int, int, int], content: np.ndarray) -> None:
        top, left, bottom, right = box
        self.layer(name)[top:bottom, left:right] = content
        self.layer_changed.emit(name, QRect(left, top, right - left, bottom - top))
        if name == SCRIBBLES:
            self.scribbles_edited.emit()

    def _set_layers(self, scribbles: np.ndarray, mask: np.ndarray | None) -> None:
        """Swap in whole layers (the scribbles array is updated in place: views keep their reference)."""
        self.scribbles[...] = scribbles
        self.layer_replaced.emit(SCRIBBLES)
        self.mask = None if mask is None else mask.copy()
        self.layer_replaced.emit(MASK)
        self.scribbles_edited.emit()


class Stroke:
    """One press-drag-release of the brush; paints immediately, becomes an undo step at ``end_stroke``."""

    def __init__(self, document: AnnotationDocument, name: str, value: int, diameter: float):
        self.document = document
        self.name = name
        self.value = int(value)
        self.diameter = float(diameter)
        self.record = StrokeRecord(document.layer(name))
        self._last: tuple[float, float] | None = None

    def line_to(self, x: float, y: float) -> None:
        """Extend the stroke to image position (x, y) in pixels (the first call paints a dot)."""
        start = self._last if self._last is not None else (x, y)
        self._last = (x, y)
        layer = self.record.layer
        covered = capsule(layer.shape, start, (x, y), self.diameter)
        if covered is None:
            return
        (rows, cols), inside = covered
        self.record.remember(rows, cols)
        layer[rows, cols][inside] = self.value
        self.document.layer_changed.emit(
            self.name, QRect(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start))


class PatchCommand(QUndoCommand):
    """A rectangle of one layer before and after an edit. The first redo (on push) finds the edit already made."""

    def __init__(self, document: AnnotationDocument, name: str, box: tuple[int, int, int, int],
                 before: np.ndarray, after: np.ndarray, text: str):
        super().__init__(text)
        self.document, self.name, self.box, self.before, self.after = document, name, box, before, after
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            top, left, bottom, right = self.box
            self.document.layer_changed.emit(self.name, QRect(left, top, right - left, bottom - top))
            if self.name == SCRIBBLES:
                self.document.scribbles_edited.emit()
            return
        self.document._write(self.name, self.box, self.after)

    def undo(self) -> None:
        self.document._write(self.name, self.box, self.before)


class AcceptCommand(QUndoCommand):
    """The prediction becomes the mask; undo brings the old mask back (and the prediction, unless a newer one
    has arrived since)."""

    def __init__(self, document: AnnotationDocument):
        super().__init__("Accept prediction")
        self.document = document
        self.prediction = document.prediction
        self.old_mask = document.mask

    def redo(self) -> None:
        self.document.mask = self.prediction.labels.copy()
        self.document.layer_replaced.emit(MASK)
        self.document.set_prediction(None)

    def undo(self) -> None:
        self.document.mask = self.old_mask
        self.document.layer_replaced.emit(MASK)
        if self.document.prediction is None:
            self.document.set_prediction(self.prediction)


class ReplaceCommand(QUndoCommand):
    """Whole scribble and mask layers (and optionally the class list) replaced at once."""

    def __init__(self, document: AnnotationDocument, scribbles: np.ndarray, mask: np.ndarray | None,
                 palette: LabelPalette | None, classes: list[LabelClass] | None, text: str):
        super().__init__(text)
        self.document, self.palette = document, palette
        self.new = (scribbles.copy(), None if mask is None else mask.copy(), classes)
        self.old = (document.scribbles.copy(), document.mask,
                    list(palette.classes()) if palette is not None and classes is not None else None)

    def _apply(self, state) -> None:
        scribbles, mask, classes = state
        if classes is not None:
            self.palette.replace(classes)
        self.document._set_layers(scribbles, mask)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class RemoveClassCommand(QUndoCommand):
    """A class leaves the palette and its pixels in scribbles and mask become 255; undo puts both back."""

    def __init__(self, document: AnnotationDocument, palette: LabelPalette, class_id: int):
        super().__init__(f"Remove class {palette.by_id(class_id).name}")
        self.document, self.palette, self.class_id = document, palette, class_id
        self.row: int | None = None
        self.entry: LabelClass | None = None
        self.patches: list[tuple[str, tuple[int, int, int, int], np.ndarray]] = []

    def redo(self) -> None:
        self.row, self.entry = self.palette.remove(self.class_id)
        self.patches = []
        for name in LAYERS:
            layer = self.document.layer(name)
            if layer is None:
                continue
            rows, cols = np.nonzero(layer == self.class_id)
            if rows.size == 0:
                continue
            box = (int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1)
            top, left, bottom, right = box
            before = layer[top:bottom, left:right].copy()
            self.patches.append((name, box, before))
            self.document._write(name, box, np.where(before == self.class_id, NO_LABEL, before).astype(np.uint8))

    def undo(self) -> None:
        self.palette.insert(self.row, self.entry)
        for name, box, before in self.patches:
            self.document._write(name, box, before)
