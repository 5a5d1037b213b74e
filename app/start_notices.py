"""What the window says once it is up, before the user starts: that the backbone is untrained and how to give it
ImageNet weights (the first such start only; the status bar keeps a warning), that a weights file kept in
Settings failed, and, when gdc-seg started without an argument, an offer to reopen the folder worked on last.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMainWindow, QMessageBox

from gdc_core.backbone import torchvision_weights_file, torchvision_weights_url


def untrained_backbone_text() -> str:
    """What to do when no ImageNet weights were found (rich text)."""
    url = torchvision_weights_url()
    return ("gdc-seg found no ImageNet weights for its MobileNetV2 stem and uses an offline filter-bank stem "
            "instead: masks will be less accurate.<br><br>"
            f"To fix it, download <b>{url.rsplit('/', 1)[1]}</b> (14 MB) from <a href='{url}'>{url}</a>, then "
            "either<ul><li>choose the file in <b>File &gt; Settings… &gt; Backbone weights</b> (kept for every "
            "session), or</li><li>start <tt>gdc-seg --backbone-weights FILE</tt>, or</li>"
            f"<li>put it in <tt>{torchvision_weights_file().parent}</tt>.</li></ul>"
            "Restart gdc-seg to use it.")


def show_start_notices(window: QMainWindow, kept_weights_problem: str | None = None, *,
                       offer_last_folder: bool = False) -> None:
    """Show the start-up notices for ``window`` (a MainWindow: its session's settings and segmenter)."""
    session = window.session
    settings = session.settings
    if kept_weights_problem is not None:
        QMessageBox.warning(window, "Backbone weights not used", kept_weights_problem)
    elif session.runs.segmenter.stem.warning and not settings.untrained_notice_shown:
        settings.untrained_notice_shown = True
        QMessageBox.information(window, "Untrained backbone", untrained_backbone_text())
    last = settings.last_image_folder
    if offer_last_folder and last and Path(last).is_dir() and session.folder_session is None:
        answer = QMessageBox.question(window, "Reopen last folder", f"Carry on with the folder you worked on last?"
                                      f"\n\n{last}\n\n(File > Reopen last folder, Ctrl+Shift+U, does it later.)",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.Yes)
        if answer == QMessageBox.StandardButton.Yes:
            session.open_folder(last)
