"""SettingsDialog: the engine's run settings (one widget per SegmenterConfig field declared BASIC, generated from its
declaration: label, tooltip, range, choices), the sidecar folder, the backbone weights file and the class list new
images start with. "Restore defaults" shows SegmenterConfig's defaults, "Paper's settings" the paper's values. The
window keeps the result in QSettings (:class:`app.settings.AppSettings`).
"""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from gdc_core import SegmenterConfig
from gdc_core.config import Param

from .class_lists import ClassListError, parse_class_names
from .settings import engine_params

EngineWidget = QSpinBox | QDoubleSpinBox | QComboBox


def _decimals(*numbers: float) -> int:
    """The decimals a spin box needs to show every one of ``numbers`` exactly (e.g. 0.0001 -> 4)."""
    return max(len(f"{number:g}".partition(".")[2]) for number in numbers)


def _engine_widget(param: Param, default: object) -> EngineWidget:
    """The widget of one engine setting: a list for choices (editable where the declaration parses open-ended
    values), else a spin box over the declared span."""
    if param.choices:
        widget = QComboBox()
        widget.setEditable(param.parse is not None)
        widget.addItems(list(param.choices))
    elif isinstance(default, int):
        widget = QSpinBox()
        widget.setRange(int(param.span[0]), int(param.span[1]))
        widget.setSingleStep(int(param.step))
    else:
        widget = QDoubleSpinBox()
        widget.setDecimals(_decimals(param.span[0], param.step))
        widget.setRange(param.span[0], param.span[1])
        widget.setSingleStep(param.step)
    widget.setToolTip(param.described(default))
    return widget


def _show(widget: EngineWidget, value: object) -> None:
    if isinstance(widget, QComboBox):
        if widget.findText(str(value)) < 0:
            widget.addItem(str(value))
        widget.setCurrentText(str(value))
    else:
        widget.setValue(value)


def _value(widget: EngineWidget) -> object:
    if isinstance(widget, QComboBox):
        return widget.currentText().strip()
    if isinstance(widget, QDoubleSpinBox):
        return round(widget.value(), widget.decimals())
    return widget.value()


def _path_row(text: str, placeholder: str, tip: str, choose) -> tuple[QLineEdit, QHBoxLayout]:
    """A path field with a "Choose…" button that calls ``choose``: (the field, the row holding both)."""
    field = QLineEdit(text)
    field.setPlaceholderText(placeholder)
    field.setToolTip(tip)
    browse = QPushButton("Choose…")
    browse.clicked.connect(choose)
    row = QHBoxLayout()
    row.addWidget(field)
    row.addWidget(browse)
    return field, row


class SettingsDialog(QDialog):
    """Edit ``config`` (a SegmenterConfig), the sidecar folder, the backbone weights file and the class list new
    images start with; :meth:`config`, :meth:`sidecar_folder`, :meth:`backbone_weights` and :meth:`class_names`
    give the result after ``exec()``."""

    def __init__(self, config: SegmenterConfig, sidecar_folder: str = "", parent: QWidget | None = None,
                 backbone_weights: str = "", class_names: list[str] | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._base = config
        defaults, declared = SegmenterConfig(), engine_params()
        self.engine = {name: _engine_widget(param, getattr(defaults, name)) for name, param in declared.items()}
        self.sidecar, sidecar_row = _path_row(
            sidecar_folder, "default: <image folder>/gdc-seg",
            "Where the scribbles, masks and class lists of a folder's images are saved, in a subfolder named after "
            "the image folder (empty: <image folder>/gdc-seg)", self._choose_sidecar)
        self.weights, weights_row = _path_row(
            backbone_weights, "none: the torch hub cache, else an untrained stem",
            "ImageNet MobileNetV2 weights (mobilenet_v2-b0353104.pth or a stem-only file); used from the next start "
            "on", self._choose_weights)
        self.class_list = QPlainTextEdit("\n".join(class_names or []))
        self.class_list.setPlaceholderText("background\nobject")
        self.class_list.setToolTip("The classes a new image starts with, one name per line (empty: background and "
                                   "object); work saved with an image keeps its own")
        self.class_list.setTabChangesFocus(True)
        self.class_list.setFixedHeight(90)
        form = QFormLayout()
        for name, widget in self.engine.items():
            form.addRow(declared[name].label, widget)
        form.addRow("Work folder", sidecar_row)
        form.addRow("Backbone weights", weights_row)
        form.addRow("Classes", self.class_list)
        self.restore = QPushButton("Restore defaults")
        self.restore.setToolTip("Show gdc-seg's defaults: the paper's values where they measured best, measured "
                                "choices elsewhere (docs/method.md)")
        self.restore.clicked.connect(lambda: self.show_config(SegmenterConfig()))
        self.paper = QPushButton("Paper's settings")
        self.paper.setToolTip("Show the paper's values where it gives them: its pipeline without refinement, Eq. 6 "
                              "as printed, SLIC on the input, the full map every step, every sample at every pixel")
        self.paper.clicked.connect(lambda: self.show_config(SegmenterConfig.paper()))
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.restore, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.addButton(self.paper, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("The defaults depart from the paper where measurements said so (docs/method.md); "
                                "the device applies at the next start."))
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.show_config(config)

    def show_config(self, config: SegmenterConfig) -> None:
        """Show ``config``'s engine settings in their widgets."""
        for name, widget in self.engine.items():
            _show(widget, getattr(config, name))

    def config(self) -> SegmenterConfig:
        """The settings shown, on top of the config the dialog started from (raises ValueError if invalid)."""
        return self._base.replace(**{name: _value(widget) for name, widget in self.engine.items()})

    def sidecar_folder(self) -> str:
        return self.sidecar.text().strip()

    def backbone_weights(self) -> str:
        return self.weights.text().strip()

    def class_names(self) -> list[str]:
        """The class list typed ([] when empty: the default classes); raises ClassListError when unusable."""
        text = self.class_list.toPlainText()
        return parse_class_names(text) if text.strip() else []

    def accept(self) -> None:
        try:
            self.config()
            self.class_names()
        except ClassListError as exc:
            self.error.setText(f"Classes: {exc}")
            return
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        super().accept()

    def _choose_sidecar(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Work folder", self.sidecar.text())
        if folder:
            self.sidecar.setText(folder)

    def _choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Backbone weights", self.weights.text(),
                                              "PyTorch weights (*.pth *.pt);;All files (*)")
        if path:
            self.weights.setText(path)
