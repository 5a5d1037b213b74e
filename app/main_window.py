"""MainWindow: wires the canvas, the class panel, the actions and the segmentation controller together.

It holds the run parameters (``config``, a :class:`gdc_core.SegmenterConfig`) and the current document; loading
and saving go through :mod:`app.session`, runs through :class:`app.worker.SegmentationController`. With a folder
open (:class:`app.folder.FolderSession`) the image list is a dock, D / A switch images, and :class:`app.autosave.
Autosave` keeps each image's work in its work folder (:mod:`gdc_core.workfiles`' rule, the same for an image
opened alone).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QUndoGroup
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QSlider,
                               QSpinBox, QToolBar)

from gdc_core import Segmenter, SegmenterConfig
from gdc_core.images import run_too_large, too_small
from gdc_core.io import IMAGE_SUFFIXES, ImageReadError, pixel_limit

from .actions import TARGET_TEXT, TextEntryKeyGuard, build_actions
from .autosave import Autosave, UnsavedMarker
from .canvas import BRUSH, ERASER, MAX_BRUSH, MIN_BRUSH, ImageCanvas
from .class_lists import classes_from_names
from .document import MASK, SCRIBBLES, AnnotationDocument, Prediction
from .exporting import WorkFileError, load_scribbles_file
from .file_list import FileListPanel
from .folder import FolderSession
from .palette import LabelPalette, PalettePanel
from .resources import SAMPLE_IMAGE, SAMPLE_SCRIBBLES, resource_path
from .run_status import RunStatus
from .session import default_output_folder, open_document, save_document
from .settings import AppSettings
from .settings_dialog import SettingsDialog
from .worker import RunOutcome, RunProgress, SegmentationController, SegmentationJob

MESSAGE_MS = 8000


class MainWindow(QMainWindow):
    """The annotation window. ``segmenter`` is created once per app (its stem takes a moment to build);
    ``config`` holds the run parameters (the paper's by default)."""

    def __init__(self, segmenter: Segmenter, config: SegmenterConfig | None = None):
        super().__init__()
        self.settings = AppSettings()
        self.config = self.settings.engine_config(config or SegmenterConfig())
        self.folder_session: FolderSession | None = None
        self.document: AnnotationDocument | None = None
        self.palette = LabelPalette(classes_from_names(self.settings.class_names) or None, parent=self)
        self.canvas = ImageCanvas(self.palette)
        self.setCentralWidget(self.canvas)
        self.palette_panel = PalettePanel(self.palette)
        self.file_list = FileListPanel()
        self.autosave = Autosave(self.palette, self)
        self.controller = SegmentationController(segmenter, self)
        self.undo_group = QUndoGroup(self)
        self.actions = build_actions(self)
        self._key_guard = TextEntryKeyGuard(self)
        QApplication.instance().installEventFilter(self._key_guard)
        self.brush_spin = QSpinBox()
        self.brush_spin.setRange(MIN_BRUSH, MAX_BRUSH)
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setToolTip("Brush diameter in image pixels ([ and ])")
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setFixedWidth(120)
        self.opacity_slider.setToolTip("Opacity of the mask overlay")
        self.run_status = RunStatus(self.statusBar(), segmenter.device.type, segmenter.stem.warning)
        self.run_status.cancel_button.setDefaultAction(self.actions.cancel)
        self._build_menus()
        self._build_toolbar()
        dock = QDockWidget("Classes", self)
        dock.setObjectName("classes")
        dock.setWidget(self.palette_panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.images_dock = QDockWidget("Images", self)
        self.images_dock.setObjectName("images")
        self.images_dock.setWidget(self.file_list)
        self.images_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.images_dock)
        self.images_dock.hide()  # shown with a folder
        self.unsaved_marker = UnsavedMarker(self.autosave)
        self.statusBar().addPermanentWidget(self.unsaved_marker)
        self._connect()
        self.resize(1280, 820)  # the saved layout, if any, replaces it
        self._restore_settings()
        self._update_enabled()
        self.setWindowTitle("gdc-seg")

    # ---- construction ---------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        a = self.actions
        menus = {
            "&File": [a.open, a.open_folder, a.reopen_folder, a.previous_image, a.next_image, None, a.save, a.save_to, None,
                      a.load_scribbles, a.load_example, None, a.export_folder, a.export_coco, a.export_yolo, a.save_overlay,
                      None, a.settings,
                      None, a.quit],
            "&Edit": [a.undo, a.redo, None, a.clear_scribbles],
            "&Tools": [a.brush, a.eraser, a.shrink, a.grow, None, a.edit_mask, None, *a.classes],
            "&Segment": [a.segment, a.auto, a.cancel, None, a.accept],
            "&View": [a.fit, a.zoom_in, a.zoom_out, None, a.overlay, a.uncertainty, a.scribbles],
            "&Help": [a.shortcuts],
        }
        for title, entries in menus.items():
            menu = self.menuBar().addMenu(title)
            for action in entries:
                if action is None:
                    menu.addSeparator()
                else:
                    menu.addAction(action)

    def _build_toolbar(self) -> None:
        a = self.actions
        toolbar = QToolBar("Tools", self)
        toolbar.setObjectName("tools")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for entry in (a.open, a.open_folder, a.previous_image, a.next_image, a.save, None, a.brush, a.eraser,
                      QLabel(" Size "), self.brush_spin, None, a.segment,
                      a.auto, a.cancel, None, a.accept, a.edit_mask, None, a.overlay, QLabel(" Opacity "),
                      self.opacity_slider, a.uncertainty):
            if entry is None:
                toolbar.addSeparator()
            elif isinstance(entry, QLabel) or entry in (self.brush_spin, self.opacity_slider):
                toolbar.addWidget(entry)
            else:
                toolbar.addAction(entry)
        self.addToolBar(toolbar)
        tools = QActionGroup(self)
        tools.addAction(a.brush)
        tools.addAction(a.eraser)
        a.brush.setChecked(True)

    def _connect(self) -> None:
        a, canvas, controller = self.actions, self.canvas, self.controller
        a.open.triggered.connect(self.choose_image)
        a.open_folder.triggered.connect(self.choose_folder)
        a.reopen_folder.triggered.connect(lambda: self.open_folder(self.settings.last_image_folder))
        a.next_image.triggered.connect(lambda: self.go_to_neighbour(+1))
        a.previous_image.triggered.connect(lambda: self.go_to_neighbour(-1))
        a.export_folder.triggered.connect(self.choose_export_folder)
        a.settings.triggered.connect(self.show_settings)
        self.file_list.image_chosen.connect(self.open_image)
        self.file_list.unfinished_only.toggled.connect(lambda on: setattr(self.settings, "unfinished_only", on))
        self.autosave.saved.connect(lambda message: self.file_list.refresh())
        self.autosave.failed.connect(lambda message: self.statusBar().showMessage(message, 4 * MESSAGE_MS))
        a.save.triggered.connect(lambda: self.save())
        a.save_to.triggered.connect(self.choose_save_folder)
        a.load_scribbles.triggered.connect(self.choose_scribbles)
        a.load_example.triggered.connect(lambda: self.load_scribbles(resource_path(SAMPLE_SCRIBBLES)))
        a.save_overlay.toggled.connect(self._save_overlay_toggled)
        for action in self.export_format_actions().values():
            action.toggled.connect(self._export_formats_toggled)
        a.quit.triggered.connect(self.close)
        a.undo.triggered.connect(self.undo_group.undo)
        a.redo.triggered.connect(self.undo_group.redo)
        self.undo_group.canUndoChanged.connect(a.undo.setEnabled)
        self.undo_group.canRedoChanged.connect(a.redo.setEnabled)
        self.undo_group.cleanChanged.connect(lambda clean: self.setWindowModified(not clean))
        a.clear_scribbles.triggered.connect(lambda: self.document.clear_scribbles())  # enabled with a document
        a.brush.triggered.connect(lambda: canvas.set_tool(BRUSH))
        a.eraser.triggered.connect(lambda: canvas.set_tool(ERASER))
        canvas.tool_changed.connect(lambda tool: (a.brush if tool == BRUSH else a.eraser).setChecked(True))
        a.shrink.triggered.connect(canvas.shrink_brush)
        a.grow.triggered.connect(canvas.grow_brush)
        canvas.brush_size_changed.connect(self._brush_size_changed)
        self.brush_spin.valueChanged.connect(canvas.set_brush_size)
        a.edit_mask.toggled.connect(self._set_mask_editing)
        canvas.target_changed.connect(self._show_target)
        a.segment.triggered.connect(lambda: self.segment())
        a.auto.toggled.connect(self._auto_toggled)
        a.cancel.triggered.connect(controller.cancel)
        a.accept.triggered.connect(self.accept_prediction)
        a.fit.triggered.connect(canvas.fit)
        a.zoom_in.triggered.connect(lambda: canvas.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: canvas.zoom_by(0.8))
        a.overlay.toggled.connect(canvas.set_overlay_visible)
        a.uncertainty.toggled.connect(canvas.set_uncertainty_visible)
        a.scribbles.toggled.connect(canvas.set_scribbles_visible)
        a.shortcuts.triggered.connect(self.show_shortcuts)
        for row, action in enumerate(a.classes):
            action.triggered.connect(lambda checked=False, row=row: self.palette.select_row(row))
        self.palette_panel.remove_requested.connect(self.remove_class)
        self.opacity_slider.valueChanged.connect(self._opacity_changed)
        controller.started.connect(self._run_started)
        controller.progressed.connect(self._run_progressed)
        controller.succeeded.connect(self._run_succeeded)
        controller.failed.connect(self._run_failed)
        controller.cancelled.connect(self._run_cancelled)
        controller.idle.connect(self._run_idle)

    def _restore_settings(self) -> None:
        a = self.actions
        self.canvas.set_brush_size(self.settings.brush_size)
        self.brush_spin.setValue(self.canvas.brush_size)
        self.opacity_slider.setValue(self.settings.overlay_opacity)
        self._opacity_changed(self.opacity_slider.value())
        a.auto.setChecked(self.settings.auto_segment)
        a.save_overlay.setChecked(self.settings.save_overlay)
        chosen = self.settings.export_formats  # read once: each setChecked below saves the choice so far
        for name, action in self.export_format_actions().items():
            action.setChecked(name in chosen)
        for action in (a.overlay, a.scribbles):
            action.setChecked(True)
        self.file_list.unfinished_only.setChecked(self.settings.unfinished_only)
        geometry, state = self.settings.window_layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    # ---- images and files -----------------------------------------------------------------------------------
    def open_image(self, path: str | Path, failures: list[str] | None = None) -> bool:
        """Open an image and resume its saved work; on failure a message is shown (or, given ``failures``, the
        reason is appended there) and nothing changes."""
        if not self._confirm_leave():
            return False
        session = self.folder_session if self.folder_session and self.folder_session.index_of(path) >= 0 else None
        try:
            document, warning = open_document(path, self.palette, self.work_root())
            small = too_small(document.shape[1], document.shape[0])
            if small is not None:
                raise ImageReadError(f"{path}: {small}")
        except (ImageReadError, OSError) as exc:
            if failures is None:
                QMessageBox.warning(self, "Cannot open image", str(exc))
            else:
                failures.append(str(exc))
            return False
        self.set_document(document)
        self.autosave.attach(document, default_output_folder(path, self.work_root()) if session else None)
        self.file_list.set_current(document.path)
        self.settings.last_folder = str(Path(path).resolve().parent)
        height, width = document.shape
        self.statusBar().showMessage(f"Opened {document.path.name} ({width} x {height} pixels)", MESSAGE_MS)
        if warning:
            QMessageBox.warning(self, "Saved work not loaded", warning)
        return True

    def set_document(self, document: AnnotationDocument) -> None:
        """Show ``document``; a run for the previous one is cancelled and the new image's features and superpixels
        are computed in the background while the annotator paints."""
        self.controller.cancel()
        old, self.document = self.document, document
        document.setParent(self)
        self.undo_group.addStack(document.undo_stack)
        self.undo_group.setActiveStack(document.undo_stack)
        if old is not None:
            self.undo_group.removeStack(old.undo_stack)
            old.deleteLater()
        document.scribbles_edited.connect(self._scribbles_edited)
        document.prediction_changed.connect(self._update_enabled)
        document.layer_replaced.connect(self._update_enabled)
        self.canvas.set_document(document)
        self.canvas.set_target(SCRIBBLES)
        self.run_status.show_new_image()
        self.setWindowTitle(f"{document.path.name if document.path else 'untitled'}[*] — gdc-seg")
        self.setWindowModified(False)
        self._update_enabled()
        self.controller.prepare(SegmentationJob(document.key, document.image, None, self.config))

    # ---- folders --------------------------------------------------------------------------------------------
    def open_folder(self, folder: str | Path) -> bool:
        """Open a folder of images: its list in the Images dock, the first unfinished image on the canvas."""
        try:
            session = FolderSession(folder, self.work_root())
        except OSError as exc:
            QMessageBox.warning(self, "Cannot open folder", str(exc))
            return False
        if not session.images:
            QMessageBox.warning(self, "No images", f"{session.folder} holds no PNG, JPEG, BMP, TIFF or WebP image.")
            return False
        if not self._confirm_leave():
            return False
        self.autosave.attach(None, None)  # the current image's work is saved (or discarded) now
        self.folder_session = session
        self.settings.last_image_folder = str(session.folder)
        self.file_list.set_session(session)
        self.images_dock.show()
        first = session.neighbour(None, +1, unfinished_only=True) or session.images[0]
        opened = self._open_readable(first, +1)
        self._update_enabled()
        return opened

    def choose_folder(self) -> None:
        start = self.settings.last_image_folder or self.settings.last_folder
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", start)
        if folder:
            self.open_folder(folder)

    def go_to_neighbour(self, step: int) -> bool:
        """Save the current image's work and show the next (+1) or previous (-1) image of the folder (only
        unfinished ones when the list is filtered)."""
        if self.folder_session is None:
            return False
        current = self.document.path if self.document is not None else None
        target = self.folder_session.neighbour(current, step, self.file_list.unfinished_only.isChecked())
        if target is None:
            self.statusBar().showMessage("No next image." if step > 0 else "No previous image.", MESSAGE_MS)
            return False
        return self._open_readable(target, step)

    def _open_readable(self, target: Path, step: int) -> bool:
        """Open ``target`` or, when it cannot be read, the first image after it (in the folder's direction ``step``,
        the list's filter applied) that can; one message then names the images passed over and why."""
        failures: list[str] = []
        while target is not None:
            tried = len(failures)
            if self.open_image(target, failures):
                break
            if len(failures) == tried:  # not unreadable: the user chose to stay on the current image
                return False
            target = self.folder_session.neighbour(target, step, self.file_list.unfinished_only.isChecked())
        if failures:
            QMessageBox.warning(self, "Cannot open image", "\n".join(failures)
                                + ("\n\nSkipped." if target is not None else "\n\nNo readable image after it."))
        return target is not None

    def choose_export_folder(self) -> None:
        """Ask where to export, proposing ``<folder>_masks`` beside the image folder, created beforehand so that
        the dialog can open in it (and removed again, if still empty, when the user picks another or cancels)."""
        if self.folder_session is None:
            return
        proposed = self.folder_session.folder.parent / f"{self.folder_session.folder.name}_masks"
        created = False
        try:
            if not proposed.is_dir():
                proposed.mkdir()
                created = True
            start = proposed
        except OSError:  # e.g. a read-only parent: start in the image folder, the user picks or makes one
            start = self.folder_session.folder
        folder = QFileDialog.getExistingDirectory(self, "Export the folder's masks into", str(start))
        if created and (not folder or Path(folder).resolve() != proposed.resolve()):
            try:
                proposed.rmdir()  # only when still empty
            except OSError:
                pass
        if folder:
            self.export_folder(folder)

    def export_folder(self, out: str | Path) -> bool:
        """Save the current work, then write every image's mask and classes.json into ``out``."""
        if self.folder_session is None or not self.autosave.flush():
            return False
        try:
            report = self.folder_session.export(out, self.settings.export_formats)
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self, "Export failed", f"The masks were not exported:\n{exc}")
            return False
        self.file_list.refresh()
        text = f"Exported {len(report.written)} masks and classes.json to {out}."
        if report.dataset_files:
            text += f"\nAlso: {', '.join(p.relative_to(Path(out).resolve()).as_posix() for p in report.dataset_files[:5])}"
            text += " …" if len(report.dataset_files) > 5 else ""
        if report.without_mask:
            text += f"\n{len(report.without_mask)} images have no mask yet: {', '.join(report.without_mask[:10])}"
        if report.problems:
            text += "\n\nProblems:\n" + "\n".join(report.problems)
        QMessageBox.information(self, "Export", text)
        return True

    def show_settings(self) -> None:
        dialog = SettingsDialog(self.config, self.settings.sidecar_folder, self, self.settings.backbone_weights,
                                self.settings.class_names)
        if not dialog.exec():
            return
        self.apply_settings(dialog.config(), dialog.sidecar_folder(), dialog.backbone_weights())
        self.apply_class_names(dialog.class_names())

    def apply_class_names(self, names: list[str]) -> None:
        """Keep ``names`` as the class list new images start with ([]: background and object); the current image
        takes it at once while it has no strokes and no mask."""
        if names == self.settings.class_names:
            return
        self.settings.class_names = names
        document = self.document
        if document is None or (not document.scribbled_classes() and document.mask is None):
            self.palette.replace(classes_from_names(names) or LabelPalette.default_classes())

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
        self.statusBar().showMessage("Settings saved" + (": the device and backbone weights change at the next "
                                                          "start." if restart_needed else ", used from the next run "
                                                          "on."), MESSAGE_MS)

    def choose_image(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self.settings.last_folder,
                                              f"Images ({patterns});;All files (*)")
        if path:
            self.open_image(path)

    def save(self, folder: str | Path | None = None) -> bool:
        """Save mask, scribbles and classes (and the overlay if chosen); a failure is shown and nothing is lost."""
        if self.document is None:
            return False
        if folder is None:
            folder = self.autosave.folder if self.autosave.active else default_output_folder(self.document.path,
                                                                                              self.work_root())
        alpha = self.overlay_alpha()
        try:
            written = save_document(self.document, self.palette, folder, alpha)
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self, "Save failed",
                                 f"The work was not saved:\n{exc}\n\nIt is still open: try File > Save to folder….")
            return False
        if self.autosave.active and Path(folder) == self.autosave.folder:
            self.autosave.mark_saved()
            self.file_list.refresh()
        names = ", ".join(path.name for path in written)
        self.statusBar().showMessage(f"Saved {names} in {written[0].parent}", MESSAGE_MS)
        return True

    def choose_save_folder(self) -> None:
        if self.document is None:
            return
        start = str(default_output_folder(self.document.path, self.work_root())) if self.document.path else ""
        folder = QFileDialog.getExistingDirectory(self, "Save the work in folder", start)
        if folder:
            self.save(folder)

    def choose_scribbles(self) -> None:
        if self.document is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Load scribbles", self.settings.last_folder,
                                              "Scribble PNG (*.png);;All files (*)")
        if path:
            self.load_scribbles(path)

    def load_scribbles(self, path: str | Path) -> bool:
        """Replace the scribbles (one undo step) by a saved scribble PNG, with its class list when saved beside."""
        if self.document is None:
            return False
        try:
            work = load_scribbles_file(path, self.document.shape, self.palette.classes())
        except WorkFileError as exc:
            QMessageBox.warning(self, "Cannot load scribbles", str(exc))
            return False
        self.document.replace_work(work.scribbles, self.document.mask, palette=self.palette, classes=work.classes,
                                   text="Load scribbles")
        self.statusBar().showMessage(f"Loaded scribbles from {Path(path).name}", MESSAGE_MS)
        return True

    def _confirm_leave(self) -> bool:
        """True when the current work may be left: it is saved, or the user saved or discarded it."""
        if self.document is None:
            return True
        if self.autosave.active and self.autosave.flush():
            return True
        if self.document.undo_stack.isClean() and self.autosave.last_error is None:
            return True
        answer = QMessageBox.question(
            self, "Unsaved work", (f"{self.autosave.last_error}\n\n" if self.autosave.last_error else "")
            + f"Save the work on {self.document.path.name} first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ---- segmentation ---------------------------------------------------------------------------------------
    def segment(self, *, quiet: bool = False, warm: bool = False) -> bool:
        """Start a run on the current scribbles (superseding a run in flight). Needs strokes of two classes; the
        message saying so is left out when ``quiet``. ``warm`` continues the last run's network (a quick update
        after a stroke) instead of training a fresh one."""
        if self.document is None:
            return False
        classes = len(self.document.scribbled_classes())
        if classes < 2:
            if not quiet:
                self.statusBar().showMessage("Paint strokes of at least two classes, then segment (R).", MESSAGE_MS)
            return False
        try:  # a run that would risk the machine's memory is not started
            refused = run_too_large(self.document.shape, classes, self.config.max_side, self.config.samples,
                                    pixel_limit())
        except ValueError as exc:  # a malformed GDC_SEG_MAX_PIXELS
            refused = str(exc)
        if refused is not None:
            self.statusBar().showMessage(f"Not segmented: {refused}", 2 * MESSAGE_MS)
            return False
        self.canvas.set_target(SCRIBBLES)  # the result must be visible
        self.controller.submit(SegmentationJob(self.document.key, self.document.image,
                                               self.document.scribbles.copy(), self.config, warm))
        return True

    def _scribbles_edited(self) -> None:
        self.run_status.show_stale(self.document.prediction is not None)
        auto = self.actions.auto.isChecked()
        if auto or self.controller.busy:
            self.segment(quiet=True, warm=auto)  # a run in flight is stale now: supersede it

    def _auto_toggled(self, on: bool) -> None:
        self.settings.auto_segment = on
        if on and not self.controller.busy and self.document is not None and self.document.prediction is None:
            self.segment(quiet=True)

    def _is_current(self, image_key: int) -> bool:
        return self.document is not None and self.document.key == image_key

    def _run_started(self, job: SegmentationJob) -> None:
        self.run_status.show_started()
        self.actions.cancel.setEnabled(True)

    def _run_progressed(self, progress: RunProgress) -> None:
        job = self.controller.current_job
        if job is None or job.id != progress.job_id or not self._is_current(job.image_key):
            return
        self.run_status.show_progress(progress)
        if progress.preview is not None:
            self.canvas.show_preview(progress.preview)

    def _run_succeeded(self, outcome: RunOutcome) -> None:
        if not self._is_current(outcome.job.image_key):
            return
        result = outcome.result
        seconds = result.timings["total"]
        self.document.set_prediction(Prediction(result.labels, result.uncertainty, seconds))
        self.run_status.show_finished(seconds, result.device)
        self.run_status.show_stale(False)
        extra = [w for w in result.warnings if w != self.controller.segmenter.stem.warning]
        self.statusBar().showMessage(" ".join(extra) or f"Segmented in {seconds:.1f} s: Enter accepts the "
                                     "prediction, U shows where it is unsure.", MESSAGE_MS)

    def _run_failed(self, message: str) -> None:
        self.canvas.show_preview(None)
        self.statusBar().showMessage(message, 2 * MESSAGE_MS)

    def _run_cancelled(self) -> None:
        self.canvas.show_preview(None)
        self.statusBar().showMessage("Segmentation cancelled.", MESSAGE_MS)

    def _run_idle(self) -> None:
        self.run_status.show_idle()
        self.actions.cancel.setEnabled(False)

    # ---- review and classes ---------------------------------------------------------------------------------
    def accept_prediction(self) -> None:
        """The prediction becomes the editable mask; strokes then correct the mask (M goes back to scribbles)."""
        if self.document is None or not self.document.accept_prediction():
            self.statusBar().showMessage("Nothing to accept yet: segment first (R).", MESSAGE_MS)
            return
        self.canvas.set_target(MASK)
        self.statusBar().showMessage("Prediction accepted: strokes now correct the mask; M switches back to "
                                     "scribbles.", MESSAGE_MS)

    def _set_mask_editing(self, on: bool) -> None:
        if self.document is None:
            return
        if on and self.document.prediction is not None:
            self.document.accept_prediction()
        if not self.canvas.set_target(MASK if on else SCRIBBLES):
            self._check_quietly(self.actions.edit_mask, False)
            self.statusBar().showMessage("No mask yet: segment (R), then accept the prediction (Enter).", MESSAGE_MS)

    def remove_class(self, class_id: int) -> None:
        """Remove a class and erase its pixels, as one undo step (needs a document and more than two classes)."""
        if self.document is None:
            return
        try:
            self.document.remove_class(self.palette, class_id)
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), MESSAGE_MS)

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{keys}</b></td><td>{text}</td></tr>"
                       for keys, text in self.actions.shortcut_table())
        QMessageBox.information(self, "Keyboard shortcuts", f"<table cellspacing=4>{rows}</table>")

    # ---- small helpers --------------------------------------------------------------------------------------
    def _brush_size_changed(self, size: int) -> None:
        self.brush_spin.setValue(size)
        self.settings.brush_size = size

    def _opacity_changed(self, value: int) -> None:
        self.canvas.set_overlay_opacity(value / 100)
        self.settings.overlay_opacity = value
        self.autosave.overlay_alpha = self.overlay_alpha()

    def _save_overlay_toggled(self, on: bool) -> None:
        self.settings.save_overlay = on
        self.autosave.overlay_alpha = self.overlay_alpha()

    def export_format_actions(self) -> dict[str, QAction]:
        """The folder export's optional dataset formats (gdc_core.export names) and the actions that choose them."""
        return {"coco": self.actions.export_coco, "yolo": self.actions.export_yolo}

    def _export_formats_toggled(self) -> None:
        self.settings.export_formats = [name for name, action in self.export_format_actions().items()
                                        if action.isChecked()]

    def overlay_alpha(self) -> float | None:
        """The alpha a saved overlay is blended with (the on-screen opacity), or None when none is saved."""
        return self.opacity_slider.value() / 100 if self.actions.save_overlay.isChecked() else None

    def work_root(self) -> str | None:
        """Settings > Work folder, or None for the default (``<image folder>/gdc-seg``)."""
        return self.settings.sidecar_folder or None

    def _show_target(self, target: str) -> None:
        """The M button shows what strokes paint now, checked while they correct the mask."""
        self._check_quietly(self.actions.edit_mask, target == MASK)
        self.actions.edit_mask.setIconText(TARGET_TEXT[target])

    @staticmethod
    def _check_quietly(action, checked: bool) -> None:
        action.blockSignals(True)
        action.setChecked(checked)
        action.blockSignals(False)

    def _update_enabled(self) -> None:
        a, document = self.actions, self.document
        has_document = document is not None
        for action in (a.save, a.save_to, a.load_scribbles, a.clear_scribbles, a.segment, a.fit, a.zoom_in,
                       a.zoom_out):
            action.setEnabled(has_document)
        a.accept.setEnabled(has_document and document.prediction is not None)
        a.edit_mask.setEnabled(has_document and (document.mask is not None or document.prediction is not None))
        a.uncertainty.setEnabled(has_document and document.uncertainty is not None)
        a.load_example.setEnabled(has_document and document.path is not None
                                  and document.path.resolve() == resource_path(SAMPLE_IMAGE).resolve())
        a.cancel.setEnabled(self.controller.busy)
        for action in (a.next_image, a.previous_image, a.export_folder):
            action.setEnabled(self.folder_session is not None)
        last = self.settings.last_image_folder
        a.reopen_folder.setEnabled(bool(last) and Path(last).is_dir())
        a.reopen_folder.setToolTip(f"Open {last} (Ctrl+Shift+U)" if last else "No folder opened yet")

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_leave():
            event.ignore()
            return
        self.autosave.attach(None, None)
        self.autosave.shutdown()
        self.settings.save_window_layout(self.saveGeometry(), self.saveState())
        self.controller.shutdown()
        event.accept()
