"""A folder of images worked through one after another: the image list, each image's status, its sidecar files,
and exporting the whole folder. No widgets here (testable alone).

Sidecar layout (:func:`gdc_core.workfiles.work_folder`: ``<folder>/gdc-seg/``, or ``<work root>/<folder's
name>/``), one set of files per image ``photo.jpg``:

- ``photo_scribbles.png``: the scribbles (indexed PNG, value = class id, 255 = no stroke);
- ``photo_mask.png``: the accepted mask (same format), when there is one;
- ``photo_classes.json``: the class list (ids, names, colours) the two PNGs were saved with;
- ``photo.exported``: a marker written by :meth:`FolderSession.export`, holding the exported mask's path.

Work saved where older versions put it (:func:`gdc_core.workfiles.search_folders`: beside the image, or in
``<folder>/gdc-seg/`` while a work root is set) counts too, until the next save moves it to the sidecar folder.

The class list is kept per image, not per folder: each image's files are then complete on their own (a class
renamed or removed while on image 40 cannot make image 3's saved values unreadable), and the files are exactly the
ones :mod:`app.exporting` writes beside a single image, so :func:`app.work_io.open_document` and
:func:`app.work_io.save_document` serve both. The session carries the current class list on to the next image, so
in practice every image of a folder has the same list; the export merges them into one ``classes.json``.

Status, derived from which files exist: *untouched* (nothing saved), *scribbled* (scribbles, no mask),
*segmented* (a mask), *exported* (a mask and an export marker no older than it).

Export writes ``<out>/<image stem>.png`` (indexed, value = class index, the class colours with VOC colours for the
rest embedded) and ``<out>/classes.json``, and on request the dataset formats of :mod:`gdc_core.export` (COCO,
YOLO). Two images with the same stem (``a.png`` and ``a.jpg``) would share
sidecar files: the list keeps the first in natural order and reports the others in :attr:`FolderSession.skipped`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from PIL import Image

from gdc_core.export import export_masks
from gdc_core.io import atomic_path, fit_name, write_label_map
from gdc_core.workfiles import current_files, find_work, list_images, search_folders, work_folder

from .exporting import WorkFileError, WorkPaths, load_classes, load_label_layer, save_classes
from .classes import LabelClass, colour_table


UNTOUCHED, SCRIBBLED, SEGMENTED, EXPORTED = "untouched", "scribbled", "segmented", "exported"
STATUSES = (UNTOUCHED, SCRIBBLED, SEGMENTED, EXPORTED)
UNFINISHED = (UNTOUCHED, SCRIBBLED)


@dataclass
class ExportReport:
    """What :meth:`FolderSession.export` did: masks written, images without a mask, problems (one line each)."""

    written: list[Path] = field(default_factory=list)
    without_mask: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    classes_path: Path | None = None
    dataset_files: list[Path] = field(default_factory=list)


class FolderSession:
    """The images of ``folder`` and where their work lives (``sidecar``: :func:`gdc_core.workfiles.work_folder`
    with the work ``root``; ``search``: where saved work is looked for, first match wins)."""

    def __init__(self, folder: str | Path, root: str | Path | None = None):
        self.folder = Path(folder).resolve()
        if not self.folder.is_dir():
            raise NotADirectoryError(f"{self.folder}: no such folder")
        self.sidecar = work_folder(self.folder, root).resolve()
        self.search = search_folders(self.folder, root)
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
        """Where the next save of ``image``'s work goes."""
        return WorkPaths.beside(image, self.sidecar)

    def saved_work(self, image: str | Path) -> dict[str, Path]:
        """The files of ``image``'s last complete save, by kind (empty when there is none)."""
        paths = find_work(Path(image).stem, self.search)
        return current_files(paths) if paths is not None else {}

    def export_marker(self, image: str | Path) -> Path:
        return self.work_paths(image).export_marker

    def status(self, image: str | Path) -> str:
        files = self.saved_work(image)
        if "mask" in files:
            marker = self.export_marker(image)
            try:
                if marker.is_file() and marker.stat().st_mtime_ns >= files["mask"].stat().st_mtime_ns:
                    return EXPORTED
            except OSError:  # moved into place by a save right now
                pass
            return SEGMENTED
        return SCRIBBLED if "scribbles" in files else UNTOUCHED

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

    def export(self, out: str | Path, formats: Iterable[str] = ()) -> ExportReport:
        """Write every image's saved mask as ``<out>/<stem>.png`` and the merged class list as ``<out>/classes.json``,
        and the dataset ``formats`` asked for (:func:`gdc_core.export.export_masks`: ``coco.json`` with the class
        names, ``yolo/<stem>.txt``) from the masks written.

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
        written: list[tuple[Path, Path]] = []
        for image in self.images:
            files = self.saved_work(image)
            if "mask" not in files:
                report.without_mask.append(image.name)
                continue
            try:
                classes = load_classes(files.get("classes", self.work_paths(image).classes))
                with Image.open(files["mask"]) as probe:  # the size only: the mask is checked on its own
                    shape = (probe.height, probe.width)
                mask = load_label_layer(files["mask"], shape, [c.id for c in classes], "mask")
            except (WorkFileError, OSError, Image.DecompressionBombError) as exc:  # bomb: above Pillow's limit
                report.problems.append(f"{image.name}: {exc}")
                continue
            for entry in classes:
                known = merged.setdefault(entry.id, entry)
                if known.name != entry.name:
                    report.problems.append(f"{image.name}: class {entry.id} is named {entry.name!r} here but "
                                           f"{known.name!r} elsewhere; classes.json keeps {known.name!r}")
            target = out / fit_name(image.stem, ".png")  # as gdc-seg batch names its masks
            write_label_map(target, mask, colour_table(classes))
            with atomic_path(self.export_marker(image)) as temp:
                temp.write_text(str(target) + "\n", encoding="utf-8")
            report.written.append(target)
            written.append((image, target))
        if merged:
            report.classes_path = out / "classes.json"
            save_classes(report.classes_path, [merged[k] for k in sorted(merged)])
        pairs = [(image.name, target) for image, target in written]
        report.dataset_files = export_masks(pairs, out, formats, {k: c.name for k, c in merged.items()})
        return report
