"""Predefined class lists: a labels file as labelme reads it (``gdc-seg --labels FILE``) and the list kept in
Settings, both turned into the classes a new image starts with (ids 0, 1, 2, ... in the order given).

A labels file is UTF-8 text, one class name per line; blank lines are skipped, and so are labelme's ``__ignore__``
line, while its ``_background_`` is read as ``background``. Work saved with an image keeps its own classes.
"""
from __future__ import annotations

from pathlib import Path

from .classes import MAX_CLASSES, MIN_CLASSES, ClassList, LabelClass, default_colour

LABELME_IGNORE = "__ignore__"
LABELME_BACKGROUND = "_background_"


class ClassListError(ValueError):
    """A labels file or class list that cannot be used; the message names the file or the problem."""


def parse_class_names(text: str) -> list[str]:
    """The class names of ``text`` (one per line), checked: at least MIN_CLASSES, at most MAX_CLASSES, no repeats."""
    names = []
    for line in text.splitlines():
        name = line.strip()
        if not name or name == LABELME_IGNORE:
            continue
        names.append("background" if name == LABELME_BACKGROUND else name)
    if len(names) < MIN_CLASSES:
        raise ClassListError(f"needs at least {MIN_CLASSES} class names, one per line")
    if len(names) > MAX_CLASSES:
        raise ClassListError(f"at most {MAX_CLASSES} classes, not {len(names)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ClassListError(f"a class name appears twice: {repeated[0]}")
    return names


def read_labels_file(path: str | Path) -> list[str]:
    """The class names of a labels file (raises ClassListError naming the file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClassListError(f"{path}: cannot read the labels file ({exc.__class__.__name__})") from None
    try:
        return parse_class_names(text)
    except ClassListError as exc:
        raise ClassListError(f"{path}: {exc}") from None


def classes_from_names(names: list[str]) -> ClassList:
    """Classes 0, 1, ... named ``names`` (at least one), in their default colours."""
    return ClassList(LabelClass(class_id, name, default_colour(class_id)) for class_id, name in enumerate(names))
