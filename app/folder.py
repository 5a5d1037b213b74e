"""A folder of images worked through one after another: the image list, each image's status, its sidecar files,
and exporting the whole folder. No widgets here (testable alone).

Sidecar layout (default ``<folder>/gdc-seg/``, configurable), one set of files per image ``photo.jpg``:

- ``photo_scribbles.png``: the scribbles (indexed PNG, value = class id, 255 = no stroke);
- ``photo_mask.png``: the accepted mask (same format), when there is one;
- ``photo_classes.json``: the class list (ids, names, colours) the two PNGs were saved with;
- ``photo.exported``: a marker written by :meth:`FolderSession.export`, holding the exported mask's path.

The class list is kept per image, not per folder: each image's files are then complete on their own (a class
renamed or removed while on image 40 cannot make image 3's saved values unreadable), and the files are exactly the
ones :mod:`app.exporting` writes beside a single image, so :func:`app.session.open_document` and
:func:`app.session.save_document` serve both. The window carries the current class list on to the next image, so
in practice every image of a folder has the same list; the export merges them into one ``classes.json``.

Status, derived from which files exist: *untouched* (nothing saved), *scribbled* (scribbles, no mask),
*segmented* (a mask), *exported* (a mask and an export marker no older than it).

Export writes ``<out>/<image stem>.png`` (indexed, value = class index, the class colours with VOC colours for the
rest embedded) and ``<out>/classes.json``. Two images with the same stem (``a.png`` and ``a.jpg``) would share
sidecar files: the list keeps the first in natural order and reports the others in :attr:`FolderSession.skipped`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from gdc_core.io import IMAGE_SUFFIXES, atomic_path, fit_stem, write_label_map

from .exporting import WorkFileError, WorkPaths, load_classes, load_label_layer, save_classes
from .palette import LabelClass, colour_table

SIDECAR_NAME = "gdc-seg"

UNTOUCHED, SCRIBBLED, SEGMENTED, EXPORTED = "untouched", "scribbled", "segmented", "exported"
STATUSES = (UNTOUCHED, SCRIBBLED, SEGMENTED, EXPORTED)
UNFINISHED = (UNTOUCHED, SCRIBBLED)


def natural_key(name: str) -> list:
    """Sort key putting ``img2`` before ``img10`` (case-insensitive)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_images(folder: str | Path) -> list[Path]:
    """The image files directly in ``folder`` (by suffix, case-insensitive), in natural order."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
             and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


@dataclass
class ExportReport:
    """What :meth:`FolderSession.export` did: masks written, images without a mask, problems (one line each)."""

    written: list[Path] = field(default_factory=list)
    without_mask: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    classes_path: Path | None = None


class FolderSession:
    """The images of ``folder`` and where their work lives (``sidecar``, default ``<folder>/gdc-seg``)."""

    def __init__(self, folder: str | Path, sidecar: str | Path | None = None):
        self.folder = Path(folder).resolve()
        if not self.folder.is_dir():
            raise NotADirectoryError(f"{self.folder}: no such folder")
        self.sidecar = Path(sidecar).resolve() if sidecar else self.folder / SIDECAR_NAME
        self.images: list[Path] = []
        self.skipped: list[Path] = []
        self.rescan()

    def rescan(self) -> None:
        """Read the folder's image list again."""
        seen: set[str] = set()
        self.images, self.skipped = [], []
        for path in list_images(self.folder):
            (self.skipped if path.stem in seen else self.images).append(path)
            seen.add(path.stem)

    def __len__(self) -> int:
        return len(self.images)

    def index_of(self, path: str | Path) -> int:
        """The list position of ``path``; -1 when it is not in the list."""
        try:
            return self.images.index(Path(path).resolve())
        except ValueError:
            return -1

    def work_paths(self, image: str | Path) -> WorkPaths:
        return WorkPaths.beside(image, self.sidecar)

    def export_marker(self, image: str | Path) -> Path:
        return self.sidecar / f"{fit_stem(Path(image).stem)}.exported"

    def status(self, image: str | Path) -> str:
        paths = self.work_paths(image)
        if paths.mask.is_file():
            marker = self.export_marker(image)
            if marker.is_file() and marker.stat().st_mtime_ns >= paths.mask.stat().st_mtime_ns:
                return EXPORTED
            return SEGMENTED
        return SCRIBBLED if paths.scribbles.is_file() else UNTOUCHED

    def statuses(self) -> dict[Path, str]:
        return {image: self.status(image) for image in self.images}

    def neighbour(self, current: str | Path | None, step: int, unfinished_only: bool = False) -> Path | None:
        """The image ``step`` (+1 / -1) places from ``current`` (skipping finished ones when asked); None at an end."""
        index = self.index_of(current) if current is not None else -1
        if index < 0:
            index = -1 if step > 0 else len(self.images)
        index += step
        while 0 <= index < len(self.images):
            image = self.images[index]
            if not unfinished_only or self.status(image) in UNFINISHED:
                return image
            index += step
        return None

    def export(self, out: str | Path) -> ExportReport:
        """Write every image's saved mask as ``<out>/<stem>.png`` and the merged class list as ``<out>/classes.json``.

        Each file is written atomically; an image whose files cannot be used is reported and skipped. Raises
        OSError when the output folder cannot be created or written, ValueError when it is the image folder or
        the sidecar folder (``<stem>.png`` there would replace images or work files).
        """
        out = Path(out).resolve()
        if out in (self.folder, self.sidecar):
            raise ValueError(f"{out}: choose another folder for the exported masks (they would replace the "
                             f"{'images' if out == self.folder else 'saved work'} there)")
        out.mkdir(parents=True, exist_ok=True)
        report = ExportReport()
        merged: dict[int, LabelClass] = {}
        for image in self.images:
            paths = self.work_paths(image)
            if not paths.mask.is_file():
                report.without_mask.append(image.name)
                continue
            try:
                classes = load_classes(paths.classes)
                with Image.open(paths.mask) as probe:  # the size only: the mask is checked on its own
                    shape = (probe.height, probe.width)
                mask = load_label_layer(paths.mask, shape, [c.id for c in classes], "mask")
            except (WorkFileError, OSError) as exc:
                report.problems.append(f"{image.name}: {exc}")
                continue
            for entry in classes:
                known = merged.setdefault(entry.id, entry)
                if known.name != entry.name:
                    report.problems.append(f"{image.name}: class {entry.id} is named {entry.name!r} here but "
                                           f"{known.name!r} elsewhere; classes.json keeps {known.name!r}")
            target = out / f"{image.stem}.png"
            write_label_map(target, mask, colour_table(classes))
            with atomic_path(self.export_marker(image)) as temp:
                temp.write_text(str(target) + "\n", encoding="utf-8")
            report.written.append(target)
        if merged:
            report.classes_path = out / "classes.json"
            save_classes(report.classes_path, [merged[k] for k in sorted(merged)])
        return report
