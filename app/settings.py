"""Preferences kept between sessions in QSettings: an INI file (organisation and application ``gdc-seg``) in the
user's configuration folder on every platform.

Typed accessors with defaults, so a missing or garbled value never breaks the app. Tests point QSettings at a
temporary folder (see tests/app/conftest.py).
"""
from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANISATION = "gdc-seg"
APPLICATION = "gdc-seg"


class AppSettings:
    """The app's preferences. Each property reads and writes QSettings immediately."""

    def __init__(self) -> None:
        self._store = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)

    def _int(self, key: str, default: int, low: int, high: int) -> int:
        try:
            value = int(self._store.value(key, default))
        except (TypeError, ValueError):
            return default
        return min(high, max(low, value))

    def _bool(self, key: str, default: bool) -> bool:
        value = self._store.value(key, default)
        return value.lower() == "true" if isinstance(value, str) else bool(value)

    @property
    def brush_size(self) -> int:
        """Brush diameter in image pixels."""
        return self._int("brush/size", 12, 1, 512)

    @brush_size.setter
    def brush_size(self, value: int) -> None:
        self._store.setValue("brush/size", int(value))

    @property
    def overlay_opacity(self) -> int:
        """Mask overlay opacity in percent."""
        return self._int("view/overlay_opacity", 50, 0, 100)

    @overlay_opacity.setter
    def overlay_opacity(self, value: int) -> None:
        self._store.setValue("view/overlay_opacity", int(value))

    @property
    def auto_segment(self) -> bool:
        """Run a segmentation after every stroke."""
        return self._bool("segment/auto", False)

    @auto_segment.setter
    def auto_segment(self, value: bool) -> None:
        self._store.setValue("segment/auto", bool(value))

    @property
    def save_overlay(self) -> bool:
        """Also write the colour overlay PNG when saving."""
        return self._bool("export/save_overlay", False)

    @save_overlay.setter
    def save_overlay(self, value: bool) -> None:
        self._store.setValue("export/save_overlay", bool(value))

    @property
    def last_folder(self) -> str:
        """The folder of the last opened file, for file dialogs ('' when none)."""
        return str(self._store.value("files/last_folder", ""))

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self._store.setValue("files/last_folder", str(value))
