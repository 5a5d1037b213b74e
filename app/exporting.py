"""The one place that names, saves and loads the work on an image. Every write is atomic (gdc_core.io).

For an image ``photo.jpg`` the files are, in the chosen folder (by default the image's own):

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
from gdc_core.io import (ImageReadError, atomic_path, fit_stem, overlay, read_label_map, write_image,
                         write_label_map)

from .palette import MAX_CLASSES, LabelClass, colour_table

CLASSES_FORMAT = "gdc-seg classes"
CLASSES_VERSION = 1


class WorkFileError(ValueError):
    """A saved file that cannot be used (unreadable, wrong size, unknown class, malformed class list)."""


@dataclass(frozen=True)
class WorkPaths:
    """The files of one image's work: ``folder`` / ``<stem>_mask.png`` and friends (a stem too long for that is
    shortened, the same way for every file: :func:`gdc_core.io.fit_stem`)."""

    folder: Path
    stem: str

    @classmethod
    def beside(cls, image_path: str | Path, folder: str | Path | None = None) -> "WorkPaths":
        """The work files of ``image_path``, in ``folder`` (default: the image's folder)."""
        image_path = Path(image_path)
        return cls(Path(folder) if folder is not None else image_path.parent, image_path.stem)

    @property
    def mask(self) -> Path:
        return self.folder / f"{fit_stem(self.stem)}_mask.png"

    @property
    def overlay(self) -> Path:
        return self.folder / f"{fit_stem(self.stem)}_overlay.png"

    @property
    def scribbles(self) -> Path:
        return self.folder / f"{fit_stem(self.stem)}_scribbles.png"

    @property
    def classes(self) -> Path:
        return self.folder / f"{fit_stem(self.stem)}_classes.json"


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
    colour overlay (mask blended over the (H, W, 3) image with that alpha in [0, 1]). Returns the files written.

    Each file is replaced atomically; an error (e.g. a read-only folder) propagates as OSError.
    """
    table = colour_table(classes)
    written = [paths.classes, paths.scribbles]
    save_classes(paths.classes, classes)
    write_label_map(paths.scribbles, scribbles, table)
    if mask is not None:
        write_label_map(paths.mask, mask, table)
        written.append(paths.mask)
        if overlay_alpha is not None:
            write_image(paths.overlay, overlay(image, mask, table, alpha=overlay_alpha))
            written.append(paths.overlay)
    return written


def load_work(paths: WorkPaths, shape: tuple[int, int], known_classes: list[LabelClass] | tuple[LabelClass, ...]
              ) -> LoadedWork:
    """Load whatever of the class list, scribbles and mask exists at ``paths``.

    The layers are checked against the saved class list when there is one, else against ``known_classes``.
    Raises :class:`WorkFileError` for a file that exists but cannot be used (nothing is half-loaded).
    """
    classes = load_classes(paths.classes) if paths.classes.is_file() else None
    ids = [c.id for c in (classes if classes is not None else known_classes)]
    scribbles = load_label_layer(paths.scribbles, shape, ids, "scribbles") if paths.scribbles.is_file() else None
    mask = load_label_layer(paths.mask, shape, ids, "mask") if paths.mask.is_file() else None
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


def has_work(paths: WorkPaths) -> bool:
    """True when saved scribbles or a saved mask exist at ``paths``."""
    return paths.scribbles.is_file() or paths.mask.is_file()
