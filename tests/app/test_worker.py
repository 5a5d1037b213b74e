"""The controller and its worker thread on their own: message passing, throttling, cancel, supersede, shutdown."""
from __future__ import annotations

import time

import numpy as np
import pytest

import gdc_core.segmenter

from app.worker import RunProgress, SegmentationController, SegmentationJob
from gdc_core import NO_LABEL
from qt_helpers import TINY, make_image, running_qthreads

LONG = TINY.replace(steps=5000, preview_every=0)


def scribbles() -> np.ndarray:
    marks = np.full((48, 64), NO_LABEL, np.uint8)
    marks[10:38, 8] = 0
    marks[10:38, 50] = 1
    return marks


@pytest.fixture
def controller(qtbot, segmenter):
    made = SegmentationController(segmenter)
    yield made
    made.shutdown()


def job(config=TINY, key=1) -> SegmentationJob:
    return SegmentationJob(key, make_image(), scribbles(), config)


def collect(controller) -> dict[str, list]:
    seen = {name: [] for name in ("started", "progressed", "succeeded", "failed", "cancelled", "idle")}
    for name, bucket in seen.items():
        getattr(controller, name).connect(lambda *args, bucket=bucket: bucket.append(args[0] if args else None))
    return seen


def test_a_job_ends_with_one_result_and_the_thread_gone(qtbot, controller):
    seen = collect(controller)
    with qtbot.waitSignal(controller.idle, timeout=60_000):
        controller.submit(job())
    assert len(seen["succeeded"]) == 1 and not seen["failed"] and not seen["cancelled"]
    outcome = seen["succeeded"][0]
    assert outcome.result.labels.shape == (48, 64) and outcome.job is seen["started"][0]
    assert all(isinstance(p, RunProgress) for p in seen["progressed"])
    assert not controller.busy and not controller.running and not running_qthreads()


def test_progress_is_throttled_to_about_ten_a_second(qtbot, controller):
    seen = collect(controller)
    config = TINY.replace(steps=200, samples=20)
    clock = time.monotonic()
    with qtbot.waitSignal(controller.idle, timeout=60_000):
        controller.submit(job(config))
    seconds = time.monotonic() - clock
    stages = len({p.stage for p in seen["progressed"]})
    assert len(seen["progressed"]) <= 10 * seconds + 2 * stages + 2
    assert len(seen["progressed"]) < 200  # one message per step would be 220+


def test_cancel_emits_cancelled_once_and_no_result(qtbot, controller):
    seen = collect(controller)
    controller.submit(job(LONG))
    qtbot.waitUntil(lambda: any(p.stage == "training" for p in seen["progressed"]), timeout=60_000)
    with qtbot.waitSignal(controller.idle, timeout=10_000):
        controller.cancel()
        controller.cancel()  # twice: still one cancellation
    qtbot.wait(50)
    assert len(seen["cancelled"]) == 1 and not seen["succeeded"] and not seen["failed"]
    assert not controller.busy


def test_only_the_latest_waiting_job_runs_after_a_stale_one(qtbot, controller):
    seen = collect(controller)
    controller.submit(job(LONG))
    qtbot.waitUntil(lambda: bool(seen["progressed"]), timeout=60_000)
    skipped, latest = job(TINY), job(TINY)
    controller.submit(skipped)
    controller.submit(latest)
    with qtbot.waitSignal(controller.idle, timeout=60_000):
        pass
    assert [j.id for j in seen["started"]][1:] == [latest.id]
    assert [o.job.id for o in seen["succeeded"]] == [latest.id]
    assert not seen["cancelled"]


def test_bad_scribbles_fail_with_the_engine_message(qtbot, controller):
    seen = collect(controller)
    one_class = np.where(scribbles() == 1, NO_LABEL, scribbles()).astype(np.uint8)
    with qtbot.waitSignal(controller.idle, timeout=60_000):
        controller.submit(SegmentationJob(1, make_image(), one_class, TINY))
    assert seen["failed"] == ["scribbles need at least two classes (found only class 0)"]


def test_shutdown_during_a_run_stops_and_joins_the_thread(qtbot, controller):
    seen = collect(controller)
    controller.submit(job(LONG))
    qtbot.waitUntil(lambda: bool(seen["progressed"]), timeout=60_000)
    assert controller.running and running_qthreads()
    clock = time.monotonic()
    controller.shutdown()
    assert time.monotonic() - clock < 10
    assert not running_qthreads() and not controller.running and not controller.busy
    qtbot.wait(20)
    assert not seen["succeeded"]


def test_after_shutdown_nothing_starts(qtbot, controller):
    """A request still queued when the window closed (e.g. opening the image named on the command line) starts no
    thread."""
    seen = collect(controller)
    controller.shutdown()
    controller.prepare(SegmentationJob(1, make_image(), None, TINY))
    controller.submit(job())
    qtbot.wait(50)
    assert not controller.running and not controller.busy and not seen["started"]


def test_a_new_image_key_reloads_the_image(qtbot, controller, segmenter):
    seen = collect(controller)
    with qtbot.waitSignal(controller.idle, timeout=60_000):
        controller.submit(job(key=101))
    flipped = SegmentationJob(102, make_image()[:, ::-1].copy(), scribbles(), TINY)
    with qtbot.waitSignal(controller.idle, timeout=60_000):
        controller.submit(flipped)
    # The refined masks may coincide (both follow the strokes and the centre edge); the network's probabilities
    # on the mirrored picture cannot.
    first, second = (o.result.probabilities for o in seen["succeeded"])
    assert segmenter.image_shape == (48, 64)
    assert not np.allclose(first, second)


def test_a_preparation_is_silent_and_a_run_submitted_meanwhile_waits_for_it(qtbot, controller, monkeypatch):
    computed = []
    monkeypatch.setattr(gdc_core.segmenter, "compute_superpixels",
                        lambda *args, real=gdc_core.segmenter.compute_superpixels: computed.append(1) or real(*args))
    seen = collect(controller)
    controller.prepare(SegmentationJob(7, make_image(), None, TINY))
    assert not controller.busy, "a preparation is not a run"
    controller.submit(job(key=7))  # the annotator pressed R while the image was being prepared
    assert controller.busy
    with qtbot.waitSignal(controller.succeeded, timeout=60_000):
        pass
    assert len(seen["started"]) == 1 and seen["started"][0].scribbles is not None
    assert not seen["failed"] and not seen["cancelled"]
    qtbot.waitUntil(lambda: not controller.running, timeout=10_000)
    assert computed == [1], "the preparation computed the superpixels, the run reused them"
    controller.prepare(SegmentationJob(8, make_image(), None, TINY))
    with qtbot.waitSignal(controller.idle, timeout=60_000):
        pass
    assert len(seen["started"]) == 1 and len(seen["succeeded"]) == 1, "the preparation reported nothing"
