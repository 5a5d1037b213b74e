"""Runs :meth:`gdc_core.Segmenter.run` off the GUI thread and passes messages back; holds no algorithm logic.

:class:`SegmentationWorker` lives in a QThread for one job and reports progress (throttled to ~10 Hz), a result,
an error text or a cancellation. :class:`SegmentationController` owns the threads' lifetime: one run at a time;
a new request while a run is in flight asks the stale run to stop (polled between steps through
``should_stop``) and starts as soon as its thread has finished; only the latest request waits.
No QThread is ever terminated.
"""
from __future__ import annotations

import itertools
import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from gdc_core import Progress, RunCancelled, ScribbleError, SegmentationResult, Segmenter, SegmenterConfig

PROGRESS_INTERVAL_S = 0.1  # ~10 progress messages a second at most; a stage's first and last step always pass

_job_ids = itertools.count(1)


@dataclass(frozen=True)
class SegmentationJob:
    """One request: segment ``image`` (H, W, 3) uint8 from ``scribbles`` (H, W) uint8 with ``config``.

    ``image_key`` names the image (documents have unique keys) so the segmenter's cached features are reused as
    long as the image does not change. ``warm_start`` continues the previous run's network for
    ``config.warm_steps`` (the quick update after one more stroke). ``scribbles`` None is a preparation: the image's
    features and superpixels are computed (:meth:`Segmenter.prepare`) so that the first run on it starts training at
    once; it reports nothing but failures. The arrays are never written after creation.
    """

    image_key: int
    image: np.ndarray = field(repr=False)
    scribbles: np.ndarray | None = field(repr=False)
    config: SegmenterConfig
    warm_start: bool = False
    id: int = field(default_factory=lambda: next(_job_ids))


@dataclass(frozen=True)
class RunProgress:
    """A progress message: the job, the engine's ``stage`` and ``step`` of ``total``, and an optional ``preview``
    (h, w) uint8 class ids at the network's resolution."""

    job_id: int
    stage: str
    step: int
    total: int
    preview: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class RunOutcome:
    """A finished run: the job it answers and the engine's result (numpy arrays only)."""

    job: SegmentationJob
    result: SegmentationResult


class SegmentationWorker(QObject):
    """Does one job in the thread it was moved to. Emits exactly one of ``succeeded``, ``failed``, ``cancelled``,
    then ``done``."""

    progressed = Signal(object)  # RunProgress
    succeeded = Signal(object)  # RunOutcome
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, segmenter: Segmenter, job: SegmentationJob, load_image: bool, stop: threading.Event):
        super().__init__()
        self.segmenter, self.job, self.load_image, self.stop = segmenter, job, load_image, stop
        self._last_report = 0.0
        self._last_stage = ""

    @Slot()
    def run(self) -> None:
        try:
            if self.load_image:
                self.segmenter.set_image(self.job.image)
            if self.job.scribbles is None:
                self.segmenter.prepare(self.job.config)
                return
            result = self.segmenter.run(self.job.scribbles, config=self.job.config, warm_start=self.job.warm_start,
                                        on_progress=self._report, should_stop=self.stop.is_set)
        except RunCancelled:
            self.cancelled.emit()
        except ScribbleError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # any engine failure becomes a message, never a crash
            traceback.print_exc()
            self.failed.emit(f"Segmentation failed: {exc.__class__.__name__}: {exc}")
        else:
            self.succeeded.emit(RunOutcome(self.job, result))
        finally:
            self.done.emit()

    def _report(self, progress: Progress) -> None:
        now = time.monotonic()
        if (progress.stage == self._last_stage and progress.step < progress.total
                and now - self._last_report < PROGRESS_INTERVAL_S):
            return  # previews included: a dropped one is followed by a fresher one
        self._last_report, self._last_stage = now, progress.stage
        preview = None if progress.preview is None else np.array(progress.preview, dtype=np.uint8, copy=True)
        self.progressed.emit(RunProgress(self.job.id, progress.stage, progress.step, progress.total, preview))


class SegmentationController(QObject):
    """Owns the worker threads: at most one runs; the latest request waits for it; stale runs are stopped.

    Signals (all delivered on the GUI thread):
        started(object): a job's thread started (the SegmentationJob).
        progressed(object): RunProgress of the current job.
        succeeded(object): RunOutcome of a job that was neither cancelled nor superseded.
        failed(str): what went wrong, for the user.
        cancelled: the user's cancel took effect (once per cancelled run).
        idle: no run is in flight and none is waiting.
    """

    started = Signal(object)
    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    idle = Signal()

    def __init__(self, segmenter: Segmenter, parent: QObject | None = None):
        super().__init__(parent)
        self.segmenter = segmenter
        self._thread: QThread | None = None
        self._worker: SegmentationWorker | None = None
        self._job: SegmentationJob | None = None
        self._stop = threading.Event()
        self._user_cancelled = False
        self._pending: SegmentationJob | None = None
        self._loaded_key: int | None = None
        self._shut_down = False

    @property
    def busy(self) -> bool:
        """True while a run is in flight or waiting to start (a preparation is not a run)."""
        return any(job is not None and job.scribbles is not None for job in (self._job, self._pending))

    @property
    def running(self) -> bool:
        """True while a worker thread exists (a run or a preparation); False once it has been joined."""
        return self._thread is not None

    @property
    def current_job(self) -> SegmentationJob | None:
        return self._job

    def submit(self, job: SegmentationJob) -> None:
        """Run ``job`` now, or, when a run is in flight, stop that stale run and run ``job`` right after it.

        A job that was waiting is replaced (never more than one waits). After :meth:`shutdown`, nothing runs.
        """
        if self._shut_down:
            return
        if self._thread is None:
            self._start(job)
            return
        self._pending = job
        self._stop.set()

    def prepare(self, job: SegmentationJob) -> None:
        """Prepare the image of ``job`` (a job without scribbles) when nothing runs, else right after the run in
        flight unless another request is waiting. A preparation is never stopped: a run submitted meanwhile waits
        for it and reuses its work. After :meth:`shutdown`, nothing is prepared."""
        if self._shut_down:
            return
        if self._thread is None:
            self._start(job)
        elif self._pending is None:
            self._pending = job

    def cancel(self) -> None:
        """Stop the run in flight (within one engine step) and drop any waiting job; ``cancelled`` follows."""
        self._pending = None
        if self._thread is not None:
            self._user_cancelled = True
            self._stop.set()

    def shutdown(self) -> None:
        """Stop everything, wait for the thread to end and start nothing afterwards (used when the window closes:
        a request still queued then, e.g. opening the image given on the command line, must not start a thread)."""
        self._shut_down = True
        self._pending = None
        if self._thread is not None:
            self._stop.set()
            self._thread.wait()
            self._thread_finished()

    def _start(self, job: SegmentationJob) -> None:
        self._job, self._user_cancelled = job, False
        self._stop = threading.Event()
        thread = QThread(self)
        thread.setObjectName(f"segmentation-{job.id}")
        worker = SegmentationWorker(self.segmenter, job, job.image_key != self._loaded_key, self._stop)
        worker.moveToThread(thread)
        self._loaded_key = job.image_key
        thread.started.connect(worker.run)
        worker.progressed.connect(self._on_progress)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)  # thread-safe; works while we wait()
        thread.finished.connect(self._thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        if job.scribbles is not None:
            self.started.emit(job)

    def _is_stale(self) -> bool:
        return self._stop.is_set()

    @Slot(object)
    def _on_progress(self, progress: RunProgress) -> None:
        if not self._is_stale():
            self.progressed.emit(progress)

    @Slot(object)
    def _on_succeeded(self, outcome: RunOutcome) -> None:
        if self._user_cancelled:
            self.cancelled.emit()  # finished in the same instant as the cancel: the user asked for no result
        elif not self._is_stale():
            self.succeeded.emit(outcome)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._loaded_key = None  # the segmenter may not hold the image
        if not self._is_stale():
            self.failed.emit(message)
        elif self._user_cancelled:
            self.cancelled.emit()

    @Slot()
    def _on_cancelled(self) -> None:
        if self._user_cancelled:
            self.cancelled.emit()

    @Slot()
    def _thread_finished(self) -> None:
        if self._thread is None:  # already handled by shutdown()
            return
        self._thread.wait()  # returns at once: the thread has left run(); after this the worker may be freed
        self._thread.deleteLater()
        self._thread = self._worker = self._job = None
        if self._pending is not None:
            job, self._pending = self._pending, None
            self._start(job)
        else:
            self.idle.emit()
