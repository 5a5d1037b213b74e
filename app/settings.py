"""Preferences kept between sessions in QSettings: an INI file (organisation and application ``gdc-seg``) in the
user's configuration folder on every platform.

Typed accessors with defaults, so a missing or garbled value never breaks the app. Tests point QSettings at a
temporary folder (see tests/app/conftest.py).
"""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from gdc_core import SegmenterConfig
from gdc_core.config import BASIC, Param, params
from gdc_core.export import FORMATS

ORGANISATION = "gdc-seg"
APPLICATION = "gdc-seg"


def engine_params() -> dict[str, Param]:
    """The engine settings the Settings dialog offers and QSettings keeps under ``engine/<name>``: the
    SegmenterConfig fields declared BASIC, by field name."""
    return {name: param for name, param in params().items() if param.level == BASIC}


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
    def export_formats(self) -> list[str]:
        """The dataset formats the folder export writes besides the masks (names of gdc_core.export.FORMATS)."""
        value = str(self._store.value("export/formats", "") or "")
        return [name for name in value.split(",") if name in FORMATS and name != "png"]

    @export_formats.setter
    def export_formats(self, names: list[str]) -> None:
        self._store.setValue("export/formats", ",".join(names))

    @property
    def last_folder(self) -> str:
        """The folder of the last opened file, for file dialogs ('' when none)."""
        return str(self._store.value("files/last_folder", ""))

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self._store.setValue("files/last_folder", str(value))

    @property
    def last_image_folder(self) -> str:
        """The last folder opened with File > Open folder ('' when none)."""
        return str(self._store.value("files/last_image_folder", ""))

    @last_image_folder.setter
    def last_image_folder(self, value: str) -> None:
        self._store.setValue("files/last_image_folder", str(value))

    @property
    def sidecar_folder(self) -> str:
        """Where a folder's work is saved: '' for the default ``<folder>/gdc-seg``, else a folder of its own
        (each image folder then gets ``<that folder>/<image folder name>``)."""
        return str(self._store.value("files/sidecar_folder", ""))

    @sidecar_folder.setter
    def sidecar_folder(self, value: str) -> None:
        self._store.setValue("files/sidecar_folder", str(value))

    @property
    def backbone_weights(self) -> str:
        """The ImageNet MobileNetV2 weights file chosen in Settings ('' when none): used from the next start on,
        after ``--backbone-weights`` and ``GDC_SEG_BACKBONE_WEIGHTS``."""
        return str(self._store.value("engine_files/backbone_weights", ""))

    @backbone_weights.setter
    def backbone_weights(self, value: str) -> None:
        self._store.setValue("engine_files/backbone_weights", str(value))

    @property
    def untrained_notice_shown(self) -> bool:
        """The start-up explanation of the untrained backbone was shown once already."""
        return self._bool("notices/untrained_backbone", False)

    @untrained_notice_shown.setter
    def untrained_notice_shown(self, value: bool) -> None:
        self._store.setValue("notices/untrained_backbone", bool(value))

    @property
    def class_names(self) -> list[str]:
        """The class list new images start with ([] for the default background and object), kept in Settings."""
        value = self._store.value("classes/names", "")
        return [name for name in str(value).split("\n") if name] if isinstance(value, str) else []

    @class_names.setter
    def class_names(self, names: list[str]) -> None:
        self._store.setValue("classes/names", "\n".join(names))

    @property
    def unfinished_only(self) -> bool:
        """The image list shows (and next / previous visit) only images without a mask."""
        return self._bool("files/unfinished_only", False)

    @unfinished_only.setter
    def unfinished_only(self, value: bool) -> None:
        self._store.setValue("files/unfinished_only", bool(value))

    def window_layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        """(geometry, dock and toolbar state) saved by :meth:`save_window_layout`, or None each."""
        geometry, state = self._store.value("window/geometry"), self._store.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def save_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)

    def engine_config(self, base: SegmenterConfig | None = None) -> SegmenterConfig:
        """``base`` (default: the defaults) with the saved engine settings applied; a saved value that is garbled or
        invalid is ignored (that setting keeps its ``base`` value)."""
        config = base or SegmenterConfig()
        for name in engine_params():
            raw = self._store.value(f"engine/{name}")
            if raw is None:
                continue
            try:
                config = config.replace(**{name: type(getattr(config, name))(raw)})
            except (TypeError, ValueError):
                continue
        return config

    def save_engine_config(self, config: SegmenterConfig) -> None:
        """Keep ``config``'s engine settings; values equal to the defaults are removed, so a later change of the
        defaults reaches users who never changed that setting."""
        defaults = SegmenterConfig()
        for name in engine_params():
            value = getattr(config, name)
            if value == getattr(defaults, name):
                self._store.remove(f"engine/{name}")
            else:
                self._store.setValue(f"engine/{name}", value)

    def reset_engine_config(self) -> None:
        self._store.remove("engine")

    def sync(self) -> None:
        self._store.sync()
