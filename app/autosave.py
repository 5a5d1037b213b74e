"""Autosave of the current image's work into its folder session's sidecar folder.

Every change of the document (a stroke, an undo: anything that moves its undo stack) or of the class list (a
rename or recolour, which the undo stack does not see) restarts a
short single-shot timer; when it fires, the work is saved through :func:`app.session.save_document` (atomic
writes, so a crash or kill during a save leaves the previous files whole). :meth:`Autosave.flush` saves at once,
before switching images or closing.

A failed save (read-only folder, full disk) is never swallowed: :attr:`Autosave.failed` carries the message, the
document stays marked unsaved (its undo stack is not set clean), :class:`UnsavedMarker` shows it in the status
bar, and the next change (or flush) tries again. Autosave keeps a prediction a proposal: only a flush (leaving
the image) accepts it first, as File > Save does, so what the user last saw is what is kept.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from .document import AnnotationDocument
from .palette import LabelPalette
from .session import save_document

DELAY_MS = 1500


class Autosave(QObject):
    """Saves ``document`` into ``folder`` a moment after each change. Inactive while ``folder`` is None.

    Signals: ``saved(str)`` (a short message), ``failed(str)`` (the error), ``dirty_changed(bool)``.
    """

    saved = Signal(str)
    failed = Signal(str)
    dirty_changed = Signal(bool)

    def __init__(self, palette: LabelPalette, parent: QObject | None = None, delay_ms: int = DELAY_MS):
        super().__init__(parent)
        self.palette = palette
        self.document: AnnotationDocument | None = None
        self.folder: Path | None = None
        self.last_error: str | None = None
        self._classes_changed = False
        palette.changed.connect(self._palette_changed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(lambda: self.save_now(accept_prediction=False))

    def attach(self, document: AnnotationDocument | None, folder: str | Path | None) -> None:
        """Follow ``document`` (saving into ``folder``; None: no autosave). The previous one is not saved here:
        flush it before."""
        self._timer.stop()
        if self.document is not None:
            try:
                self.document.undo_stack.indexChanged.disconnect(self._changed)
            except (RuntimeError, TypeError):  # already gone
                pass
        self.document, self.folder, self.last_error = document, Path(folder) if folder else None, None
        self._classes_changed = False  # the palette follows the new image's saved classes: not an edit
        if document is not None:
            document.undo_stack.indexChanged.connect(self._changed)
        self.dirty_changed.emit(self.dirty)

    @property
    def active(self) -> bool:
        return self.document is not None and self.folder is not None

    @property
    def dirty(self) -> bool:
        """The document has changes not on disk (or the last save failed)."""
        return self.active and (not self.document.undo_stack.isClean() or self._classes_changed
                                or self.last_error is not None)

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def _palette_changed(self) -> None:
        if self.active:
            self._classes_changed = True
            self._changed()

    def _changed(self, *_) -> None:
        if self.active:
            self._timer.start()
            self.dirty_changed.emit(self.dirty)

    def save_now(self, accept_prediction: bool = False) -> bool:
        """Save if there is anything to save; True when the work is on disk afterwards."""
        self._timer.stop()
        if not self.active:
            return True
        if not self.dirty and not (accept_prediction and self.document.prediction is not None):
            return True
        try:
            written = save_document(self.document, self.palette, self.folder, accept_prediction=accept_prediction)
        except (OSError, ValueError) as exc:
            self.last_error = f"Autosave failed, the work on {self.document.path.name} is NOT saved: {exc}"
            self.dirty_changed.emit(True)
            self.failed.emit(self.last_error)
            return False
        self.mark_saved()
        self.saved.emit(f"Saved {self.document.path.name} ({len(written)} files)")
        return True

    def mark_saved(self) -> None:
        """The work was just saved into :attr:`folder` (by autosave or File > Save)."""
        self.last_error = None
        self._classes_changed = False
        self.dirty_changed.emit(False)

    def flush(self) -> bool:
        """Save now (accepting a prediction on screen), e.g. before switching images or closing."""
        return self.save_now(accept_prediction=True)


class UnsavedMarker(QLabel):
    """A status-bar label: empty while the work is saved, "Unsaved" while changes wait, red after a failure."""

    def __init__(self, autosave: Autosave):
        super().__init__()
        self._autosave = autosave
        autosave.dirty_changed.connect(self._update)
        autosave.failed.connect(lambda message: self._update(True))
        self._update(False)

    def _update(self, dirty: bool) -> None:
        failed = self._autosave.last_error is not None
        if failed:
            self.setText(" Unsaved: save failed ")
            self.setStyleSheet("color: white; background: #c0392b; font-weight: bold;")
            self.setToolTip(self._autosave.last_error)
        elif dirty:
            self.setText(" Unsaved ")
            self.setStyleSheet("color: #b9770e;")
            self.setToolTip("Changes are saved a moment after the last edit")
        else:
            self.setText(" Saved " if self._autosave.active else "")
            self.setStyleSheet("color: #1e8449;")
            self.setToolTip("")
