"""SettingsDialog: the engine's run settings (steps, samples, Σ, learning rate, superpixels, context conv, class
weighting, working resolution, device), the sidecar folder, the backbone weights file and the class list new images
start with, with the paper's values as defaults and a "Restore paper defaults" button. The window keeps the result in
QSettings (:class:`app.settings.AppSettings`).
"""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from gdc_core import SegmenterConfig
from gdc_core.config import CLASS_WEIGHTINGS, CONTEXT_CONVS as ENGINE_CONVS

from .class_lists import ClassListError, parse_class_names

CONTEXT_CONVS = (*ENGINE_CONVS, "dilated:6")
WEIGHTINGS = CLASS_WEIGHTINGS
DEVICES = ("auto", "cpu", "cuda")


def _spin(low: int, high: int, tip: str, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setToolTip(tip)
    return box


def _double(low: float, high: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setToolTip(tip)
    return box


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


def _combo(items: tuple[str, ...], tip: str) -> QComboBox:
    box = QComboBox()
    box.setEditable(False)
    box.addItems(list(items))
    box.setToolTip(tip)
    return box


class SettingsDialog(QDialog):
    """Edit ``config`` (a SegmenterConfig), the sidecar folder, the backbone weights file and the class list new
    images start with; :meth:`config`, :meth:`sidecar_folder`, :meth:`backbone_weights` and :meth:`class_names`
    give the result after ``exec()``."""

    def __init__(self, config: SegmenterConfig, sidecar_folder: str = "", parent: QWidget | None = None,
                 backbone_weights: str = "", class_names: list[str] | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._base = config
        self.steps = _spin(1, 1000, "SGD steps per run (paper: 50)")
        self.samples = _spin(1, 500, "Stochastic forward passes averaged into the mask (paper: 50)")
        self.sigma = _double(0.0, 2.0, 0.05, 3, "Σ of the half-normal GDC offsets, in map sizes (paper: 0.2)")
        self.lr = _double(0.0001, 1.0, 0.001, 4, "SGD learning rate (paper: 0.01)")
        self.superpixels = _spin(10, 20000, "SLIC superpixels at the working resolution", 100)
        self.context_conv = _combo(CONTEXT_CONVS, "The module's context branch (gdc: the paper's)")
        self.class_weighting = _combo(WEIGHTINGS, "Loss weights per class: balanced (default), paper (Eq. 6 as "
                                      "printed) or none")
        self.max_side = _spin(64, 4096, "The network's working resolution: the longer side in pixels (the mask "
                              "is brought back to full size)", 32)
        self.device = _combo(DEVICES, "auto: CUDA when available. A change applies at the next start")
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
        form.addRow("Steps", self.steps)
        form.addRow("Samples", self.samples)
        form.addRow("Σ (sigma)", self.sigma)
        form.addRow("Learning rate", self.lr)
        form.addRow("Superpixels", self.superpixels)
        form.addRow("Context conv", self.context_conv)
        form.addRow("Class weighting", self.class_weighting)
        form.addRow("Working resolution", self.max_side)
        form.addRow("Device", self.device)
        form.addRow("Work folder", sidecar_row)
        form.addRow("Backbone weights", weights_row)
        form.addRow("Classes", self.class_list)
        self.restore = QPushButton("Restore paper defaults")
        self.restore.clicked.connect(lambda: self.show_config(SegmenterConfig()))
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.restore, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Defaults are the paper's values; the working resolution, superpixels and device "
                                "are this app's."))
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.show_config(config)

    def show_config(self, config: SegmenterConfig) -> None:
        self.steps.setValue(config.steps)
        self.samples.setValue(config.samples)
        self.sigma.setValue(config.sigma)
        self.lr.setValue(config.lr)
        self.superpixels.setValue(config.superpixels)
        for box, value in ((self.context_conv, config.context_conv), (self.class_weighting, config.class_weighting),
                           (self.device, config.device)):
            if box.findText(value) < 0:
                box.addItem(value)
            box.setCurrentText(value)
        self.max_side.setValue(config.max_side)

    def config(self) -> SegmenterConfig:
        """The settings shown, on top of the config the dialog started from (raises ValueError if invalid)."""
        return self._base.replace(
            steps=self.steps.value(), samples=self.samples.value(), sigma=round(self.sigma.value(), 6),
            lr=round(self.lr.value(), 6), superpixels=self.superpixels.value(),
            context_conv=self.context_conv.currentText(), class_weighting=self.class_weighting.currentText(),
            max_side=self.max_side.value(), device=self.device.currentText())

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
