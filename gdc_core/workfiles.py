"""Where the saved work on an image lives, and saving it as one consistent version (never imports Qt).

The rule, the same for the app (open, autosave, File > Save), and ``gdc-seg batch``:

- the work on ``FOLDER/photo.jpg`` lives in ``FOLDER/gdc-seg/`` (:func:`work_folder`), or, when a work root is
  set (the app's Settings > Work folder), in ``ROOT/<FOLDER's name>/``;
- the files there are ``photo_scribbles.png`` and ``photo_mask.png`` (8-bit indexed PNGs, value = class id,
  255 = none), ``photo_classes.json`` (the class list) and, when asked for, ``photo_overlay.png`` (RGB picture);
  a stem too long for these names is shortened the same way for every file of the image
  (:func:`gdc_core.io.fit_stem`), so each is found from the others and from the image;
- work saved by older versions is still found (:func:`search_folders`): in ``FOLDER/gdc-seg/`` when a work root
  is set, then beside the image itself (``FOLDER/photo_scribbles.png`` ...). The first folder holding work wins;
  the next save goes to :func:`work_folder`;
- side files (``<stem>_scribbles.png``, ``<stem>_mask.png``, ``<stem>_overlay.png`` next to an image ``<stem>.*``)
  are never listed as images (:func:`list_images`).

A save is one version (:func:`save_version`): every file of the set is written into a staging folder
``.photo.saving/`` beside them, then a manifest naming the set is written there last, then the files are moved
into place one by one and the files the set does not have (e.g. a mask the user undid) are removed. A crash or
kill before the manifest leaves the previous version untouched (the staging folder is dropped at the next open);
a crash after it is rolled forward at the next open (:func:`recover`), so the files always come from one save.
Readers that must not write (the batch) see the same version through :func:`current_files`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .io import IMAGE_SUFFIXES, TEMP_SUFFIX, atomic_path, fit_stem, temp_prefix

WORK_FOLDER_NAME = "gdc-seg"
KINDS = ("classes", "scribbles", "mask", "overlay")
"""The files of one image's work, by kind; their names are ``<fit_stem(stem)>_<kind><suffix>``."""
_SUFFIXES = {"classes": ".json", "scribbles": ".png", "mask": ".png", "overlay": ".png"}
MANIFEST_FORMAT = "gdc-seg saved work"
MANIFEST_VERSION = 1
_MANIFEST = "manifest.json"
_SIDE_FILE = re.compile(r"^(?P<stem>.+)_(?:scribbles|mask|overlay)\.png$", re.IGNORECASE)
_save_lock = threading.Lock()  # one save or recovery at a time in this process (autosave thread, File > Save)


class WorkSaveError(OSError):
    """A save that could not be completed; the previous version is then still the one on disk."""


@dataclass(frozen=True)
class WorkPaths:
    """The files of one image's work: ``folder / <stem>_<kind>.<suffix>`` for each kind of :data:`KINDS` (``stem``
    is the image's; names use it shortened when too long: :attr:`name_stem`)."""

    folder: Path
    stem: str

    @classmethod
    def beside(cls, image_path: str | os.PathLike, folder: str | os.PathLike | None = None) -> "WorkPaths":
        """The work files of ``image_path`` in ``folder`` (default: the image's own folder)."""
        image_path = Path(image_path)
        return cls(Path(folder) if folder is not None else image_path.parent, image_path.stem)

    @property
    def name_stem(self) -> str:
        """The start of every file name derived from the image: its stem, shortened when too long for them
        (:func:`gdc_core.io.fit_stem`)."""
        return fit_stem(self.stem)

    def name(self, kind: str) -> str:
        if kind not in _SUFFIXES:
            raise ValueError(f"unknown kind of work file {kind!r} (one of {', '.join(KINDS)})")
        return f"{self.name_stem}_{kind}{_SUFFIXES[kind]}"

    def path(self, kind: str) -> Path:
        return self.folder / self.name(kind)

    @property
    def classes(self) -> Path:
        return self.path("classes")

    @property
    def scribbles(self) -> Path:
        return self.path("scribbles")

    @property
    def mask(self) -> Path:
        return self.path("mask")

    @property
    def overlay(self) -> Path:
        return self.path("overlay")

    @property
    def staging(self) -> Path:
        """The folder a save is written into before it is moved into place."""
        return self.folder / f".{self.name_stem}.saving"

    @property
    def export_marker(self) -> Path:
        """The marker the app's folder export leaves for the image (holding the exported mask's path)."""
        return self.folder / f"{self.name_stem}.exported"


def work_folder(image_folder: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """Where the work on the images of ``image_folder`` is saved: ``<image_folder>/gdc-seg``, or
    ``<root>/<image_folder's name>`` when a work root is given."""
    image_folder = Path(image_folder).resolve()
    return Path(root) / image_folder.name if root else image_folder / WORK_FOLDER_NAME


def search_folders(image_folder: str | os.PathLike, root: str | os.PathLike | None = None) -> list[Path]:
    """Where work on the images of ``image_folder`` is looked for, in order: :func:`work_folder`, then the places
    older versions saved it (``<image_folder>/gdc-seg`` when a root is set, then beside the image)."""
    image_folder = Path(image_folder).resolve()
    folders = [work_folder(image_folder, root), work_folder(image_folder), image_folder]
    return list(dict.fromkeys(folders))


def _manifest(paths: WorkPaths) -> list[str] | None:
    """The file names of a complete staged save of ``paths``, or None when there is none (or it is unreadable)."""
    try:
        document = json.loads((paths.staging / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        return None
    names = document.get("files")
    valid = {paths.name(kind) for kind in KINDS}
    if not isinstance(names, list) or not set(names) <= valid:
        return None
    return names


def current_files(paths: WorkPaths) -> dict[str, Path]:
    """The files of the last complete save, by kind (only the kinds it has), without changing anything on disk.

    A save that was interrupted after its manifest was written counts (its files are read from the staging folder
    where they were not moved yet); one interrupted before does not.
    """
    names = _manifest(paths)
    if names is None:
        return {kind: paths.path(kind) for kind in KINDS if paths.path(kind).is_file()}
    files = {}
    for kind in KINDS:
        if paths.name(kind) in names:
            staged = paths.staging / paths.name(kind)
            files[kind] = staged if staged.is_file() else paths.path(kind)
    return files


def has_work(paths: WorkPaths) -> bool:
    """True when the last complete save at ``paths`` has scribbles or a mask."""
    files = current_files(paths)
    return "scribbles" in files or "mask" in files


def find_work(stem: str, folders: Iterable[str | os.PathLike]) -> WorkPaths | None:
    """The work of the image named ``stem`` in the first of ``folders`` that holds some; None when none does."""
    for folder in folders:
        paths = WorkPaths(Path(folder), stem)
        if has_work(paths):
            return paths
    return None


def _sync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where the platform allows opening a folder)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _commit(paths: WorkPaths, names: list[str]) -> None:
    """Move a complete staged save into place and remove the files it does not have (repeatable after a crash)."""
    for kind in KINDS:
        name, target = paths.name(kind), paths.path(kind)
        if name in names:
            staged = paths.staging / name
            if staged.is_file():
                os.replace(staged, target)
        else:
            target.unlink(missing_ok=True)
    _sync_folder(paths.folder)
    (paths.staging / _MANIFEST).unlink(missing_ok=True)
    shutil.rmtree(paths.staging, ignore_errors=True)


def _remove_stray_temps(paths: WorkPaths) -> None:
    """Temporary files an interrupted atomic write of one of these files left in the folder itself
    (:func:`gdc_core.io.atomic_path`'s names: ``.<name>.XXXXXXXX.tmp``)."""
    for kind in KINDS:
        for temp in paths.folder.glob(f"{glob_escape(temp_prefix(paths.name(kind)))}*{TEMP_SUFFIX}"):
            temp.unlink(missing_ok=True)


def glob_escape(text: str) -> str:
    """``text`` with the glob characters ``*?[`` made literal."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def recover(paths: WorkPaths) -> None:
    """Finish or drop an interrupted save of ``paths`` and remove its temporary files (call before loading).

    A staged save with its manifest is moved into place; one without is deleted. Errors (a read-only folder) are
    ignored: :func:`current_files` still reads the right version.
    """
    with _save_lock:
        try:
            if paths.staging.is_dir():
                names = _manifest(paths)
                if names is None:
                    shutil.rmtree(paths.staging, ignore_errors=True)
                else:
                    _commit(paths, names)
            if paths.folder.is_dir():
                _remove_stray_temps(paths)
        except OSError:
            pass


def save_version(paths: WorkPaths, writers: Mapping[str, Callable[[Path], None]]) -> list[Path]:
    """Save one version of the work: ``writers[kind](path)`` writes the file of that kind at ``path``; kinds left
    out are removed (a mask the user undid must not come back). Returns the final paths, in :data:`KINDS` order.

    Atomic as a set: until the manifest is written the previous version stays whole; once it is, this save is the
    one every reader sees. Raises OSError (the previous version is then kept and no temporary file is left).
    """
    unknown = set(writers) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kind(s) of work file: {', '.join(sorted(unknown))}")
    names = [paths.name(kind) for kind in KINDS if kind in writers]
    with _save_lock:
        paths.folder.mkdir(parents=True, exist_ok=True)
        if paths.staging.is_dir():  # an earlier interrupted save: finish it or drop it first
            previous = _manifest(paths)
            if previous is None:
                shutil.rmtree(paths.staging)
            else:
                _commit(paths, previous)
        paths.staging.mkdir()
        try:
            for kind in KINDS:
                if kind in writers:
                    writers[kind](paths.staging / paths.name(kind))
            manifest = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "image": paths.stem, "files": names}
            with atomic_path(paths.staging / _MANIFEST) as temp:  # ASCII: \u escapes keep undecodable names exact
                temp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        except BaseException:
            shutil.rmtree(paths.staging, ignore_errors=True)
            raise
        _sync_folder(paths.staging)
        _commit(paths, names)
    return [paths.path(kind) for kind in KINDS if kind in writers]


def natural_key(name: str) -> list:
    """Sort key putting ``img2`` before ``img10`` (case-insensitive)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def side_file_stem(name: str) -> str | None:
    """The image stem a work file name belongs to (``photo_mask.png`` -> ``photo``; for a long stem, as shortened
    in the names: :attr:`WorkPaths.name_stem`); None for other names."""
    match = _SIDE_FILE.match(name)
    return match.group("stem") if match else None


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The images directly in ``folder`` (suffix in IMAGE_SUFFIXES, case-insensitive; not hidden) in natural order,
    without the side files of another image there (``photo_scribbles.png`` beside ``photo.jpg``). Raises OSError
    when the folder cannot be read."""
    files = [p for p in Path(folder).iterdir()
             if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()]
    stems = {fit_stem(p.stem) for p in files}
    images = [p for p in files if side_file_stem(p.name) not in stems]
    return sorted(images, key=lambda p: natural_key(p.name))
