"""Opening an image with its saved work and saving that work: the single place the window, folder navigation and
autosave go through. No widgets here; errors are raised for the caller to show.

Where the work lives is :mod:`gdc_core.workfiles`' rule (``<image folder>/gdc-seg/``, or ``<work root>/<image
folder's name>/`` when Settings > Work folder is set), with one exception: the bundled sample sits in a folder
that is read-only in an installed build, so its work goes to ``<Documents>/gdc-seg``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QStandardPaths

from gdc_core import NO_LABEL
from gdc_core.io import open_image
from gdc_core.workfiles import find_work, recover, search_folders, work_folder

from .document import AnnotationDocument
from .exporting import WorkFileError, WorkPaths, load_work, save_work
from .palette import LabelClass, LabelPalette, default_colour
from .resources import resources_dir


def _is_bundled(image_path: Path) -> bool:
    return image_path.resolve().parent == resources_dir().resolve()


def _sample_work_folder() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents or Path.home()) / "gdc-seg"


def default_output_folder(image_path: str | Path, root: str | Path | None = None) -> Path:
    """Where the work on ``image_path`` is saved: :func:`gdc_core.workfiles.work_folder` of its folder (``root``:
    the work root of Settings, if any), or ``<Documents>/gdc-seg`` for the bundled sample."""
    image_path = Path(image_path)
    return _sample_work_folder() if _is_bundled(image_path) else work_folder(image_path.parent, root)


def work_search_folders(image_path: str | Path, root: str | Path | None = None) -> list[Path]:
    """Where saved work on ``image_path`` is looked for, first match wins (see
    :func:`gdc_core.workfiles.search_folders`); the bundled sample's only in its own work folder (the scribbles
    bundled beside it are an example, not saved work)."""
    image_path = Path(image_path)
    return [_sample_work_folder()] if _is_bundled(image_path) else search_folders(image_path.parent, root)


def open_document(image_path: str | Path, palette: LabelPalette, root: str | Path | None = None
                  ) -> tuple[AnnotationDocument, str | None]:
    """Read an image and resume its saved work (scribbles, mask, classes) from the first of
    :func:`work_search_folders` holding some (an interrupted save there is finished or dropped first).

    A JPEG above the pixel limit is decoded reduced (:func:`gdc_core.io.open_image`); the document's ``full_size``
    then tells. Returns the document and a warning for the user when saved work exists but could not be used (the image still
    opens; the files stay untouched until the next save). Raises gdc_core.io.ImageReadError for a bad image.
    The palette takes the saved class list, if any.
    """
    decoded = open_image(image_path)
    document = AnnotationDocument(decoded.pixels, image_path, full_size=decoded.full_size)
    recover(WorkPaths.beside(image_path, default_output_folder(image_path, root)))  # even with nothing saved yet
    paths = find_work(Path(image_path).stem, work_search_folders(image_path, root))
    if paths is None:
        return document, None
    try:
        work = load_work(paths, document.shape, palette.classes())
    except WorkFileError as exc:
        return document, f"The saved work of this image was not loaded: {exc}. Saving will replace it."
    scribbles = work.scribbles if work.scribbles is not None else document.scribbles
    document.replace_work(scribbles, work.mask, palette=palette, classes=work.classes, text="Resume saved work")
    document.undo_stack.clear()
    return document, None


def classes_to_save(document: AnnotationDocument, palette: LabelPalette) -> list[LabelClass]:
    """The palette's classes, plus a default entry for any id the layers use that the palette no longer has (e.g. a
    class removed after it was predicted), so that every saved file can be loaded again."""
    return complete_classes(palette.classes(), document.scribbles, document.mask)


def complete_classes(classes, scribbles: np.ndarray, mask: np.ndarray | None) -> list[LabelClass]:
    """``classes`` plus a default entry for every id the layers use that is not among them (no Qt: thread-safe)."""
    classes = list(classes)
    used = set(np.unique(scribbles).tolist())
    if mask is not None:
        used |= set(np.unique(mask).tolist())
    missing = sorted(used - {c.id for c in classes} - {NO_LABEL})
    return classes + [LabelClass(class_id, f"class {class_id}", default_colour(class_id)) for class_id in missing]


@dataclass(frozen=True)
class WorkSnapshot:
    """A copy of one image's work, taken on the GUI thread, that :func:`write_snapshot` can save on another."""

    paths: WorkPaths
    image: np.ndarray
    scribbles: np.ndarray
    mask: np.ndarray | None
    classes: tuple[LabelClass, ...]
    overlay_alpha: float | None = None


def snapshot_work(document: AnnotationDocument, palette: LabelPalette, folder: str | Path,
                  overlay_alpha: float | None = None) -> WorkSnapshot:
    """Copy the scribbles, the mask and the class list as File > Save would save them now (a few tens of
    milliseconds at 24 MP): a prediction on screen that was not accepted yet is saved as the mask, without
    accepting it. ``overlay_alpha``: also save the colour overlay, blended with that alpha in [0, 1]."""
    if document.path is None:
        raise ValueError("this image has no file name to name its work after")
    shown = document.prediction.labels if document.prediction is not None else document.mask
    mask = shown.copy() if shown is not None else None
    return WorkSnapshot(WorkPaths.beside(document.path, folder), document.image, document.scribbles.copy(), mask,
                        tuple(palette.classes()), overlay_alpha)


def write_snapshot(snapshot: WorkSnapshot) -> list[Path]:
    """Save a :class:`WorkSnapshot` (atomic writes; raises OSError). Touches no Qt object: runs on any thread."""
    classes = complete_classes(snapshot.classes, snapshot.scribbles, snapshot.mask)
    return save_work(snapshot.paths, image=snapshot.image, scribbles=snapshot.scribbles, mask=snapshot.mask,
                     classes=classes, overlay_alpha=snapshot.overlay_alpha)


def save_document(document: AnnotationDocument, palette: LabelPalette, folder: str | Path | None = None,
                  overlay_alpha: float | None = None, accept_prediction: bool = True,
                  root: str | Path | None = None) -> list[Path]:
    """Save the document's work (see :mod:`exporting`) in ``folder`` (default: :func:`default_output_folder` with
    the work ``root``).

    A prediction on screen that was not accepted yet is accepted first (one undo step): what is shown is saved.
    Autosave passes ``accept_prediction=False``: the prediction on screen is then saved as the mask all the same,
    but stays a proposal in the document until the user accepts it (or leaves the image, which saves with the
    default).
    Returns the files written; raises OSError when a file cannot be written (the files already on disk are
    then unchanged or completely replaced, never half-written).
    """
    if document.path is None:
        raise ValueError("this image has no file name to name its work after")
    if accept_prediction and document.prediction is not None:
        document.accept_prediction()
    mask = document.prediction.labels if document.prediction is not None else document.mask
    folder = folder if folder is not None else default_output_folder(document.path, root)
    paths = WorkPaths.beside(document.path, folder)
    written = save_work(paths, image=document.image, scribbles=document.scribbles, mask=mask,
                        classes=classes_to_save(document, palette), overlay_alpha=overlay_alpha)
    document.undo_stack.setClean()
    return written
