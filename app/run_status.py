"""The status-bar widgets of a segmentation run: stage and progress, Cancel, whether the prediction on screen is
out of date, last run time, device, warnings."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton

from .worker import RunProgress

# share of the progress bar given to each engine stage (they add up to 1)
STAGE_SHARES = {"superpixels": 0.05, "training": 0.75, "sampling": 0.18, "finishing": 0.02}
STAGE_TEXT = {"superpixels": "Superpixels", "training": "Training step {step} of {total}",
              "sampling": "Sampling {step} of {total}", "finishing": "Finishing"}
BAR_RANGE = 1000


def progress_fraction(stage: str, step: int, total: int) -> float:
    """Where a run is as a fraction 0..1 of the whole, from its stage and the step within it."""
    done = 0.0
    for name, share in STAGE_SHARES.items():
        if name == stage:
            return done + share * (step / total if total else 0.0)
        done += share
    return done


class RunStatus:
    """Adds run widgets to a status bar and keeps them up to date. ``cancel_button`` is wired by the owner.

    ``untrained_warning`` is the engine's message when the backbone is not ImageNet-trained (None otherwise).
    """

    def __init__(self, status_bar: QStatusBar, device: str, untrained_warning: str | None):
        self.bar = QProgressBar()
        self.bar.setRange(0, BAR_RANGE)
        self.bar.setFixedWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.time_label = QLabel("")
        self.device_label = QLabel(device.upper())
        self.device_label.setToolTip("Where the network runs")
        self.stale_label = QLabel("Prediction out of date")
        self.stale_label.setStyleSheet("color: #d08000")
        self.stale_label.setToolTip("The scribbles changed after this prediction: R segments again")
        self.stale_label.hide()
        self.warning_label = QLabel("⚠ Untrained backbone")
        self.warning_label.setStyleSheet("color: #d08000; font-weight: bold")
        self.warning_label.setToolTip(untrained_warning or "")
        self.warning_label.setVisible(bool(untrained_warning))
        for widget in (self.bar, self.cancel_button, self.stale_label, self.time_label, self.device_label,
                       self.warning_label):
            status_bar.addPermanentWidget(widget)
        self.show_idle()

    def follow(self, session) -> None:
        """Show the runs of ``session`` (an :class:`app.annotation_session.AnnotationSession`)."""
        session.runs.started.connect(lambda job: self.show_started())
        session.runs.idle.connect(self.show_idle)
        session.progressed.connect(self.show_progress)
        session.finished.connect(self.show_finished)
        session.stale.connect(self.show_stale)
        session.document_changed.connect(lambda document: self.show_new_image())

    def show_started(self) -> None:
        self.bar.setValue(0)
        self.bar.setFormat("Starting")
        self.bar.show()
        self.cancel_button.show()

    def show_progress(self, progress: RunProgress) -> None:
        self.bar.setValue(round(BAR_RANGE * progress_fraction(progress.stage, progress.step, progress.total)))
        self.bar.setFormat(STAGE_TEXT.get(progress.stage, progress.stage).format(step=progress.step,
                                                                                 total=progress.total))

    def show_finished(self, seconds: float, device: str) -> None:
        self.time_label.setText(f"Last run {seconds:.1f} s")
        self.device_label.setText(device.upper())

    def show_new_image(self) -> None:
        """Another image is shown: the last run's time and staleness belonged to the previous one."""
        self.time_label.setText("")
        self.stale_label.hide()

    def show_stale(self, stale: bool) -> None:
        """Mark the prediction on screen as older than the scribbles (or no longer)."""
        self.stale_label.setVisible(stale)

    def show_idle(self) -> None:
        self.bar.hide()
        self.cancel_button.hide()
