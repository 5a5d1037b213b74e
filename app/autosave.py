"""Autosave of the current image's work, in a folder session, into its work folder (:mod:`gdc_core.workfiles`).

Every change of the document (a stroke, a class edit, an undo: anything that moves its undo stack) and every new
prediction (a run's result, which is not an undo step but leaves the stack's clean state) restarts a short
single-shot timer; when it fires, the work is copied (:func:`app.work_io.snapshot_work`, tens of milliseconds at
24 MP) and written on a background thread (:func:`app.work_io.write_snapshot`: PNG encoding of a 24 MP photo's
layers takes about half a second, which would otherwise stall the brush). An autosave writes what File > Save
writes (classes, scribbles, the mask or the prediction on screen, and the overlay when
:attr:`Autosave.overlay_alpha` is set), as one version: a crash or kill during a save leaves the previous version
whole (:mod:`gdc_core.workfiles`). The document's undo stack is set clean only if the document is still in the
state that was written. :meth:`Autosave.flush` waits for a write in flight, then saves synchronously (through
:func:`app.work_io.save_document`), before switching images, exporting or closing.

A failed save (read-only folder, full disk) is never swallowed: :attr:`Autosave.failed` carries the message, the
document stays unsaved (its undo stack is not set clean), :class:`app.unsaved_marker.UnsavedMarker` shows it in the
status bar, and the next change (or flush) tries again. Autosave keeps a prediction a proposal: only a flush
(leaving the image) accepts it first, as File > Save does, so what the user last saw is what is kept.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from .document import AnnotationDocument
from .work_io import save_document, snapshot_work, write_snapshot

DELAY_MS = 1500


class Autosave(QObject):
    """Saves ``document`` into ``folder`` a moment after each change. Inactive while ``folder`` is None.

    Signals: ``saved(str)`` (a short message), ``failed(str)`` (the error), ``dirty_changed(bool)``.
    """

    saved = Signal(str)
    failed = Signal(str)
    dirty_changed = Signal(bool)
    _written = Signal(object, object, object)  # (token, files written or None, error or None), from the writer

    def __init__(self, parent: QObject | None = None, delay_ms: int = DELAY_MS):
        super().__init__(parent)
        self.document: AnnotationDocument | None = None
        self.folder: Path | None = None
        self.last_error: str | None = None
        self.overlay_alpha: float | None = None  # also save the colour overlay, with this alpha (File > Save's option)
        self._generation = 0  # counts saves; a background result of an older save is ignored
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gdc-seg-autosave")
        self._future: Future | None = None
        self._written.connect(self._background_done)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.save_in_background)

    def attach(self, document: AnnotationDocument | None, folder: str | Path | None) -> None:
        """Follow ``document`` (saving into ``folder``; None: no autosave). The previous one is not saved here:
        flush it before."""
        self._timer.stop()
        self._wait()
        if self.document is not None:
            try:
                self.document.undo_stack.indexChanged.disconnect(self._changed)
                self.document.prediction_changed.disconnect(self._changed)
            except (RuntimeError, TypeError):  # already gone
                pass
        self.document, self.folder, self.last_error = document, Path(folder) if folder else None, None
        if document is not None:
            document.undo_stack.indexChanged.connect(self._changed)
            document.prediction_changed.connect(self._changed)
        self.dirty_changed.emit(self.dirty)

    @property
    def delay_ms(self) -> int:
        """How long after the last change a save starts."""
        return self._timer.interval()

    @delay_ms.setter
    def delay_ms(self, delay: int) -> None:
        self._timer.setInterval(delay)

    @property
    def active(self) -> bool:
        return self.document is not None and self.folder is not None

    @property
    def dirty(self) -> bool:
        """The document has changes not on disk (or the last save failed)."""
        return self.active and (self.document.dirty or self.last_error is not None)

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def _changed(self, *_) -> None:
        if self.active:
            self._timer.start()
            self.dirty_changed.emit(self.dirty)

    def save_in_background(self) -> None:
        """Copy the work now and write it on the writer thread (one write at a time: a change during a write
        restarts the timer, and the next write follows)."""
        self._timer.stop()
        if not self.dirty:
            return
        if self._future is not None and not self._future.done():
            self._timer.start()  # try again after this write
            return
        try:
            snapshot = snapshot_work(self.document, self.folder, self.overlay_alpha)
        except ValueError as exc:
            self._report_failure(exc)
            return
        self._generation += 1
        token = (self._generation, self.document, self._state(self.document))
        self._future = self._pool.submit(self._write, snapshot, token)

    def _write(self, snapshot, token) -> None:  # on the writer thread
        try:
            self._written.emit(token, write_snapshot(snapshot), None)
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the user, none is lost
            self._written.emit(token, None, exc)

    def _background_done(self, token, written, error) -> None:
        generation, document, state = token
        if generation != self._generation or document is not self.document:
            return  # a later save (or another image) took over
        if error is not None:
            self._report_failure(error)
            return
        if self._state(document) == state:
            document.undo_stack.setClean()
            self.mark_saved()
        else:  # changed while being written: the timer is running again for the newer state
            self.last_error = None
        self.saved.emit(f"Saved {document.path.name} ({len(written)} files)")

    @staticmethod
    def _state(document: AnnotationDocument) -> tuple:
        """What tells the document's states apart: the undo step it is at (its index and command: an undo then a
        new edit reuses the index) and the prediction on screen."""
        index = document.undo_stack.index()
        return index, document.undo_stack.command(index - 1) if index else None, document.prediction

    def _report_failure(self, exc: BaseException) -> None:
        self.last_error = f"Autosave failed, the work on {self.document.path.name} is NOT saved: {exc}"
        self.dirty_changed.emit(True)
        self.failed.emit(self.last_error)

    def _wait(self) -> None:
        """Let a write in flight finish (its result is then superseded by whatever comes next)."""
        if self._future is not None:
            self._future.result()
            self._future = None

    def shutdown(self) -> None:
        """Finish a write in flight and stop the writer thread (the session calls it when the window closes)."""
        self._timer.stop()
        self._wait()
        self._pool.shutdown(wait=True)

    def save_now(self, accept_prediction: bool = False) -> bool:
        """Save at once, on this thread, if there is anything to save; True when the work is on disk afterwards."""
        self._timer.stop()
        self._wait()
        self._generation += 1  # a background result still queued is out of date now
        if not self.active:
            return True
        if not self.dirty and not (accept_prediction and self.document.prediction is not None):
            return True
        try:
            written = save_document(self.document, self.folder, self.overlay_alpha,
                                    accept_prediction=accept_prediction)
        except (OSError, ValueError) as exc:
            self._report_failure(exc)
            return False
        self.mark_saved()
        self.saved.emit(f"Saved {self.document.path.name} ({len(written)} files)")
        return True

    def mark_saved(self) -> None:
        """The work was just saved into :attr:`folder` (by autosave or File > Save)."""
        self.last_error = None
        self.dirty_changed.emit(self.dirty)

    def flush(self) -> bool:
        """Save now (accepting a prediction on screen), e.g. before switching images or closing."""
        return self.save_now(accept_prediction=True)
