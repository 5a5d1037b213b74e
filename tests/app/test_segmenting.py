"""Point 4: Segment (button, key, auto) in a worker thread: progress, previews, cancel, supersede, errors,
a GUI that keeps running, and the status bar."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QToolBar

from gdc_core import NO_LABEL
from qt_helpers import TINY, drag, paint_two_classes, running_qthreads

LONG = TINY.replace(steps=5000, preview_every=0)  # would take minutes: only ever cancelled or superseded
RUN_TIMEOUT_MS = 60_000


def toolbar_button(window, action):
    return window.findChild(QToolBar, "tools").widgetForAction(action)


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.session.runs.busy, timeout=RUN_TIMEOUT_MS)


def record(signal) -> list:
    seen = []
    signal.connect(lambda *args: seen.append(args[0] if args else None))
    return seen


def test_segment_button_runs_in_the_background_with_progress_and_previews(qtbot, window):
    paint_two_classes(qtbot, window)
    progress, formats = record(window.session.runs.progressed), []
    window.session.runs.progressed.connect(lambda p: formats.append(window.run_status.bar.format()))
    button = toolbar_button(window, window.actions.segment)
    with qtbot.waitSignal(window.session.runs.started, timeout=5000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.run_status.bar.isVisible() and window.actions.cancel.isEnabled()
    wait_idle(qtbot, window)

    prediction = window.session.document.prediction
    assert prediction is not None
    assert prediction.labels.shape == (48, 64) and set(np.unique(prediction.labels)) <= {0, 1}
    assert prediction.uncertainty.shape == (48, 64) and 0 <= prediction.uncertainty.min() <= 1
    assert window.canvas.prediction_item.labels is prediction.labels and window.canvas.prediction_item.isVisible()
    stages = [p.stage for p in progress]
    assert stages[0] == "superpixels" and "training" in stages and "sampling" in stages
    assert any(p.preview is not None for p in progress)  # intermediate previews while training
    assert "Training step 3 of 3" in formats
    assert not window.run_status.bar.isVisible() and not window.actions.cancel.isEnabled()


def test_status_bar_shows_device_last_run_time_and_untrained_backbone(qtbot, window):
    assert window.run_status.device_label.text() == "CPU"
    assert window.run_status.warning_label.isVisible()  # the tests run without ImageNet weights
    assert "filter-bank" in window.run_status.warning_label.toolTip()
    paint_two_classes(qtbot, window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    wait_idle(qtbot, window)
    assert window.run_status.time_label.text().startswith("Last run ")
    assert window.run_status.time_label.text().endswith(" s")


def test_segment_without_two_classes_says_so_and_starts_nothing(qtbot, window):
    started = record(window.session.runs.started)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    assert "two classes" in window.statusBar().currentMessage()
    drag(qtbot, window.canvas, [(5, 5), (20, 5)])
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    assert not started and not window.session.runs.busy


def test_auto_runs_after_each_stroke(qtbot, window):
    qtbot.keyClick(window.canvas, Qt.Key.Key_L)
    assert window.actions.auto.isChecked() and window.session.settings.auto_segment
    started = record(window.session.runs.started)
    paint_two_classes(qtbot, window)  # the first stroke alone has one class: nothing to run yet
    wait_idle(qtbot, window)
    assert len(started) == 1 and window.session.document.prediction is not None
    training = []
    window.session.runs.progressed.connect(lambda p: p.stage == "training" and training.append(p.total))
    drag(qtbot, window.canvas, [(52, 5), (60, 5)])
    wait_idle(qtbot, window)
    assert len(started) == 2 and (started[-1].scribbles[5, 55] == 1)
    assert started[-1].warm_start and set(training) == {TINY.warm_steps}  # a quick update of the last network
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)  # Segment always trains afresh
    wait_idle(qtbot, window)
    assert not started[-1].warm_start


def test_cancel_stops_within_a_step_signals_once_and_gives_no_result(qtbot, window):
    window.session.config = LONG
    paint_two_classes(qtbot, window)
    cancelled, succeeded = record(window.session.runs.cancelled), record(window.session.runs.succeeded)
    training = []
    window.session.runs.progressed.connect(lambda p: p.stage == "training" and training.append(p))
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: bool(training), timeout=RUN_TIMEOUT_MS)
    assert window.session.runs.running
    clock = time.monotonic()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    wait_idle(qtbot, window)
    assert time.monotonic() - clock < 10
    qtbot.wait(50)  # nothing more may arrive
    assert len(cancelled) == 1 and not succeeded
    assert not window.session.runs.running and not running_qthreads() and not window.session.runs.busy
    assert window.session.document.prediction is None
    assert "cancelled" in window.statusBar().currentMessage()
    assert not window.actions.cancel.isEnabled()


def test_a_stroke_during_a_run_supersedes_it(qtbot, window):
    window.session.config = LONG
    paint_two_classes(qtbot, window)
    started, succeeded = record(window.session.runs.started), record(window.session.runs.succeeded)
    cancelled, failed = record(window.session.runs.cancelled), record(window.session.runs.failed)
    training = []
    window.session.runs.progressed.connect(lambda p: p.stage == "training" and training.append(p))
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: bool(training), timeout=RUN_TIMEOUT_MS)
    window.session.config = TINY
    drag(qtbot, window.canvas, [(52, 5), (60, 5)])  # the running job is stale now
    drag(qtbot, window.canvas, [(52, 44), (60, 44)])  # and so is the one waiting: only the latest runs
    wait_idle(qtbot, window)
    assert len(started) == 2 and len(succeeded) == 1 and not cancelled and not failed
    latest = succeeded[0].job
    assert latest is started[1] and latest.config == TINY
    assert latest.scribbles[44, 55] == 1 and latest.scribbles[5, 55] == 1
    assert window.session.document.prediction is not None


def test_an_engine_error_becomes_a_message(qtbot, window, segmenter, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory, say")

    paint_two_classes(qtbot, window)
    with monkeypatch.context() as patch:
        patch.setattr(segmenter, "run", broken)
        qtbot.keyClick(window.canvas, Qt.Key.Key_R)
        wait_idle(qtbot, window)
    assert "Segmentation failed: RuntimeError: out of memory, say" in window.statusBar().currentMessage()
    assert window.session.document.prediction is None and window.isVisible()
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)  # the app carries on
    wait_idle(qtbot, window)
    assert window.session.document.prediction is not None


def test_the_gui_keeps_processing_events_during_a_run(qtbot, window):
    window.session.config = TINY.replace(steps=60, samples=10, preview_every=10)
    paint_two_classes(qtbot, window)
    gaps, clock = [], QElapsedTimer()
    timer = QTimer()
    timer.setInterval(10)

    def tick():
        gaps.append(clock.restart())

    timer.timeout.connect(tick)
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    clock.start()
    timer.start()
    wait_idle(qtbot, window)
    timer.stop()
    assert window.session.document.prediction is not None
    assert len(gaps) > 10, "the run was too short to measure anything"
    assert max(gaps) < 100, f"the GUI thread stalled for {max(gaps)} ms"


def test_scribbles_changed_while_no_run_and_auto_off_start_nothing(qtbot, window):
    started = record(window.session.runs.started)
    paint_two_classes(qtbot, window)
    assert not started
    assert (window.session.document.scribbles != NO_LABEL).any()


def test_opening_an_image_prepares_it_so_the_first_run_only_trains(qtbot, window, monkeypatch):
    import gdc_core.segmenter as facade

    qtbot.waitUntil(lambda: window.session.runs.current_job is None, timeout=RUN_TIMEOUT_MS)  # the preparation
    calls = []
    monkeypatch.setattr(facade, "compute_superpixels", lambda *args: calls.append(args))
    paint_two_classes(qtbot, window)
    assert not window.session.runs.busy, "painting during or after the preparation starts no run"
    qtbot.keyClick(window.canvas, Qt.Key.Key_R)
    wait_idle(qtbot, window)
    assert window.session.document.prediction is not None
    assert calls == [], "the run used the superpixels prepared when the image opened"
