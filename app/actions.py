"""Every command of the main window as a QAction with its keys: one table, shown in Help > Keyboard shortcuts;
where each sits in the menus and the toolbar, and when it is enabled.

The keys follow what annotators know from ilastik, napari, labelme and Photoshop (design NOTES §3). Wiring the
actions to behaviour is the main window's job (through :class:`app.annotation_session.AnnotationSession`).
``docs/keys.md`` is this table as markdown (``QT_QPA_PLATFORM=offscreen python -m app.actions > docs/keys.md``; a
test checks it is current).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QWidget

MAX_CLASS_KEYS = 9

# name: (menu text, shortcuts, what it does, checkable); tooltips add the keys
SPECS: dict[str, tuple[str, tuple[str, ...], str, bool]] = {
    "open": ("&Open image…", ("Ctrl+O",), "Open an image", False),
    "open_folder": ("Open &folder…", ("Ctrl+U",), "Open a folder of images: work is autosaved per image", False),
    "reopen_folder": ("&Reopen last folder", ("Ctrl+Shift+U",), "Open the folder worked on last time", False),
    "next_image": ("&Next image", ("D", "PgDown"), "Save and go to the next image of the folder", False),
    "previous_image": ("&Previous image", ("A", "PgUp"), "Save and go to the previous image of the folder", False),
    "save": ("&Save", ("Ctrl+S",), "Save mask, scribbles and classes into the image's work folder", False),
    "save_to": ("Save &to folder…", ("Ctrl+Shift+S",), "Save mask, scribbles and classes in a folder", False),
    "load_scribbles": ("&Load scribbles…", ("Ctrl+Shift+O",), "Load a scribble PNG (with its classes)", False),
    "load_example": ("Load &example scribbles", (), "Load the scribbles bundled with the sample image", False),
    "export_folder": ("&Export folder masks…", ("Ctrl+Shift+E",),
                      "Write every image's mask (<image>.png, indexed) and classes.json into a folder", False),
    "settings": ("Se&ttings…", ("Ctrl+,",),
                 "Run settings (the defaults or the paper's), work folder, backbone weights, classes", False),
    "save_overlay": ("Also save colour &overlay", (), "Save <image>_overlay.png with the mask", True),
    "export_coco": ("Export also &COCO JSON", (), "Folder export also writes coco.json (RLE masks, class names)",
                    True),
    "export_yolo": ("Export also &YOLO polygons", (), "Folder export also writes yolo/<image>.txt (segmentation "
                    "polygons)", True),
    "quit": ("&Quit", ("Ctrl+Q",), "Quit gdc-seg", False),
    "undo": ("&Undo", ("Ctrl+Z",), "Undo the last stroke or edit", False),
    "redo": ("&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo", False),
    "clear_scribbles": ("&Clear scribbles", (), "Erase every stroke (undoable)", False),
    "brush": ("&Brush", ("B", "P"), "Paint the current class", True),
    "eraser": ("&Eraser", ("E",), "Erase (right-drag or Alt+drag erases with any tool)", True),
    "shrink": ("&Smaller brush", ("[",), "Smaller brush", False),
    "grow": ("&Larger brush", ("]",), "Larger brush", False),
    "edit_mask": ("Strokes correct the &mask", ("M",),
                  "Switch strokes between adding scribbles and correcting the accepted mask", True),
    "segment": ("&Segment", ("R", "Ctrl+Return"), "Segment the image from the scribbles", False),
    "auto": ("&Auto segment", ("L",), "Segment after every stroke", True),
    "cancel": ("&Cancel run", ("Esc",), "Stop the running segmentation", False),
    "accept": ("&Accept prediction", ("Return", "Enter"), "Make the prediction the editable mask", False),
    "fit": ("&Fit to window", ("F", "Ctrl+0"), "Show the whole image", False),
    "zoom_in": ("Zoom &in", ("Ctrl+=", "Ctrl++"), "Zoom in", False),
    "zoom_out": ("Zoom &out", ("Ctrl+-",), "Zoom out", False),
    "overlay": ("Show &mask overlay", ("V",), "Show or hide the mask overlay", True),
    "uncertainty": ("Show &uncertainty", ("U",), "Show where the samples disagree: scribble there next", True),
    "next_hint": ("Show &next correction", ("N",),
                  "Mark the spot where a correcting stroke pays most: the middle of the largest unsure area", False),
    "scribbles": ("Show &scribbles", ("Shift+V",), "Show or hide the scribbles", True),
    "shortcuts": ("&Keyboard shortcuts", ("F1",), "List the keyboard shortcuts", False),
}

# shorter labels for the toolbar buttons
TOOLBAR_TEXT = {"open": "Open", "open_folder": "Folder", "previous_image": "◀ Prev", "next_image": "Next ▶",
                "save": "Save", "segment": "Segment", "auto": "Auto", "cancel": "Cancel",
                "accept": "Accept", "edit_mask": "Strokes: scribbles", "overlay": "Overlay",
                "uncertainty": "Uncertainty"}
# the edit_mask button's text for what strokes paint now (the canvas's target: "scribbles" or "mask")
TARGET_TEXT = {"scribbles": "Strokes: scribbles", "mask": "Strokes: mask"}
# the menus' entries by action name (None: a separator; "classes": the class keys 1-9)
MENUS = {
    "&File": ["open", "open_folder", "reopen_folder", "previous_image", "next_image", None, "save", "save_to", None,
              "load_scribbles", "load_example", None, "export_folder", "export_coco", "export_yolo", "save_overlay", None,
              "settings", None, "quit"],
    "&Edit": ["undo", "redo", None, "clear_scribbles"],
    "&Tools": ["brush", "eraser", "shrink", "grow", None, "edit_mask", None, "classes"],
    "&Segment": ["segment", "auto", "cancel", None, "accept"],
    "&View": ["fit", "zoom_in", "zoom_out", None, "overlay", "uncertainty", "next_hint", "scribbles"],
    "&Help": ["shortcuts"],
}
# the toolbar's entries: action names, None for a separator, (label, widget name) for a labelled widget
TOOLBAR = ("open", "open_folder", "previous_image", "next_image", "save", None, "brush", "eraser",
           (" Size ", "brush_spin"), None, "segment", "auto", "cancel", None, "accept", "edit_mask", None, "overlay",
           (" Opacity ", "opacity_slider"), "uncertainty")


@dataclass
class WindowActions:
    """The main window's actions; ``classes[n]`` picks class row n (key n+1)."""

    open: QAction
    open_folder: QAction
    reopen_folder: QAction
    next_image: QAction
    previous_image: QAction
    save: QAction
    save_to: QAction
    load_scribbles: QAction
    load_example: QAction
    export_folder: QAction
    settings: QAction
    save_overlay: QAction
    export_coco: QAction
    export_yolo: QAction
    quit: QAction
    undo: QAction
    redo: QAction
    clear_scribbles: QAction
    brush: QAction
    eraser: QAction
    shrink: QAction
    grow: QAction
    edit_mask: QAction
    segment: QAction
    auto: QAction
    cancel: QAction
    accept: QAction
    fit: QAction
    zoom_in: QAction
    zoom_out: QAction
    overlay: QAction
    uncertainty: QAction
    next_hint: QAction
    scribbles: QAction
    shortcuts: QAction
    classes: list[QAction]

    def menu_entries(self, title: str) -> list[QAction | None]:
        """The actions of menu ``title`` of :data:`MENUS` in order, None for separators."""
        entries = []
        for name in MENUS[title]:
            entries += self.classes if name == "classes" else [None if name is None else getattr(self, name)]
        return entries

    def export_formats(self) -> dict[str, QAction]:
        """The folder export's optional dataset formats (names of :data:`gdc_core.export.FORMATS`) and the actions
        that choose them."""
        return {"coco": self.export_coco, "yolo": self.export_yolo}

    def enable_for(self, session) -> None:
        """Enable what can be done on ``session``'s (an :class:`app.annotation_session.AnnotationSession`) state."""
        document = session.document
        for action in (self.save, self.save_to, self.load_scribbles, self.clear_scribbles, self.segment, self.fit,
                       self.zoom_in, self.zoom_out):
            action.setEnabled(document is not None)
        self.accept.setEnabled(document is not None and document.prediction is not None)
        self.edit_mask.setEnabled(document is not None
                                  and (document.mask is not None or document.prediction is not None))
        self.uncertainty.setEnabled(document is not None and document.uncertainty is not None)
        self.load_example.setEnabled(session.shows_sample())
        self.cancel.setEnabled(session.runs.busy)
        for action in (self.next_image, self.previous_image, self.export_folder):
            action.setEnabled(session.folder_session is not None)
        last = session.settings.last_image_folder
        self.reopen_folder.setEnabled(bool(last) and Path(last).is_dir())
        self.reopen_folder.setToolTip(f"Open {last} (Ctrl+Shift+U)" if last else "No folder opened yet")

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every action with keys, in menu order."""
        rows = []
        for spec in fields(self):
            if spec.name == "classes":
                rows.append(("1 … 9", "Pick class 1 to 9 of the list"))
                continue
            action = getattr(self, spec.name)
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
            if keys:
                rows.append((keys, action.statusTip()))
        rows += [("Wheel, Ctrl+Wheel", "Zoom about the cursor"), ("Space+drag, middle-drag", "Pan"),
                 ("Right-drag, Alt+drag", "Erase with any tool")]
        return rows


def shortcut_markdown(actions: WindowActions) -> str:
    """The shortcut table as the markdown page ``docs/keys.md``."""
    rows = "".join(f"| {keys} | {text} |\n" for keys, text in actions.shortcut_table())
    return ("# Keyboard shortcuts\n\nThe app lists them too: *Help > Keyboard shortcuts* (F1). Made by "
            "`python -m app.actions` from the app's own table.\n\n| Keys | Action |\n|---|---|\n" + rows)


def build_actions(parent: QWidget) -> WindowActions:
    """Create every action (not yet connected) with its shortcuts, added to ``parent`` so the keys work anywhere
    in the window."""
    made = {}
    for name, (text, keys, tip, checkable) in SPECS.items():
        action = QAction(text, parent)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setToolTip(f"{tip} ({', '.join(keys)})" if keys else tip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        if name in TOOLBAR_TEXT:
            action.setIconText(TOOLBAR_TEXT[name])
        parent.addAction(action)
        made[name] = action
    classes = []
    for row in range(MAX_CLASS_KEYS):
        action = QAction(f"Class {row + 1}", parent)
        action.setShortcut(QKeySequence(str(row + 1)))
        parent.addAction(action)
        classes.append(action)
    return WindowActions(**made, classes=classes)


class TextEntryKeyGuard(QObject):
    """Lets Return, Enter and Esc reach a focused text field (a class name being edited, the brush size box)
    instead of triggering Accept or Cancel. Install on the widget whose children hold such fields."""

    KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(watched, (QLineEdit, QAbstractSpinBox))
                and isinstance(event, QKeyEvent) and event.key() in self.KEYS):
            event.accept()  # "the field wants this key": no shortcut fires, the field gets a normal key press
            return True
        return False


if __name__ == "__main__":  # print docs/keys.md
    from PySide6.QtWidgets import QApplication

    application = QApplication([])
    owner = QWidget()  # kept alive while the actions are read
    print(shortcut_markdown(build_actions(owner)), end="")
