"""PalettePanel: the class list of the current document (swatch, key, name) and its edits (add, rename by
double-click, recolour, remove), each one an undo step of the document (:class:`app.document.AnnotationDocument`).
The classes themselves and their colour rules are :mod:`app.classes`'."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QColorDialog, QHBoxLayout, QInputDialog, QLabel, QListWidget, QListWidgetItem,
                               QMessageBox, QPushButton, QVBoxLayout, QWidget)

from .classes import MIN_CLASSES, drawing_colour
from .document import AnnotationDocument


def swatch(colour: tuple[int, int, int], size: int = 16) -> QIcon:
    """A square icon filled with ``colour``."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*colour))
    return QIcon(pixmap)


class PalettePanel(QWidget):
    """Shows the classes of the document given to :meth:`set_document` and edits them through it.

    Signals: ``refused(str)``: an edit the class rules refuse (e.g. removing one of the last two classes).
    """

    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.document: AnnotationDocument | None = None
        self.list = QListWidget()
        self.list.setIconSize(QSize(16, 16))
        self.list.setToolTip("Keys 1-9 pick a class; double-click a name to rename it")
        self.add_button = QPushButton("Add")
        self.colour_button = QPushButton("Colour…")
        self.remove_button = QPushButton("Remove")
        buttons = QHBoxLayout()
        for button in (self.add_button, self.colour_button, self.remove_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        hint = QLabel("Keys 1-9 pick a class; double-click renames")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        layout.addWidget(hint)
        layout.addLayout(buttons)

        self.add_button.clicked.connect(self.add_class)
        self.colour_button.clicked.connect(self.choose_colour)
        self.remove_button.clicked.connect(self.remove_class)
        self.list.currentRowChanged.connect(self._row_picked)
        self.list.itemChanged.connect(self._item_edited)
        self._rebuild()

    def set_document(self, document: AnnotationDocument | None) -> None:
        """Show (and edit) the classes of ``document``; None shows none."""
        if self.document is not None:
            self.document.classes_changed.disconnect(self._rebuild)
            self.document.current_class_changed.disconnect(self._show_current)
        self.document = document
        if document is not None:
            document.classes_changed.connect(self._rebuild)
            document.current_class_changed.connect(self._show_current)
        self._rebuild()

    def add_class(self) -> None:
        """Ask for the new class's name (Cancel adds none), add it and make it current."""
        if self.document is None:
            return
        try:
            proposed = f"class {self.document.classes.free_id()}"
        except ValueError as exc:
            QMessageBox.warning(self, "No more classes", str(exc))
            return
        name, accepted = QInputDialog.getText(self, "Add a class", "Name of the new class:", text=proposed)
        if accepted:
            self.document.add_class(name)

    def choose_colour(self) -> None:
        if self.document is None:
            return
        entry = self.document.classes.by_id(self.document.current_class)
        colour = QColorDialog.getColor(QColor(*drawing_colour(entry)), self, f"Colour of {entry.name}")
        if colour.isValid():
            self.document.recolour_class(entry.id, (colour.red(), colour.green(), colour.blue()))

    def remove_class(self) -> None:
        """Remove the current class and erase its pixels (one undo step)."""
        if self.document is None:
            return
        try:
            self.document.remove_class(self.document.current_class)
        except ValueError as exc:
            self.refused.emit(str(exc))

    def _rebuild(self) -> None:
        """Show the document's classes; items are updated in place when only names or colours changed (an item
        being edited must not be deleted under the editor)."""
        classes = tuple(self.document.classes) if self.document is not None else ()
        self.list.blockSignals(True)
        shown = [self.list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.list.count())]
        if shown != [entry.id for entry in classes]:
            self.list.clear()
            for entry in classes:
                item = QListWidgetItem()
                item.setData(Qt.ItemDataRole.UserRole, entry.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
        for row, entry in enumerate(classes):
            item = self.list.item(row)
            item.setIcon(swatch(drawing_colour(entry)))
            item.setText(entry.name)
            item.setToolTip(f"pixel value {entry.id}" + (f", key {row + 1}" if row < 9 else ""))
        self.list.blockSignals(False)
        self.add_button.setEnabled(self.document is not None)
        self.colour_button.setEnabled(self.document is not None)
        self.remove_button.setEnabled(len(classes) > MIN_CLASSES)
        if self.document is not None:
            self._show_current(self.document.current_class)

    def _show_current(self, class_id: int) -> None:
        self.list.blockSignals(True)
        self.list.setCurrentRow(self.document.classes.row_of(class_id))
        self.list.blockSignals(False)

    def _row_picked(self, row: int) -> None:
        if self.document is not None:
            self.document.select_class_row(row)

    def _item_edited(self, item: QListWidgetItem) -> None:
        try:
            self.document.rename_class(item.data(Qt.ItemDataRole.UserRole), item.text())
        except ValueError:
            self._rebuild()  # an empty name: show the old one again
