"""AnnotationSession: what the user works on and the policies around it, without widgets. The main window only
builds widgets, connects them to this object and shows what it reports.

It owns the current :class:`app.document.AnnotationDocument`, the open :class:`app.folder.FolderSession`, the
:class:`app.autosave.Autosave` of the folder's images, the runs (:class:`app.worker.SegmentationController`), the
run parameters (``config``) and the app's :class:`app.settings.AppSettings`. It decides where work is saved
(:func:`app.work_io.default_output_folder`, i.e. :mod:`gdc_core.workfiles`' rule), which classes a new image starts
with, when a run starts (R, Auto after a stroke, a stale run superseded) and what the user is told.

The stroke-to-mask path: a finished stroke is an undo step of the document, which emits ``scribbles_edited``;
the session then (with Auto on, or a run in flight) builds a :class:`app.worker.SegmentationJob` from a copy of the
scribbles and submits it; the worker runs :meth:`gdc_core.Segmenter.run` in its thread; the result of the job for
the current document becomes its prediction (:meth:`AnnotationDocument.set_prediction`), which the canvas shows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoGroup

from gdc_core import Segmenter, SegmenterConfig
from gdc_core.images import run_too_large, too_small
from gdc_core.io import ImageReadError, pixel_limit

from .autosave import Autosave
from .class_lists import classes_from_names
from .classes import ClassList
from .document import MASK, SCRIBBLES, AnnotationDocument, Prediction
from .exporting import WorkFileError, load_scribbles_file
from .folder import FolderSession
from .resources import SAMPLE_IMAGE, resource_path
from .settings import AppSettings
from .work_io import default_output_folder, open_document, save_document
from .worker import RunOutcome, RunProgress, SegmentationController, SegmentationJob

MESSAGE_MS = 8000
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"  # answers to "Save the work first?"


class AnnotationSession(QObject):
    """The current image's work, the open folder, autosave and runs. ``config`` holds the run parameters;
    ``undo_group`` holds the current document's undo stack. ``start_classes`` is the class list the first image
    starts with (Settings' list or ``--labels``); every later image starts with the current image's classes.

    ``ask_save_first(text) -> SAVE | DISCARD | CANCEL`` is asked before unsaved work would be left (the window
    sets a dialog; the default saves).

    Signals:
        document_changed(object): a new AnnotationDocument is current.
        folder_opened(object): a FolderSession was opened.
        state_changed: what the actions can do may have changed (a prediction, a mask, a folder).
        files_changed: work files of the folder were written (statuses may have changed).
        message(str, int): a status-bar message and how long it stays (ms).
        notice(str, str, str): a message box: kind (``warning``, ``critical``, ``information``), title, text.
        target_wanted(str): strokes should now paint ``scribbles`` or the ``mask``.
        preview(object): an intermediate (h, w) uint8 label map of the current image's run; None: back to the
            document's prediction.
        progressed(object): RunProgress of the current image's run.
        finished(float, str): a run for the current image finished in that many seconds on that device.
        stale(bool): the prediction on screen is older than the scribbles (or no longer).
    """

    document_changed = Signal(object)
    folder_opened = Signal(object)
    state_changed = Signal()
    files_changed = Signal()
    message = Signal(str, int)
    notice = Signal(str, str, str)
    target_wanted = Signal(str)
    preview = Signal(object)
    progressed = Signal(object)
    finished = Signal(float, str)
    stale = Signal(bool)

    def __init__(self, segmenter: Segmenter, config: SegmenterConfig | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = AppSettings()
        self.config = self.settings.engine_config(config or SegmenterConfig())
        self.start_classes = self._classes_named(self.settings.class_names)
        self.document: AnnotationDocument | None = None
        self.folder_session: FolderSession | None = None
        self.autosave = Autosave(self)
        self.runs = SegmentationController(segmenter, self)
        self.undo_group = QUndoGroup(self)  # Edit > Undo and Redo act on the current document's stack
        self.auto = False
        self.ask_save_first: Callable[[str], str] = lambda text: SAVE
        self.autosave.saved.connect(lambda text: self.files_changed.emit())
        self.autosave.failed.connect(lambda text: self.message.emit(text, 4 * MESSAGE_MS))
        self.runs.progressed.connect(self._run_progressed)
        self.runs.succeeded.connect(self._run_succeeded)
        self.runs.failed.connect(lambda text: self._run_ended(text, 2 * MESSAGE_MS))
        self.runs.cancelled.connect(lambda: self._run_ended("Segmentation cancelled.", MESSAGE_MS))
        for signal in (self.runs.started, self.runs.idle):
            signal.connect(self.state_changed)  # Cancel is enabled while a run is in flight

    @staticmethod
    def _classes_named(names: list[str]) -> ClassList:
        return classes_from_names(names) if names else ClassList.default()

    def work_root(self) -> str | None:
        """Settings > Work folder, or None for the default (``<image folder>/gdc-seg``)."""
        return self.settings.sidecar_folder or None

    # ---- images and folders ---------------------------------------------------------------------------------
    def open_image(self, path: str | Path, failures: list[str] | None = None) -> bool:
        """Open an image and resume its saved work; on failure a notice is given (or, given ``failures``, the
        reason is appended there) and nothing changes. A new image starts with the current classes."""
        if not self.confirm_leave():
            return False
        in_folder = self.folder_session is not None and self.folder_session.index_of(path) >= 0
        classes = self.document.classes if self.document is not None else self.start_classes
        try:
            document, warning = open_document(path, classes, self.work_root())
            small = too_small(document.shape[1], document.shape[0])
            if small is not None:
                raise ImageReadError(f"{path}: {small}")
        except (ImageReadError, OSError) as exc:
            if failures is None:
                self.notice.emit("warning", "Cannot open image", str(exc))
            else:
                failures.append(str(exc))
            return False
        self.set_document(document)
        self.autosave.attach(document, default_output_folder(path, self.work_root()) if in_folder else None)
        self.settings.last_folder = str(Path(path).resolve().parent)
        height, width = document.shape
        full_height, full_width = document.full_size
        size = f"{width} x {height} pixels"
        if document.full_size != document.shape:  # a reduced decode (gdc_core.io.open_image)
            size = (f"at 1/{round(full_width / width)} size: {size} of {full_width} x {full_height}, above the pixel "
                    "limit")
        self.message.emit(f"Opened {document.path.name} ({size})", MESSAGE_MS)
        if warning:
            self.notice.emit("warning", "Saved work not loaded", warning)
        return True

    def set_document(self, document: AnnotationDocument) -> None:
        """Make ``document`` current; a run for the previous one is cancelled and the new image's features and
        superpixels are computed in the background while the annotator paints."""
        self.runs.cancel()
        old, self.document = self.document, document
        document.setParent(self)
        self.undo_group.addStack(document.undo_stack)
        self.undo_group.setActiveStack(document.undo_stack)
        document.scribbles_edited.connect(self._scribbles_edited)
        for signal in (document.prediction_changed, document.layer_replaced):
            signal.connect(self.state_changed)
        self.document_changed.emit(document)
        if old is not None:
            old.deleteLater()
        self.state_changed.emit()
        self.runs.prepare(SegmentationJob(document.key, document.image, None, self.config))

    def open_folder(self, folder: str | Path) -> bool:
        """Open a folder of images and show its first unfinished image."""
        try:
            session = FolderSession(folder, self.work_root())
        except OSError as exc:
            self.notice.emit("warning", "Cannot open folder", str(exc))
            return False
        if not session.images:
            self.notice.emit("warning", "No images",
                             f"{session.folder} holds no PNG, JPEG, BMP, TIFF or WebP image.")
            return False
        if not self.confirm_leave():
            return False
        self.autosave.attach(None, None)  # the current image's work is saved (or discarded) now
        self.folder_session = session
        self.settings.last_image_folder = str(session.folder)
        self.folder_opened.emit(session)
        first = session.neighbour(None, +1, unfinished_only=True) or session.images[0]
        opened = self._open_readable(first, +1)
        self.state_changed.emit()
        return opened

    def go_to_neighbour(self, step: int) -> bool:
        """Save the current image's work and show the next (+1) or previous (-1) image of the folder (only
        unfinished ones while the list is filtered)."""
        if self.folder_session is None:
            return False
        current = self.document.path if self.document is not None else None
        target = self.folder_session.neighbour(current, step, self.settings.unfinished_only)
        if target is None:
            self.message.emit("No next image." if step > 0 else "No previous image.", MESSAGE_MS)
            return False
        return self._open_readable(target, step)

    def _open_readable(self, target: Path | None, step: int) -> bool:
        """Open ``target`` or, when it cannot be read, the first image after it (in the folder's direction ``step``,
        the list's filter applied) that can; one notice then names the images passed over and why."""
        failures: list[str] = []
        while target is not None:
            tried = len(failures)
            if self.open_image(target, failures):
                break
            if len(failures) == tried:  # not unreadable: the user chose to stay on the current image
                return False
            target = self.folder_session.neighbour(target, step, self.settings.unfinished_only)
        if failures:
            self.notice.emit("warning", "Cannot open image", "\n".join(failures)
                             + ("\n\nSkipped." if target is not None else "\n\nNo readable image after it."))
        return target is not None

    def export_folder(self, out: str | Path) -> bool:
        """Save the current work, then write every image's mask and classes.json into ``out``."""
        if self.folder_session is None or not self.autosave.flush():
            return False
        try:
            report = self.folder_session.export(out, self.settings.export_formats)
        except (OSError, ValueError) as exc:
            self.notice.emit("critical", "Export failed", f"The masks were not exported:\n{exc}")
            return False
        self.files_changed.emit()
        text = f"Exported {len(report.written)} masks and classes.json to {out}."
        if report.dataset_files:
            names = [p.relative_to(Path(out).resolve()).as_posix() for p in report.dataset_files]
            text += f"\nAlso: {', '.join(names[:5])}" + (" …" if len(names) > 5 else "")
        if report.without_mask:
            text += f"\n{len(report.without_mask)} images have no mask yet: {', '.join(report.without_mask[:10])}"
        if report.problems:
            text += "\n\nProblems:\n" + "\n".join(report.problems)
        self.notice.emit("information", "Export", text)
        return True

    def set_export_format(self, name: str, on: bool) -> None:
        """Choose whether the folder export also writes dataset format ``name`` (:data:`gdc_core.export.FORMATS`)."""
        chosen = [f for f in self.settings.export_formats if f != name]
        self.settings.export_formats = chosen + [name] if on else chosen

    # ---- saving and loading ---------------------------------------------------------------------------------
    def output_folder(self) -> Path | None:
        """Where File > Save puts the current work (its folder's work folder); None without a document."""
        if self.document is None:
            return None
        return self.autosave.folder if self.autosave.active else default_output_folder(self.document.path,
                                                                                        self.work_root())

    def save(self, folder: str | Path | None = None) -> bool:
        """Save mask, scribbles and classes (and the overlay if chosen) into ``folder`` (default
        :meth:`output_folder`); a failure is reported and nothing is lost."""
        if self.document is None:
            return False
        folder = Path(folder) if folder is not None else self.output_folder()
        try:
            written = save_document(self.document, folder, self.autosave.overlay_alpha)
        except (OSError, ValueError) as exc:
            self.notice.emit("critical", "Save failed", f"The work was not saved:\n{exc}\n\n"
                             "It is still open: try File > Save to folder….")
            return False
        if self.autosave.active and folder == self.autosave.folder:
            self.autosave.mark_saved()
            self.files_changed.emit()
        names = ", ".join(path.name for path in written)
        self.message.emit(f"Saved {names} in {written[0].parent}", MESSAGE_MS)
        return True

    def load_scribbles(self, path: str | Path) -> bool:
        """Replace the scribbles (one undo step) by a saved scribble PNG, with its class list when saved beside."""
        if self.document is None:
            return False
        try:
            work = load_scribbles_file(path, self.document.shape, self.document.classes)
        except WorkFileError as exc:
            self.notice.emit("warning", "Cannot load scribbles", str(exc))
            return False
        self.document.replace_work(work.scribbles, self.document.mask,
                                   classes=ClassList(work.classes) if work.classes else None, text="Load scribbles")
        self.message.emit(f"Loaded scribbles from {Path(path).name}", MESSAGE_MS)
        return True

    def shows_sample(self) -> bool:
        """True while the bundled sample image is current (its example scribbles can be loaded)."""
        path = self.document.path if self.document is not None else None
        return path is not None and path.resolve() == resource_path(SAMPLE_IMAGE).resolve()

    def confirm_leave(self) -> bool:
        """True when the current work may be left: it is saved, or the user saved or discarded it."""
        if self.document is None:
            return True
        if self.autosave.active and self.autosave.flush():
            return True
        error = self.autosave.last_error
        if not self.document.dirty and error is None:
            return True
        answer = self.ask_save_first((f"{error}\n\n" if error else "")
                                     + f"Save the work on {self.document.path.name} first?")
        if answer == SAVE:
            return self.save()
        return answer == DISCARD

    # ---- settings -------------------------------------------------------------------------------------------
    def apply_settings(self, config: SegmenterConfig, sidecar_folder: str | None = None,
                       backbone_weights: str | None = None) -> None:
        """Use ``config`` from the next run on and keep it (and the work folder, the backbone weights file used from
        the next start on) for later sessions."""
        restart_needed = config.device != self.config.device
        if backbone_weights is not None and backbone_weights != self.settings.backbone_weights:
            self.settings.backbone_weights = backbone_weights
            restart_needed = True  # the stem, like the device, is built once per start
        self.config = config
        self.settings.save_engine_config(config)
        if sidecar_folder is not None:
            self.settings.sidecar_folder = sidecar_folder
        self.message.emit("Settings saved" + (": the device and backbone weights change at the next start."
                                              if restart_needed else ", used from the next run on."), MESSAGE_MS)

    def apply_class_names(self, names: list[str]) -> None:
        """Keep ``names`` as the class list new images start with ([]: background and object); the current image
        takes it at once (one undo step) while it has no strokes and no mask."""
        if names == self.settings.class_names:
            return
        self.settings.class_names = names
        self.start_classes = self._classes_named(names)
        document = self.document
        if document is not None and not document.scribbled_classes() and document.mask is None:
            document.replace_work(document.scribbles, None, classes=self.start_classes,
                                  text="Use the class list of Settings")

    # ---- runs -----------------------------------------------------------------------------------------------
    def segment(self, *, quiet: bool = False, warm: bool = False) -> bool:
        """Start a run on the current scribbles (superseding a run in flight). Needs strokes of two classes; the
        message saying so is left out when ``quiet``. ``warm`` continues the last run's network (a quick update
        after a stroke) instead of training a fresh one."""
        if self.document is None:
            return False
        classes = len(self.document.scribbled_classes())
        if classes < 2:
            if not quiet:
                self.message.emit("Paint strokes of at least two classes, then segment (R).", MESSAGE_MS)
            return False
        try:  # a run that would risk the machine's memory is not started
            refused = run_too_large(self.document.shape, classes, self.config.max_side, self.config.samples,
                                    pixel_limit())
        except ValueError as exc:  # a malformed GDC_SEG_MAX_PIXELS
            refused = str(exc)
        if refused is not None:
            self.message.emit(f"Not segmented: {refused}", 2 * MESSAGE_MS)
            return False
        self.target_wanted.emit(SCRIBBLES)  # the result must be visible
        self.runs.submit(SegmentationJob(self.document.key, self.document.image, self.document.scribbles.copy(),
                                         self.config, warm))
        return True

    def set_auto(self, on: bool) -> None:
        """Segment after every stroke (a quick warm update); turning it on segments now if nothing is shown."""
        self.auto = self.settings.auto_segment = on
        if on and not self.runs.busy and self.document is not None and self.document.prediction is None:
            self.segment(quiet=True)

    def _scribbles_edited(self) -> None:
        self.stale.emit(self.document.prediction is not None)
        if self.auto or self.runs.busy:
            self.segment(quiet=True, warm=self.auto)  # a run in flight is stale now: supersede it

    def _is_current(self, image_key: int) -> bool:
        return self.document is not None and self.document.key == image_key

    def _run_progressed(self, progress: RunProgress) -> None:
        job = self.runs.current_job
        if job is None or job.id != progress.job_id or not self._is_current(job.image_key):
            return
        self.progressed.emit(progress)
        if progress.preview is not None:
            self.preview.emit(progress.preview)

    def _run_succeeded(self, outcome: RunOutcome) -> None:
        if not self._is_current(outcome.job.image_key):
            return
        result = outcome.result
        seconds = result.timings["total"]
        self.document.set_prediction(Prediction(result.labels, result.uncertainty, seconds))
        self.finished.emit(seconds, result.device)
        self.stale.emit(False)
        extra = [w for w in result.warnings if w != self.runs.segmenter.stem.warning]
        self.message.emit(" ".join(extra) or f"Segmented in {seconds:.1f} s: Enter accepts the prediction, U "
                          "shows where it is unsure.", MESSAGE_MS)

    def _run_ended(self, text: str, duration_ms: int) -> None:
        """A run failed or was cancelled: no preview stays, the user is told ``text``."""
        self.preview.emit(None)
        self.message.emit(text, duration_ms)

    # ---- review ---------------------------------------------------------------------------------------------
    def accept_prediction(self) -> bool:
        """The prediction becomes the editable mask; strokes then correct the mask (M goes back to scribbles)."""
        if self.document is None or not self.document.accept_prediction():
            self.message.emit("Nothing to accept yet: segment first (R).", MESSAGE_MS)
            return False
        self.target_wanted.emit(MASK)
        self.message.emit("Prediction accepted: strokes now correct the mask; M switches back to scribbles.",
                          MESSAGE_MS)
        return True

    def edit_mask(self, on: bool) -> bool:
        """Let strokes correct the mask (accepting a prediction on screen first) or, ``on`` False, add scribbles;
        False when there is no mask to correct."""
        if self.document is None:
            return False
        if on and self.document.prediction is not None:
            self.document.accept_prediction()
        if on and self.document.mask is None:
            self.message.emit("No mask yet: segment (R), then accept the prediction (Enter).", MESSAGE_MS)
            return False
        self.target_wanted.emit(MASK if on else SCRIBBLES)
        return True

    def shutdown(self) -> None:
        """Stop autosave and runs (their threads are joined); the work must have been left (confirm_leave)."""
        self.autosave.attach(None, None)
        self.autosave.shutdown()
        self.runs.shutdown()
