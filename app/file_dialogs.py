"""The window's file and folder dialogs: each asks the user and returns the chosen path, or None when cancelled."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from gdc_core.io import IMAGE_SUFFIXES


def choose_image(parent: QWidget, start: str) -> str | None:
    patterns = " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
    path, _ = QFileDialog.getOpenFileName(parent, "Open image", start, f"Images ({patterns});;All files (*)")
    return path or None


def choose_folder(parent: QWidget, start: str) -> str | None:
    return QFileDialog.getExistingDirectory(parent, "Open a folder of images", start) or None


def choose_save_folder(parent: QWidget, start: Path | None) -> str | None:
    return QFileDialog.getExistingDirectory(parent, "Save the work in folder", str(start or "")) or None


def choose_scribbles(parent: QWidget, start: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Load scribbles", start, "Scribble PNG (*.png);;All files (*)")
    return path or None


def choose_export_folder(parent: QWidget, image_folder: Path) -> str | None:
    """Ask where to export, proposing ``<folder>_masks`` beside the image folder, created beforehand so that the
    dialog can open in it (and removed again, if still empty, when the user picks another or cancels)."""
    proposed = image_folder.parent / f"{image_folder.name}_masks"
    created = False
    try:
        if not proposed.is_dir():
            proposed.mkdir()
            created = True
        start = proposed
    except OSError:  # e.g. a read-only parent: start in the image folder, the user picks or makes one
        start = image_folder
    folder = QFileDialog.getExistingDirectory(parent, "Export the folder's masks into", str(start))
    if created and (not folder or Path(folder).resolve() != proposed.resolve()):
        try:
            proposed.rmdir()  # only when still empty
        except OSError:
            pass
    return folder or None
