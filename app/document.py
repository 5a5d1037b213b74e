"""The work on one image, independent of any widget: the image, the scribble layer, the accepted mask, the latest
prediction, the class list (:class:`app.classes.ClassList`) and the current class, and a QUndoStack with one command
per user action (a whole stroke is one step; adding, renaming, recolouring and removing a class are steps too).
The document is dirty (has work not on disk) exactly when its undo stack is not clean.

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

from .classes import ClassList
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
        classes: the :class:`ClassList` the layers' values refer to.
        current_class: the id strokes paint.

    Signals:
        layer_changed(str, QRect): pixels of layer ``scribbles`` or ``mask`` changed inside the rect (image pixels).
        layer_replaced(str): a whole layer changed or appeared/disappeared.
        prediction_changed: ``prediction`` was set, accepted or cleared.
        scribbles_edited: a change to the scribbles was committed (stroke end, undo, redo, load, class removal).
        classes_changed: classes were added, removed, renamed or recoloured, or the whole list replaced.
        current_class_changed(int): the current class id changed.
    """

    layer_changed = Signal(str, QRect)
    layer_replaced = Signal(str)
    prediction_changed = Signal()
    scribbles_edited = Signal()
    classes_changed = Signal()
    current_class_changed = Signal(int)

    def __init__(self, image: np.ndarray, path: str | Path | None = None, classes: ClassList | None = None,
                 parent: QObject | None = None, full_size: tuple[int, int] | None = None):
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
        self.classes = classes or ClassList.default()
        self.current_class = self.classes.entries[min(1, len(self.classes) - 1)].id
        self.undo_stack = QUndoStack(self)

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) in pixels."""
        return self.image.shape[:2]

    @property
    def dirty(self) -> bool:
        """True while the document holds work not saved (its undo stack is not clean)."""
        return not self.undo_stack.isClean()

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

    def set_prediction(self, prediction: Prediction) -> None:
        """Show a new run's result. Not an undo step (results are not edits) but work not yet saved: the undo
        stack leaves its clean state."""
        self.undo_stack.resetClean()
        self._show_prediction(prediction)

    def _show_prediction(self, prediction: Prediction | None) -> None:
        """None hides the prediction but keeps its uncertainty."""
        self.prediction = prediction
        if prediction is not None:
            self.uncertainty = prediction.uncertainty
        self.prediction_changed.emit()

    # ---- classes --------------------------------------------------------------------------------------------
    def set_current_class(self, class_id: int) -> None:
        self.classes.by_id(class_id)
        if class_id != self.current_class:
            self.current_class = class_id
            self.current_class_changed.emit(class_id)

    def select_class_row(self, row: int) -> bool:
        """Make the class in ``row`` current; False (nothing changes) when there is no such row."""
        if not 0 <= row < len(self.classes):
            return False
        self.set_current_class(self.classes.entries[row].id)
        return True

    def add_class(self, name: str | None = None) -> int:
        """Append a class (:meth:`ClassList.added`) as one undo step and make it current; returns its id."""
        classes = self.classes.added(name)
        self.undo_stack.push(ClassesCommand(self, classes, f"Add class {classes.entries[-1].name}"))
        self.set_current_class(classes.entries[-1].id)
        return classes.entries[-1].id

    def rename_class(self, class_id: int, name: str) -> None:
        """Rename a class as one undo step (ValueError for an empty name; nothing happens for the same name)."""
        if name.strip() != self.classes.by_id(class_id).name:
            self.undo_stack.push(ClassesCommand(self, self.classes.renamed(class_id, name), f"Rename class to {name}"))

    def recolour_class(self, class_id: int, colour: tuple[int, int, int]) -> None:
        """Give a class the (r, g, b) 0..255 ``colour``, saved and drawn, as one undo step."""
        if tuple(colour) != self.classes.by_id(class_id).colour:
            name = self.classes.by_id(class_id).name
            self.undo_stack.push(ClassesCommand(self, self.classes.recoloured(class_id, colour), f"Recolour {name}"))

    def remove_class(self, class_id: int) -> None:
        """Remove a class and erase its pixels from scribbles and mask, as one undo step (ValueError when only
        MIN_CLASSES are left)."""
        self.undo_stack.push(RemoveClassCommand(self, self.classes.removed(class_id), class_id))

    def _set_classes(self, classes: ClassList, fallback_row: int) -> None:
        """Take ``classes``; the current class becomes the one in ``fallback_row`` (clipped) if it is gone."""
        previous = self.current_class
        self.classes = classes
        if previous not in classes.ids():
            self.current_class = classes.entries[min(fallback_row, len(classes) - 1)].id
        self.classes_changed.emit()
        if self.current_class != previous:
            self.current_class_changed.emit(self.current_class)

    def accept_prediction(self) -> bool:
        """Copy the prediction into the editable mask as one undo step; False when there is none."""
        if self.prediction is None:
            return False
        self.undo_stack.push(AcceptCommand(self))
        return True

    def clear_scribbles(self) -> None:
        if (self.scribbles != NO_LABEL).any():
            self.replace_work(np.full(self.shape, NO_LABEL, dtype=np.uint8), self.mask, text="Clear scribbles")

    def replace_work(self, scribbles: np.ndarray, mask: np.ndarray | None, *, classes: ClassList | None = None,
                     text: str = "Load work") -> None:
        """Replace the scribbles, the mask and optionally the classes, as one undo step."""
        for array in (scribbles, mask):
            if array is not None and (array.shape != self.shape or array.dtype != np.uint8):
                raise ValueError(f"a layer must be ({self.shape[0]}, {self.shape[1]}) uint8, got {array.dtype} "
                                 f"{array.shape}")
        self.undo_stack.push(ReplaceCommand(self, scribbles, mask, classes, text))

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
        self.document._show_prediction(None)

    def undo(self) -> None:
        self.document.mask = self.old_mask
        self.document.layer_replaced.emit(MASK)
        if self.document.prediction is None:
            self.document._show_prediction(self.prediction)


class ClassesCommand(QUndoCommand):
    """The class list replaced by another (a class added, renamed or recoloured, or a list from Settings)."""

    def __init__(self, document: AnnotationDocument, classes: ClassList, text: str):
        super().__init__(text)
        self.document, self.new, self.old = document, classes, document.classes
        self.old_row = document.classes.row_of(document.current_class)

    def redo(self) -> None:
        self.document._set_classes(self.new, self.old_row)

    def undo(self) -> None:
        self.document._set_classes(self.old, self.old_row)


class ReplaceCommand(QUndoCommand):
    """Whole scribble and mask layers (and optionally the class list) replaced at once."""

    def __init__(self, document: AnnotationDocument, scribbles: np.ndarray, mask: np.ndarray | None,
                 classes: ClassList | None, text: str):
        super().__init__(text)
        self.document = document
        self.new = (scribbles.copy(), None if mask is None else mask.copy(), classes or document.classes)
        self.old = (document.scribbles.copy(), document.mask, document.classes)

    def _apply(self, state) -> None:
        scribbles, mask, classes = state
        if classes != self.document.classes:
            self.document._set_classes(classes, 1)
        self.document._set_layers(scribbles, mask)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class RemoveClassCommand(QUndoCommand):
    """A class leaves the list and its pixels in scribbles and mask become 255; undo puts both back."""

    def __init__(self, document: AnnotationDocument, classes: ClassList, class_id: int):
        super().__init__(f"Remove class {document.classes.by_id(class_id).name}")
        self.document, self.class_id = document, class_id
        self.new, self.old = classes, document.classes
        self.row = document.classes.row_of(class_id)
        self.patches: list[tuple[str, tuple[int, int, int, int], np.ndarray]] = []

    def redo(self) -> None:
        self.document._set_classes(self.new, self.row)
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
        self.document._set_classes(self.old, self.row)
        for name, box, before in self.patches:
            self.document._write(name, box, before)
