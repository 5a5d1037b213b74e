"""The label classes (id, name, colour): the :class:`LabelPalette` model and the :class:`PalettePanel` that edits it.

A class id is the pixel value in scribbles and masks (0..254; 255 means "no label"). Ids are stable: removing a
class does not renumber the others. A class's ``colour`` is the one saved (embedded in the PNGs, written to the
class list) and defaults to the PASCAL VOC colour of the id; the canvas and the class list draw a class that keeps
its default colour in a high-contrast colour instead (:func:`drawing_colour`), since VOC's black and maroon vanish
on most photos. A colour the user picks is both saved and drawn.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QColorDialog, QHBoxLayout, QInputDialog, QLabel, QListWidget, QListWidgetItem,
                               QMessageBox, QPushButton, QVBoxLayout, QWidget)

from gdc_core import NO_LABEL
from gdc_core.io import voc_palette

MAX_CLASSES = NO_LABEL  # ids 0..254
# drawing colours of classes 0, 1, 2, ...: strong, mutually distinct, visible on photos (a test measures it)
CONTRAST_COLOURS = ((30, 144, 255), (255, 40, 40), (40, 220, 40), (255, 230, 0), (255, 0, 255), (0, 235, 235),
                    (255, 120, 0), (140, 80, 255), (170, 255, 60), (255, 120, 180))
GOLDEN_ANGLE = 0.381966  # of a turn of the hue circle: consecutive hues stay far apart
MIN_CLASSES = 2  # a segmentation needs two classes


@dataclass(frozen=True)
class LabelClass:
    """One class: ``id`` (pixel value), display ``name`` and ``colour`` (r, g, b) 0..255."""

    id: int
    name: str
    colour: tuple[int, int, int]


def default_colour(class_id: int) -> tuple[int, int, int]:
    """The PASCAL VOC colour of ``class_id``."""
    return tuple(int(v) for v in voc_palette()[class_id])


def contrast_colour(class_id: int) -> tuple[int, int, int]:
    """A saturated, bright colour for drawing class ``class_id``: a fixed list for the first ids (blue background,
    red, green, yellow, magenta, cyan, orange, ...), then hues a golden angle apart."""
    if class_id < len(CONTRAST_COLOURS):
        return CONTRAST_COLOURS[class_id]
    red, green, blue = colorsys.hsv_to_rgb((class_id * GOLDEN_ANGLE) % 1.0, 0.85, 1.0)
    return round(red * 255), round(green * 255), round(blue * 255)


def drawing_colour(entry: "LabelClass") -> tuple[int, int, int]:
    """The colour ``entry`` is drawn in: its own when the user chose one, else :func:`contrast_colour`."""
    return contrast_colour(entry.id) if entry.colour == default_colour(entry.id) else entry.colour


def colour_table(classes) -> np.ndarray:
    """(256, 3) uint8 colours for an indexed PNG or a display lookup: each LabelClass's colour at its id, the VOC
    colours elsewhere."""
    table = voc_palette()
    for entry in classes:
        table[entry.id] = entry.colour
    return table


class LabelPalette(QObject):
    """The ordered list of classes and the current one. Row n (0-based) is picked by key n+1.

    Signals:
        changed: entries were added, removed, renamed or recoloured.
        current_changed(int): the current class id changed.
    """

    changed = Signal()
    current_changed = Signal(int)

    def __init__(self, classes: list[LabelClass] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._classes: list[LabelClass] = list(classes) if classes else self.default_classes()
        self._current = self._classes[min(1, len(self._classes) - 1)].id

    @staticmethod
    def default_classes() -> list[LabelClass]:
        """Background (0, black) and one object class (1, VOC dark red)."""
        return [LabelClass(0, "background", default_colour(0)), LabelClass(1, "object", default_colour(1))]

    def classes(self) -> tuple[LabelClass, ...]:
        return tuple(self._classes)

    def ids(self) -> tuple[int, ...]:
        return tuple(c.id for c in self._classes)

    def by_id(self, class_id: int) -> LabelClass:
        for entry in self._classes:
            if entry.id == class_id:
                return entry
        raise KeyError(f"no class with id {class_id}")

    def row_of(self, class_id: int) -> int:
        return self.ids().index(class_id)

    @property
    def current_id(self) -> int:
        return self._current

    def set_current(self, class_id: int) -> None:
        self.by_id(class_id)
        if class_id != self._current:
            self._current = class_id
            self.current_changed.emit(class_id)

    def select_row(self, row: int) -> bool:
        """Make the class in ``row`` current; False (nothing changes) when there is no such row."""
        if not 0 <= row < len(self._classes):
            return False
        self.set_current(self._classes[row].id)
        return True

    def free_id(self) -> int:
        """The smallest id no class uses (raises ValueError when all MAX_CLASSES are used)."""
        used = set(self.ids())
        free = next((i for i in range(MAX_CLASSES) if i not in used), None)
        if free is None:
            raise ValueError(f"at most {MAX_CLASSES} classes")
        return free

    def add(self, name: str | None = None) -> LabelClass:
        """Append a class with the smallest free id, its VOC colour and ``name`` (default ``class <id>``)."""
        free = self.free_id()
        entry = LabelClass(free, (name or "").strip() or f"class {free}", default_colour(free))
        self.insert(len(self._classes), entry)
        return entry

    def insert(self, row: int, entry: LabelClass) -> None:
        if entry.id in self.ids():
            raise ValueError(f"class id {entry.id} is already used")
        self._classes.insert(row, entry)
        self.changed.emit()

    def remove(self, class_id: int) -> tuple[int, LabelClass]:
        """Remove a class; returns its (row, entry) so it can be put back. The current class moves to a neighbour."""
        if len(self._classes) <= MIN_CLASSES:
            raise ValueError(f"at least {MIN_CLASSES} classes are needed")
        row = self.row_of(class_id)
        entry = self._classes.pop(row)
        self._entries_changed(self._classes[min(row, len(self._classes) - 1)].id)
        return row, entry

    def rename(self, class_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a class name cannot be empty")
        self._update(class_id, name=name)

    def recolour(self, class_id: int, colour: tuple[int, int, int]) -> None:
        self._update(class_id, colour=tuple(int(v) for v in colour))

    def replace(self, classes: list[LabelClass]) -> None:
        """Take a whole new class list (e.g. loaded with saved scribbles)."""
        if len(classes) < 1 or len({c.id for c in classes}) != len(classes):
            raise ValueError("a class list needs at least one class and unique ids")
        self._classes = list(classes)
        self._entries_changed(self._classes[min(1, len(self._classes) - 1)].id)

    def colours(self) -> np.ndarray:
        """(256, 3) uint8: entry i the saved colour of class i (VOC colours for ids without a class)."""
        return colour_table(self._classes)

    def drawing_colours(self) -> np.ndarray:
        """(256, 3) uint8: entry i the colour class i is drawn in (:func:`drawing_colour`; high-contrast colours
        for ids without a class)."""
        table = np.array([contrast_colour(i) for i in range(256)], dtype=np.uint8)
        for entry in self._classes:
            table[entry.id] = drawing_colour(entry)
        return table

    def _entries_changed(self, fallback_id: int) -> None:
        """Announce a new list; the current class becomes ``fallback_id`` if it is gone (announced after)."""
        previous = self._current
        if previous not in self.ids():
            self._current = fallback_id
        self.changed.emit()
        if self._current != previous:
            self.current_changed.emit(self._current)

    def _update(self, class_id: int, **changes) -> None:
        row = self.row_of(class_id)
        old = self._classes[row]
        self._classes[row] = LabelClass(old.id, changes.get("name", old.name), changes.get("colour", old.colour))
        self.changed.emit()


def swatch(colour: tuple[int, int, int], size: int = 16) -> QIcon:
    """A square icon filled with ``colour``."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*colour))
    return QIcon(pixmap)


class PalettePanel(QWidget):
    """Lists the classes (swatch, key, name) and edits them: add, rename (double-click), recolour, remove.

    Removing goes through ``remove_requested(int)`` so the owner can make it an undoable step that also clears the
    class's pixels; the other edits change the palette directly.
    """

    remove_requested = Signal(int)

    def __init__(self, palette: LabelPalette, parent: QWidget | None = None):
        super().__init__(parent)
        self.palette = palette
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
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.palette.current_id))
        self.list.currentRowChanged.connect(self._row_picked)
        self.list.itemChanged.connect(self._item_edited)
        palette.changed.connect(self._rebuild)
        palette.current_changed.connect(self._show_current)
        self._rebuild()

    def add_class(self) -> None:
        """Ask for the new class's name (Cancel adds none), add it and make it current."""
        try:
            proposed = f"class {self.palette.free_id()}"
        except ValueError as exc:
            QMessageBox.warning(self, "No more classes", str(exc))
            return
        name, accepted = QInputDialog.getText(self, "Add a class", "Name of the new class:", text=proposed)
        if accepted:
            self.palette.set_current(self.palette.add(name).id)

    def choose_colour(self) -> None:
        entry = self.palette.by_id(self.palette.current_id)
        colour = QColorDialog.getColor(QColor(*drawing_colour(entry)), self, f"Colour of {entry.name}")
        if colour.isValid():
            self.palette.recolour(entry.id, (colour.red(), colour.green(), colour.blue()))

    def _rebuild(self) -> None:
        """Show the palette's entries; items are updated in place when only names or colours changed (an item
        being edited must not be deleted under the editor)."""
        classes = self.palette.classes()
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
        self.remove_button.setEnabled(len(classes) > MIN_CLASSES)
        self._show_current(self.palette.current_id)

    def _show_current(self, class_id: int) -> None:
        self.list.blockSignals(True)
        self.list.setCurrentRow(self.palette.row_of(class_id))
        self.list.blockSignals(False)

    def _row_picked(self, row: int) -> None:
        self.palette.select_row(row)

    def _item_edited(self, item: QListWidgetItem) -> None:
        class_id = item.data(Qt.ItemDataRole.UserRole)
        try:
            self.palette.rename(class_id, item.text())
        except ValueError:
            self._rebuild()  # an empty name: show the old one again
