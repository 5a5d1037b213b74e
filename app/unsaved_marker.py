"""The status-bar label that says whether the current image's work is saved (by :class:`app.autosave.Autosave`)."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel

from .autosave import Autosave


class UnsavedMarker(QLabel):
    """A status-bar label: empty while the work is saved, "Unsaved" while changes wait, red after a failure."""

    def __init__(self, autosave: Autosave):
        super().__init__()
        self._autosave = autosave
        autosave.dirty_changed.connect(self._update)
        autosave.failed.connect(lambda message: self._update(True))
        self._update(False)

    def _update(self, dirty: bool) -> None:
        failed = self._autosave.last_error is not None
        if failed:
            self.setText(" Unsaved: save failed ")
            self.setStyleSheet("color: white; background: #c0392b; font-weight: bold;")
            self.setToolTip(self._autosave.last_error)
        elif dirty:
            self.setText(" Unsaved ")
            self.setStyleSheet("color: #b9770e;")
            self.setToolTip("Changes are saved a moment after the last edit")
        else:
            self.setText(" Saved " if self._autosave.active else "")
            self.setStyleSheet("color: #1e8449;")
            self.setToolTip("")
