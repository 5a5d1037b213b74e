"""Encoding, saving and loading the work on an image; where the files go and how a save stays one consistent
version is :mod:`gdc_core.workfiles`' business.

For an image ``photo.jpg`` the files are (in the folder :mod:`gdc_core.workfiles` names):

- ``photo_mask.png``: the mask, 8-bit indexed PNG, pixel value = class id, 255 = void, class colours embedded;
- ``photo_overlay.png``: optional RGB picture of the mask blended over the image;
- ``photo_scribbles.png``: the scribbles, same format as the mask (255 = no stroke);
- ``photo_classes.json``: the class ids, names and colours, so the session can be resumed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gdc_core import NO_LABEL
from gdc_core.io import ImageReadError, atomic_path, overlay, read_label_map, write_image, write_label_map
from gdc_core.workfiles import WorkPaths, current_files, recover, save_version

from .classes import MAX_CLASSES, LabelClass, colour_table

CLASSES_FORMAT = "gdc-seg classes"
CLASSES_VERSION = 1


class WorkFileError(ValueError):
    """A saved file that cannot be used (unreadable, wrong size, unknown class, malformed class list)."""


@dataclass(frozen=True)
class LoadedWork:
    """What was found on disk: (H, W) uint8 ``scribbles`` and ``mask`` (or None) and the ``classes`` (or None)."""

    scribbles: np.ndarray | None
    mask: np.ndarray | None
    classes: list[LabelClass] | None


def save_classes(path: str | Path, classes: list[LabelClass] | tuple[LabelClass, ...]) -> None:
    """Write the class list as JSON: ``{"format", "version", "classes": [{"id", "name", "colour": "#rrggbb"}]}``."""
    document = {
        "format": CLASSES_FORMAT,
        "version": CLASSES_VERSION,
        "classes": [{"id": c.id, "name": c.name, "colour": "#{:02x}{:02x}{:02x}".format(*c.colour)} for c in classes],
    }
    with atomic_path(path) as temp:
        temp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_classes(path: str | Path) -> list[LabelClass]:
    """Read a class list written by :func:`save_classes`; raises :class:`WorkFileError` naming the problem."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkFileError(f"{path}: not a readable class list ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != CLASSES_FORMAT:
        raise WorkFileError(f"{path}: not a gdc-seg class list (no \"format\": \"{CLASSES_FORMAT}\")")
    classes = []
    try:
        for entry in document["classes"]:
            class_id, name, colour = int(entry["id"]), str(entry["name"]).strip(), str(entry["colour"])
            if not 0 <= class_id < MAX_CLASSES or not name or len(colour) != 7 or not colour.startswith("#"):
                raise ValueError(f"bad class entry {entry!r}")
            classes.append(LabelClass(class_id, name, tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))))
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkFileError(f"{path}: malformed class list ({exc})") from exc
    if len(classes) < 2 or len({c.id for c in classes}) != len(classes):
        raise WorkFileError(f"{path}: a class list needs at least two classes with different ids")
    return classes


def load_label_layer(path: str | Path, shape: tuple[int, int], class_ids: tuple[int, ...] | list[int],
                     what: str) -> np.ndarray:
    """Read a scribble or mask PNG and check it against the image's (H, W) ``shape`` and the known ``class_ids``.

    Raises :class:`WorkFileError` with a message for the user.
    """
    try:
        labels = read_label_map(path)
    except ImageReadError as exc:
        raise WorkFileError(str(exc)) from exc
    if labels.shape != tuple(shape):
        raise WorkFileError(f"{path}: the {what} are {labels.shape[1]}x{labels.shape[0]} pixels but the image is "
                            f"{shape[1]}x{shape[0]}")
    unknown = sorted(set(np.unique(labels).tolist()) - set(class_ids) - {NO_LABEL})
    if unknown:
        raise WorkFileError(f"{path}: the {what} use class value(s) {', '.join(map(str, unknown))}, which are not "
                            f"in the class list ({', '.join(map(str, class_ids))})")
    return labels


def save_work(paths: WorkPaths, *, image: np.ndarray, scribbles: np.ndarray, mask: np.ndarray | None,
              classes: tuple[LabelClass, ...] | list[LabelClass], overlay_alpha: float | None = None) -> list[Path]:
    """Save the class list, the scribbles, the mask (when there is one) and, if ``overlay_alpha`` is given, the
    colour overlay (mask blended over the (H, W, 3) image with that alpha in [0, 1]) as one version
    (:func:`gdc_core.workfiles.save_version`: a mask or overlay of an earlier save is removed when this one has
    none). Returns the files written.

    An error (e.g. a read-only folder) propagates as OSError and leaves the previous version whole.
    """
    table = colour_table(classes)
    writers = {"classes": lambda path: save_classes(path, classes),
               "scribbles": lambda path: write_label_map(path, scribbles, table)}
    if mask is not None:
        writers["mask"] = lambda path: write_label_map(path, mask, table)
        if overlay_alpha is not None:
            writers["overlay"] = lambda path: write_image(path, overlay(image, mask, table, alpha=overlay_alpha))
    return save_version(paths, writers)


def load_work(paths: WorkPaths, shape: tuple[int, int], known_classes: list[LabelClass] | tuple[LabelClass, ...]
              ) -> LoadedWork:
    """Load the class list, scribbles and mask of the last complete save at ``paths`` (an interrupted save is
    finished or dropped first, and its temporary files removed).

    The layers are checked against the saved class list when there is one, else against ``known_classes``.
    Raises :class:`WorkFileError` for a file that exists but cannot be used (nothing is half-loaded).
    """
    recover(paths)
    files = current_files(paths)
    classes = load_classes(files["classes"]) if "classes" in files else None
    ids = [c.id for c in (classes if classes is not None else known_classes)]
    scribbles = load_label_layer(files["scribbles"], shape, ids, "scribbles") if "scribbles" in files else None
    mask = load_label_layer(files["mask"], shape, ids, "mask") if "mask" in files else None
    return LoadedWork(scribbles, mask, classes)


def load_scribbles_file(path: str | Path, shape: tuple[int, int],
                        known_classes: list[LabelClass] | tuple[LabelClass, ...]) -> LoadedWork:
    """Load a scribble PNG chosen by the user, with the class list saved beside it when there is one
    (``<stem>_scribbles.png`` -> ``<stem>_classes.json``). The result has no mask."""
    path = Path(path)
    stem = path.stem[: -len("_scribbles")] if path.stem.endswith("_scribbles") else path.stem
    classes_path = WorkPaths(path.parent, stem).classes
    classes = load_classes(classes_path) if classes_path.is_file() else None
    ids = [c.id for c in (classes if classes is not None else known_classes)]
    return LoadedWork(load_label_layer(path, shape, ids, "scribbles"), None, classes)
