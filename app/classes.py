"""The label classes of one image's work, without Qt: :class:`LabelClass`, the immutable :class:`ClassList` with
its id rules, and the colour rules.

A class id is the pixel value in scribbles and masks (0..254; 255 means "no label"). Ids are stable: removing a
class does not renumber the others; a new class takes the smallest free id. A class's ``colour`` is the one saved
(embedded in the PNGs, written to the class list) and defaults to the PASCAL VOC colour of the id; the canvas and
the class panel draw a class that keeps its default colour in a high-contrast colour instead
(:func:`drawing_colour`), since VOC's black and maroon vanish on most photos. A colour the user picks is both
saved and drawn.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from gdc_core import NO_LABEL
from gdc_core.io import voc_palette

MAX_CLASSES = NO_LABEL  # ids 0..254
MIN_CLASSES = 2  # a segmentation needs two classes
# drawing colours of classes 0, 1, 2, ...: strong, mutually distinct, visible on photos (a test measures it)
CONTRAST_COLOURS = ((30, 144, 255), (255, 40, 40), (40, 220, 40), (255, 230, 0), (255, 0, 255), (0, 235, 235),
                    (255, 120, 0), (140, 80, 255), (170, 255, 60), (255, 120, 180))
GOLDEN_ANGLE = 0.381966  # of a turn of the hue circle: consecutive hues stay far apart


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


def drawing_colour(entry: LabelClass) -> tuple[int, int, int]:
    """The colour ``entry`` is drawn in: its own when the user chose one, else :func:`contrast_colour`."""
    return contrast_colour(entry.id) if entry.colour == default_colour(entry.id) else entry.colour


def colour_table(classes) -> np.ndarray:
    """(256, 3) uint8 colours for an indexed PNG or a display lookup: each LabelClass's colour at its id, the VOC
    colours elsewhere."""
    table = voc_palette()
    for entry in classes:
        table[entry.id] = entry.colour
    return table


def drawing_colour_table(classes) -> np.ndarray:
    """(256, 3) uint8: entry i the colour class i is drawn in (:func:`drawing_colour`; high-contrast colours for
    ids without a class)."""
    table = np.array([contrast_colour(i) for i in range(256)], dtype=np.uint8)
    for entry in classes:
        table[entry.id] = drawing_colour(entry)
    return table


def complete_classes(classes, scribbles: np.ndarray, mask: np.ndarray | None) -> list[LabelClass]:
    """``classes`` plus a default entry for every id the (H, W) uint8 layers use that is not among them (e.g. a
    class removed after it was predicted), so that every saved file can be loaded again."""
    classes = list(classes)
    used = set(np.unique(scribbles).tolist())
    if mask is not None:
        used |= set(np.unique(mask).tolist())
    missing = sorted(used - {c.id for c in classes} - {NO_LABEL})
    return classes + [LabelClass(class_id, f"class {class_id}", default_colour(class_id)) for class_id in missing]


@dataclass(frozen=True)
class ClassList:
    """An ordered, immutable list of classes with unique ids; row n (0-based) is picked by key n+1. Every edit
    returns a new list (raising ValueError, with a message for the user, for an edit the rules refuse)."""

    entries: tuple[LabelClass, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))
        if not self.entries or len({c.id for c in self.entries}) != len(self.entries):
            raise ValueError("a class list needs at least one class and unique ids")

    @classmethod
    def default(cls) -> ClassList:
        """Background (0, black) and one object class (1, VOC dark red)."""
        return cls((LabelClass(0, "background", default_colour(0)), LabelClass(1, "object", default_colour(1))))

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, row: int) -> LabelClass:
        return self.entries[row]

    def ids(self) -> tuple[int, ...]:
        return tuple(c.id for c in self.entries)

    def by_id(self, class_id: int) -> LabelClass:
        for entry in self.entries:
            if entry.id == class_id:
                return entry
        raise KeyError(f"no class with id {class_id}")

    def row_of(self, class_id: int) -> int:
        return self.ids().index(class_id)

    def free_id(self) -> int:
        """The smallest id no class uses (raises ValueError when all MAX_CLASSES are used)."""
        used = set(self.ids())
        free = next((i for i in range(MAX_CLASSES) if i not in used), None)
        if free is None:
            raise ValueError(f"at most {MAX_CLASSES} classes")
        return free

    def added(self, name: str | None = None) -> ClassList:
        """With a class appended: the smallest free id, its VOC colour and ``name`` (default ``class <id>``)."""
        free = self.free_id()
        return ClassList(self.entries + (LabelClass(free, (name or "").strip() or f"class {free}",
                                                    default_colour(free)),))

    def renamed(self, class_id: int, name: str) -> ClassList:
        name = name.strip()
        if not name:
            raise ValueError("a class name cannot be empty")
        return self._updated(class_id, name=name)

    def recoloured(self, class_id: int, colour: tuple[int, int, int]) -> ClassList:
        return self._updated(class_id, colour=tuple(int(v) for v in colour))

    def removed(self, class_id: int) -> ClassList:
        if len(self.entries) <= MIN_CLASSES:
            raise ValueError(f"at least {MIN_CLASSES} classes are needed")
        row = self.row_of(class_id)
        return ClassList(self.entries[:row] + self.entries[row + 1:])

    def _updated(self, class_id: int, **changes) -> ClassList:
        row = self.row_of(class_id)
        old = self.entries[row]
        new = LabelClass(old.id, changes.get("name", old.name), changes.get("colour", old.colour))
        return ClassList(self.entries[:row] + (new,) + self.entries[row + 1:])
