"""MainWindow: builds the widgets (canvas, class panel, image list, toolbar, menus, status bar) and connects them to
an :class:`app.annotation_session.AnnotationSession`, which holds the work and its policies."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup, QCloseEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QSlider, QSpinBox, QToolBar

from gdc_core import Segmenter, SegmenterConfig

from . import file_dialogs
from .actions import MENUS, TARGET_TEXT, TOOLBAR, TextEntryKeyGuard, build_actions
from .annotation_session import CANCEL, DISCARD, MESSAGE_MS, SAVE, AnnotationSession
from .canvas import BRUSH, ERASER, MAX_BRUSH, MIN_BRUSH, ImageCanvas
from .document import MASK, SCRIBBLES, AnnotationDocument
from .file_list import FileListPanel
from .next_hint import NextHint
from .palette import PalettePanel
from .resources import SAMPLE_SCRIBBLES, resource_path
from .run_status import RunStatus
from .settings_dialog import SettingsDialog
from .unsaved_marker import UnsavedMarker

ANSWERS = {QMessageBox.StandardButton.Save: SAVE, QMessageBox.StandardButton.Discard: DISCARD}


class MainWindow(QMainWindow):
    """The annotation window on ``segmenter`` (created once per app: its stem takes a moment to build) with run
    parameters ``config`` (the defaults when None); :attr:`session` does the work."""

    def __init__(self, segmenter: Segmenter, config: SegmenterConfig | None = None):
        super().__init__()
        self.session = session = AnnotationSession(segmenter, config, self)
        session.ask_save_first = self._ask_save_first
        self.canvas = ImageCanvas()
        self.setCentralWidget(self.canvas)
        self.palette_panel = PalettePanel()
        self.file_list = FileListPanel()
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
        self.next_hint = NextHint(self.canvas, self.statusBar())
        self._build_menus_and_toolbar()
        self._add_dock("Classes", "classes", self.palette_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.images_dock = self._add_dock("Images", "images", self.file_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.images_dock.hide()  # shown with a folder
        self.unsaved_marker = UnsavedMarker(session.autosave)
        self.statusBar().addPermanentWidget(self.unsaved_marker)
        self._connect()
        self.resize(1280, 820)  # the saved layout, if any, replaces it
        self._restore_settings()
        self.actions.enable_for(self.session)
        self.setWindowTitle("gdc-seg")

    def _build_menus_and_toolbar(self) -> None:
        for title in MENUS:
            menu = self.menuBar().addMenu(title)
            for action in self.actions.menu_entries(title):
                menu.addSeparator() if action is None else menu.addAction(action)
        toolbar = QToolBar("Tools", self)
        toolbar.setObjectName("tools")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for entry in TOOLBAR:
            if entry is None:
                toolbar.addSeparator()
            elif isinstance(entry, tuple):
                toolbar.addWidget(QLabel(entry[0]))
                toolbar.addWidget(getattr(self, entry[1]))
            else:
                toolbar.addAction(getattr(self.actions, entry))
        self.addToolBar(toolbar)
        tools = QActionGroup(self)
        tools.addAction(self.actions.brush)
        tools.addAction(self.actions.eraser)
        self.actions.brush.setChecked(True)

    def _add_dock(self, title: str, name: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        a, canvas, session, settings = self.actions, self.canvas, self.session, self.session.settings
        status = self.statusBar()
        a.open.triggered.connect(lambda: self._open_chosen(file_dialogs.choose_image(self, settings.last_folder)))
        a.open_folder.triggered.connect(lambda: self._open_chosen(file_dialogs.choose_folder(
            self, settings.last_image_folder or settings.last_folder), folder=True))
        a.reopen_folder.triggered.connect(lambda: session.open_folder(settings.last_image_folder))
        a.next_image.triggered.connect(lambda: session.go_to_neighbour(+1))
        a.previous_image.triggered.connect(lambda: session.go_to_neighbour(-1))
        a.export_folder.triggered.connect(self._choose_export_folder)
        a.settings.triggered.connect(self.show_settings)
        a.save.triggered.connect(lambda: session.save())
        a.save_to.triggered.connect(self._choose_save_folder)
        a.load_scribbles.triggered.connect(self._choose_scribbles)
        a.load_example.triggered.connect(lambda: session.load_scribbles(resource_path(SAMPLE_SCRIBBLES)))
        a.save_overlay.toggled.connect(lambda on: self._overlay_changed())
        a.quit.triggered.connect(self.close)
        a.undo.triggered.connect(session.undo_group.undo)
        a.redo.triggered.connect(session.undo_group.redo)
        session.undo_group.canUndoChanged.connect(a.undo.setEnabled)
        session.undo_group.canRedoChanged.connect(a.redo.setEnabled)
        session.undo_group.cleanChanged.connect(lambda clean: self.setWindowModified(not clean))
        a.clear_scribbles.triggered.connect(lambda: session.document.clear_scribbles())  # enabled with a document
        a.brush.triggered.connect(lambda: canvas.set_tool(BRUSH))
        a.eraser.triggered.connect(lambda: canvas.set_tool(ERASER))
        canvas.tool_changed.connect(lambda tool: (a.brush if tool == BRUSH else a.eraser).setChecked(True))
        a.shrink.triggered.connect(canvas.shrink_brush)
        a.grow.triggered.connect(canvas.grow_brush)
        canvas.brush_size_changed.connect(self.brush_spin.setValue)
        canvas.brush_size_changed.connect(lambda size: setattr(settings, "brush_size", size))
        self.brush_spin.valueChanged.connect(canvas.set_brush_size)
        a.edit_mask.toggled.connect(lambda on: session.edit_mask(on) or self._show_target(canvas.target))
        canvas.target_changed.connect(self._show_target)
        a.segment.triggered.connect(lambda: session.segment())
        a.auto.toggled.connect(session.set_auto)
        a.cancel.triggered.connect(session.runs.cancel)
        a.accept.triggered.connect(session.accept_prediction)
        a.fit.triggered.connect(canvas.fit)
        a.zoom_in.triggered.connect(lambda: canvas.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: canvas.zoom_by(0.8))
        a.overlay.toggled.connect(canvas.set_overlay_visible)
        a.uncertainty.toggled.connect(canvas.set_uncertainty_visible)
        a.next_hint.triggered.connect(lambda: self.next_hint.show(session.document))
        a.scribbles.toggled.connect(canvas.set_scribbles_visible)
        a.shortcuts.triggered.connect(self.show_shortcuts)
        for row, action in enumerate(a.classes):
            action.triggered.connect(lambda checked=False, row=row: session.document
                                     and session.document.select_class_row(row))
        self.palette_panel.refused.connect(lambda text: status.showMessage(text, MESSAGE_MS))
        self.opacity_slider.valueChanged.connect(lambda value: self._overlay_changed())
        self.file_list.image_chosen.connect(session.open_image)
        self.file_list.unfinished_only.toggled.connect(lambda on: setattr(settings, "unfinished_only", on))
        session.document_changed.connect(self._show_document)
        session.folder_opened.connect(self.file_list.set_session)
        session.folder_opened.connect(self.images_dock.show)
        session.files_changed.connect(self.file_list.refresh)
        session.state_changed.connect(lambda: a.enable_for(session))
        session.message.connect(status.showMessage)
        session.notice.connect(lambda kind, title, text: getattr(QMessageBox, kind)(self, title, text))
        session.target_wanted.connect(canvas.set_target)
        session.preview.connect(canvas.show_preview)
        self.run_status.follow(session)
        for name, action in a.export_formats().items():
            action.toggled.connect(lambda on, name=name: session.set_export_format(name, on))

    def _restore_settings(self) -> None:
        a, settings = self.actions, self.session.settings
        self.canvas.set_brush_size(settings.brush_size)
        self.brush_spin.setValue(self.canvas.brush_size)
        self.opacity_slider.setValue(settings.overlay_opacity)
        a.auto.setChecked(settings.auto_segment)
        a.save_overlay.setChecked(settings.save_overlay)
        chosen = settings.export_formats  # read once: each setChecked saves the choice so far
        for name, action in a.export_formats().items():
            action.setChecked(name in chosen)
        self._overlay_changed()
        for action in (a.overlay, a.scribbles):
            action.setChecked(True)
        self.file_list.unfinished_only.setChecked(settings.unfinished_only)
        geometry, state = settings.window_layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def _show_document(self, document: AnnotationDocument) -> None:
        self.canvas.set_document(document)
        self.palette_panel.set_document(document)
        self.canvas.set_target(SCRIBBLES)
        self.file_list.set_current(document.path)
        self.setWindowTitle(f"{document.path.name if document.path else 'untitled'}[*] — gdc-seg")
        self.setWindowModified(document.dirty)

    def _ask_save_first(self, text: str) -> str:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self, "Unsaved work", text, buttons.Save | buttons.Discard | buttons.Cancel,
                                      buttons.Save)
        return ANSWERS.get(answer, CANCEL)

    def _open_chosen(self, path: str | None, folder: bool = False) -> None:
        if path:
            (self.session.open_folder if folder else self.session.open_image)(path)

    def _choose_export_folder(self) -> None:
        folder = file_dialogs.choose_export_folder(self, self.session.folder_session.folder)  # enabled with one
        if folder:
            self.session.export_folder(folder)

    def _choose_save_folder(self) -> None:
        folder = file_dialogs.choose_save_folder(self, self.session.output_folder())
        if folder:
            self.session.save(folder)

    def _choose_scribbles(self) -> None:
        path = file_dialogs.choose_scribbles(self, self.session.settings.last_folder)
        if path:
            self.session.load_scribbles(path)

    def show_settings(self) -> None:
        settings = self.session.settings
        dialog = SettingsDialog(self.session.config, settings.sidecar_folder, self, settings.backbone_weights,
                                settings.class_names)
        if dialog.exec():
            self.session.apply_settings(dialog.config(), dialog.sidecar_folder(), dialog.backbone_weights())
            self.session.apply_class_names(dialog.class_names())

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{keys}</b></td><td>{text}</td></tr>"
                       for keys, text in self.actions.shortcut_table())
        QMessageBox.information(self, "Keyboard shortcuts", f"<table cellspacing=4>{rows}</table>")

    def _show_target(self, target: str) -> None:
        """The M button shows what strokes paint now, checked while they correct the mask."""
        self.actions.edit_mask.blockSignals(True)
        self.actions.edit_mask.setChecked(target == MASK)
        self.actions.edit_mask.blockSignals(False)
        self.actions.edit_mask.setIconText(TARGET_TEXT[target])

    def _overlay_changed(self) -> None:
        """The overlay opacity or "Also save colour overlay" changed: shown, kept, and used by saves."""
        opacity, save_overlay = self.opacity_slider.value(), self.actions.save_overlay.isChecked()
        self.canvas.set_overlay_opacity(opacity / 100)
        self.session.settings.overlay_opacity, self.session.settings.save_overlay = opacity, save_overlay
        self.session.autosave.overlay_alpha = opacity / 100 if save_overlay else None

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.session.confirm_leave():
            event.ignore()
            return
        self.session.shutdown()
        self.session.settings.save_window_layout(self.saveGeometry(), self.saveState())
        event.accept()
