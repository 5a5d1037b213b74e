"""Segmenting a whole folder: which images to run, running them in this process or on a pool of worker processes,
and one record per image (done, skipped, failed with the reason).

    jobs = find_jobs(images_dir, scribbles_dir)              # one Job per image, in natural order
    records = run_batch(jobs, Outputs(masks_dir), Engine(config, stem), workers=2, on_progress=print)

Resumable: an image whose mask exists is skipped, so a rerun does what is left and retries what failed. Every file
is written atomically (a temporary beside it, then one rename) and the mask last, so an existing mask means the
image is complete, and a run stopped at any point (Ctrl+C, kill -9) leaves no half-written output; the
temporaries a killed run left are removed by the next run. The Ray path is :mod:`gdc_core.batch_ray`.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import numpy as np

from . import workfiles
from .config import SegmenterConfig
from .export import write_json, write_probabilities
from .images import run_too_large, too_small
from .io import (TEMP_SUFFIX, ImageReadError, fit_name, grey_to_uint8, open_image, overlay, pixel_limit,
                 read_label_map, temp_prefix, write_image, write_label_map)
from .scribbles import ScribbleError, validate_scribbles
from .workfiles import glob_escape

if TYPE_CHECKING:
    from .backbone import StemChoice
    from .segmenter import Progress, SegmentationResult, Segmenter

DONE, SKIPPED, FAILED = "done", "skipped", "failed"
REPORT_FORMAT = "gdc-seg batch report"
WATCH_PARENT_SECONDS = 1.0  # how often a pool worker checks that the batch that started it still runs
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class InputError(ValueError):
    """An image or scribble file that cannot be segmented; the message names the file and the reason."""


# ----------------------------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Job:
    """One image of a batch: its scribbles (None: none found; ``looked_for`` then names where) and the file name
    its outputs get (``<image stem>.png``, shortened as :func:`gdc_core.io.fit_name` does)."""

    image: Path
    scribbles: Path | None
    looked_for: tuple[Path, ...] = ()

    @property
    def name(self) -> str:
        return fit_name(self.image.stem, ".png")


def scribble_files(image_path: Path, scribbles_dir: Path | None) -> list[Path]:
    """The files a batch looks for as an image's scribbles, in order, for its "skipped" line:
    ``<scribbles_dir>/<image stem>.png`` then the app's saved work there; without ``scribbles_dir``, the app's saved
    work where the app saves it (:func:`gdc_core.workfiles.work_folder`). Long stems are shortened as the app
    shortens them (:func:`gdc_core.io.fit_name`, :func:`gdc_core.io.fit_stem` in :mod:`gdc_core.workfiles`)."""
    if scribbles_dir is None:
        return [workfiles.WorkPaths.beside(image_path, workfiles.work_folder(image_path.parent)).scribbles]
    saved = workfiles.WorkPaths.beside(image_path, scribbles_dir).scribbles
    return [scribbles_dir / fit_name(image_path.stem, ".png"), saved]


def find_scribbles(image_path: Path, scribbles_dir: Path | None) -> Path | None:
    """The scribble file of an image in a batch: ``<scribbles_dir>/<image stem>.png``, else the app's saved work
    there; without ``scribbles_dir``, the app's saved work wherever the app finds it
    (:func:`gdc_core.workfiles.search_folders`). None when there is none."""
    if scribbles_dir is not None:
        named = scribble_files(image_path, scribbles_dir)[0]
        if named.is_file():
            return named
    folders = [scribbles_dir] if scribbles_dir is not None else workfiles.search_folders(image_path.parent)
    work = workfiles.find_work(image_path.stem, folders)
    return workfiles.current_files(work).get("scribbles") if work is not None else None


def find_jobs(images_dir: Path, scribbles_dir: Path | None = None) -> list[Job]:
    """One job per image of ``images_dir`` (:func:`gdc_core.workfiles.list_images`), with its scribbles
    (:func:`find_scribbles`). Raises OSError when the folder cannot be read."""
    jobs = []
    for image in workfiles.list_images(images_dir):
        found = find_scribbles(image, scribbles_dir)
        jobs.append(Job(image, found, () if found else tuple(scribble_files(image, scribbles_dir))))
    return jobs


@dataclass(frozen=True)
class Outputs:
    """Where a batch writes: ``masks/<name>`` (indexed PNG, always; written last), and when given
    ``overlays/<name>`` (mask over image), ``uncertainty/<name>`` (grey PNG), ``probabilities/<stem>.npz``
    (:func:`gdc_core.export.write_probabilities`)."""

    masks: Path
    overlays: Path | None = None
    uncertainty: Path | None = None
    probabilities: Path | None = None

    def files(self, job: Job) -> dict[str, Path]:
        """The files of ``job`` by kind, in the order they are written (the mask last)."""
        files = {}
        if self.uncertainty is not None:
            files["uncertainty"] = self.uncertainty / job.name
        if self.probabilities is not None:
            files["probabilities"] = self.probabilities / f"{Path(job.name).stem}.npz"
        if self.overlays is not None:
            files["overlay"] = self.overlays / job.name
        files["mask"] = self.masks / job.name
        return files

    def folders(self) -> list[Path]:
        return [f for f in (self.masks, self.overlays, self.uncertainty, self.probabilities) if f is not None]


def remove_stale_temporaries(jobs: Iterable[Job], outputs: Outputs) -> int:
    """Delete the temporaries a killed run left for these jobs' outputs (:func:`gdc_core.io.atomic_path`'s names,
    ``.<name>.XXXXXXXX.tmp``); returns how many. Only names of this batch's outputs are touched."""
    removed = 0
    for job in jobs:
        for path in outputs.files(job).values():
            if path.parent.is_dir():
                for temp in path.parent.glob(f"{glob_escape(temp_prefix(path.name))}*{TEMP_SUFFIX}"):
                    temp.unlink(missing_ok=True)
                    removed += 1
    return removed


# ----------------------------------------------------------------------------------------------- one image


@dataclass(frozen=True)
class Record:
    """What became of one image: ``status`` done / skipped / failed, ``reason`` (one line, for skipped and
    failed), ``seconds`` (wall time of a done or failed run), ``warnings`` of the run."""

    image: str
    status: str
    reason: str | None = None
    seconds: float | None = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {**asdict(self), "warnings": list(self.warnings)}


def read_inputs(image_path: Path, scribbles_path: Path, limit: int | None = None,
                config: SegmenterConfig | None = None, warn: Callable[[str], None] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Read an image ((H, W) or (H, W, 3) uint8) and its scribbles ((H, W) uint8) and check they fit together.

    A JPEG above the pixel limit is decoded reduced (:func:`gdc_core.io.open_image`; ``warn`` is told), and its
    scribbles must then be at the reduced size.

    Raises :class:`InputError` naming the file: missing or unreadable, above the pixel ``limit`` (default:
    :func:`io.pixel_limit`'s) alone or, run with ``config`` (default: the defaults), with its classes; another size,
    fewer than two classes.
    """
    config = config or SegmenterConfig()
    try:
        limit = pixel_limit(limit)
        decoded = open_image(image_path, limit)
        scribbles = read_label_map(scribbles_path, limit)
    except (ImageReadError, ValueError) as exc:
        raise InputError(str(exc)) from None
    image = decoded.pixels
    if decoded.reduced and warn is not None:
        warn(decoded.note(image_path))
    small = too_small(image.shape[1], image.shape[0])
    if small is not None:
        raise InputError(f"{image_path}: {small}")
    try:
        classes = validate_scribbles(scribbles, image.shape[:2])
    except ScribbleError as exc:
        raise InputError(f"{scribbles_path}: {exc}") from None
    reason = run_too_large(image.shape[:2], len(classes), config.max_side, config.samples, limit)
    if reason is not None:
        raise InputError(f"{scribbles_path}: {reason}")
    return image, scribbles


def write_result(result: SegmentationResult, image: np.ndarray, files: dict[str, Path]) -> None:
    """Write the outputs named in ``files`` (kinds of :meth:`Outputs.files`) in that order, the mask last."""
    writers = {"uncertainty": lambda path: write_image(path, grey_to_uint8(result.uncertainty)),
               "probabilities": lambda path: write_probabilities(path, result.probabilities, result.classes),
               "overlay": lambda path: write_image(path, overlay(image, result.labels)),
               "mask": lambda path: write_label_map(path, result.labels)}
    for kind, path in files.items():
        writers[kind](path)


def segment_job(segmenter: Segmenter, job: Job, outputs: Outputs, limit: int | None = None,
                on_progress: Callable[[Progress], None] | None = None) -> Record:
    """Segment one job and write its outputs. Every failure of that image (bad file, memory, a crash of the
    engine, a write error) becomes a failed record with a one-line reason; only KeyboardInterrupt propagates."""
    started = time.perf_counter()

    def failed(reason: str) -> Record:
        return Record(str(job.image), FAILED, reason, time.perf_counter() - started)

    try:
        notes: list[str] = []
        image, scribbles = read_inputs(job.image, job.scribbles, limit, segmenter.config, notes.append)
        segmenter.set_image(image)
        result = segmenter.run(scribbles, on_progress=on_progress)
        write_result(result, image, outputs.files(job))
    except InputError as exc:
        return failed(str(exc))
    except MemoryError:
        return failed(f"{job.image}: not enough memory to segment this image (try a smaller --max-side or fewer "
                      f"classes)")
    except OSError as exc:
        return failed(f"{exc.filename or job.image}: cannot write ({exc.strerror or exc})")
    except Exception as exc:  # one broken image must not stop the batch; the reason says what happened
        return failed(f"{job.image}: the segmentation failed ({' '.join(str(exc).split()) or 'no details'})")
    return Record(str(job.image), DONE, None, time.perf_counter() - started, (*notes, *result.warnings))


def precheck(job: Job, outputs: Outputs) -> Record | None:
    """The record of a job that needs no run (skipped: its mask exists, or it has no scribbles); None otherwise."""
    mask = outputs.files(job)["mask"]
    if mask.exists():
        return Record(str(job.image), SKIPPED, f"mask exists ({mask})")
    if job.scribbles is None:
        *others, last = job.looked_for
        where = f"neither {', '.join(map(str, others))} nor {last}" if others else str(last)
        return Record(str(job.image), SKIPPED, f"no scribbles ({where})")
    return None


# ----------------------------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class Engine:
    """What segments: the run ``config``, the ``stem`` (loaded once per process: workers reload it from its file,
    or build the untrained filter bank) and the pixel ``limit`` (None: :func:`gdc_core.io.pixel_limit`'s)."""

    config: SegmenterConfig
    stem: StemChoice
    limit: int | None = None

    def spec(self, threads: int) -> "WorkerSpec":
        return WorkerSpec(self.config, self.stem.source if self.stem.pretrained else None, self.limit, threads)


@dataclass(frozen=True)
class WorkerSpec:
    """The picklable recipe a worker process builds its Segmenter from: ``stem_file`` None = the filter bank."""

    config: SegmenterConfig
    stem_file: str | None
    limit: int | None
    threads: int

    def segmenter(self) -> Segmenter:
        import cv2
        import torch

        from .backbone import choose_stem
        from .segmenter import Segmenter

        torch.set_num_threads(self.threads)
        cv2.setNumThreads(self.threads)  # OpenCV's stages (GrabCut, resizing) would otherwise take every core
        return Segmenter(self.config, stem=choose_stem(self.stem_file, allow_download=False))


def usable_cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(device: str, cores: int | None = None) -> int:
    """Worker processes that use the machine without oversubscribing it: one per core on the CPU (each with one
    torch thread), one per GPU on CUDA."""
    cores = cores or usable_cores()
    if device != "cpu":
        import torch

        if torch.cuda.is_available():
            return max(1, min(cores, torch.cuda.device_count()))
    return cores


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Torch threads of each of ``workers`` processes so that threads x workers <= cores (at least 1)."""
    return max(1, (cores or usable_cores()) // max(workers, 1))


# ----------------------------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch is: ``finished`` of ``total`` images, the ``record`` that just finished (None while one is
    running: ``stage`` then says where that one is, in-process runs only), ``rate`` (segmented images per second so
    far, None before the first) and ``eta`` (seconds left at that rate, None when unknown)."""

    finished: int
    total: int
    record: Record | None = None
    stage: str | None = None
    rate: float | None = None
    eta: float | None = None


class Tally:
    """Counts finished images and turns them into :class:`BatchProgress` with rate and ETA (rate over the images
    that ran, not the skipped ones)."""

    def __init__(self, total: int, to_run: int, on_progress: Callable[[BatchProgress], None] | None):
        self.total, self.to_run = total, to_run
        self.finished = self.ran = 0
        self.started = time.perf_counter()
        self.on_progress = on_progress or (lambda progress: None)

    def _rate(self) -> tuple[float | None, float | None]:
        if not self.ran:
            return None, None
        rate = self.ran / max(time.perf_counter() - self.started, 1e-9)
        return rate, (self.to_run - self.ran) / rate

    def stage(self, text: str) -> None:
        self.on_progress(BatchProgress(self.finished, self.total, None, text, *self._rate()))

    def add(self, record: Record, ran: bool) -> None:
        self.finished += 1
        self.ran += ran
        self.on_progress(BatchProgress(self.finished, self.total, record, None, *self._rate()))


# ----------------------------------------------------------------------------------------------- running


def start_batch(jobs: list[Job], outputs: Outputs, on_progress: Callable[[BatchProgress], None] | None = None
                ) -> tuple[dict[int, Record], list[int], "Tally"]:
    """What every way of running a batch does first: remove a killed run's temporaries, record the jobs that need
    no run (:func:`precheck`) by their index, and count them on a new :class:`Tally`. Returns (those records, the
    indices of the jobs to run, the tally)."""
    remove_stale_temporaries(jobs, outputs)
    records: dict[int, Record] = {}
    pending = []
    for index, job in enumerate(jobs):
        record = precheck(job, outputs)
        if record is None:
            pending.append(index)
        else:
            records[index] = record
    tally = Tally(len(jobs), len(pending), on_progress)
    for record in records.values():
        tally.add(record, False)
    return records, pending, tally


def run_batch(jobs: list[Job], outputs: Outputs, engine: Engine, workers: int = 1,
              on_progress: Callable[[BatchProgress], None] | None = None) -> list[Record]:
    """Segment every job that is not done yet; returns one record per job, in the jobs' order.

    ``workers`` > 1 runs the images on that many worker processes (spawned; each builds its Segmenter once, with
    :func:`threads_per_worker` torch threads); 1 runs them here, with ``engine.stem`` and stage progress.
    ``on_progress`` gets a :class:`BatchProgress` after every image (and, in-process, during one). Ctrl+C
    propagates after the running images are stopped; what was written stays.
    """
    records, pending, tally = start_batch(jobs, outputs, on_progress)
    workers = min(workers, len(pending))
    if workers <= 1:
        _run_here(jobs, pending, outputs, engine, tally, records)
    else:
        _run_pool(jobs, pending, outputs, engine, workers, tally, records)
    return [records[i] for i in range(len(jobs))]


def _run_here(jobs: list[Job], pending: list[int], outputs: Outputs, engine: Engine, tally: Tally,
              records: dict[int, Record]) -> None:
    from .segmenter import Segmenter

    segmenter = Segmenter(engine.config, stem=engine.stem) if pending else None
    for index in pending:
        job = jobs[index]
        name = job.image.name
        record = segment_job(segmenter, job, outputs, engine.limit,
                             lambda p: tally.stage(f"{name}: {p.stage} {p.step}/{p.total}"))
        records[index] = record
        tally.add(record, True)


# state of a pool worker process, set once by _start_worker
_worker: dict = {}


def _watch_parent(parent: int) -> None:
    """End this worker when the batch process that started it is gone (killed with -9, it could not say so)."""
    while True:
        time.sleep(WATCH_PARENT_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def _stop_worker(signum, frame) -> None:
    """SIGTERM from the batch: stop the image in progress the way Ctrl+C stops it (its temporaries removed)."""
    if _worker.get("busy"):
        raise KeyboardInterrupt
    os._exit(1)


def _start_worker(spec: WorkerSpec, outputs: Outputs, parent: int, started) -> None:
    """Set up a pool worker; ``started`` (a shared int) numbers the workers, so that on CUDA worker n takes GPU
    n modulo the GPUs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the batch's to handle: it stops the workers
    signal.signal(signal.SIGTERM, _stop_worker)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    with started.get_lock():
        number = started.value
        started.value += 1
    if spec.config.device != "cpu":
        import torch

        if torch.cuda.is_available():
            torch.cuda.set_device(number % torch.cuda.device_count())
    _worker.update(segmenter=spec.segmenter(), outputs=outputs, limit=spec.limit)


def _work(job: Job) -> Record:
    _worker["busy"] = True
    try:
        return segment_job(_worker["segmenter"], job, _worker["outputs"], _worker["limit"])
    finally:
        _worker["busy"] = False


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and stop the running images (each removes its temporaries), then wait for them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)


@contextmanager
def _thread_limits(threads: int) -> Iterator[None]:
    """Set the native thread pools' variables (OpenMP, OpenBLAS, MKL) to ``threads`` while workers are spawned, so
    that they start with them (numpy's BLAS reads them once, on import); a user's own values are kept."""
    added = [name for name in THREAD_VARIABLES if name not in os.environ]
    os.environ.update({name: str(threads) for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _run_pool(jobs: list[Job], pending: list[int], outputs: Outputs, engine: Engine, workers: int, tally: Tally,
              records: dict[int, Record]) -> None:
    """Run ``pending`` on ``workers`` spawned processes, one image per worker at a time. A worker that dies
    (killed, out of memory) fails the images then running, and a new pool takes the rest."""
    spec = engine.spec(threads_per_worker(workers))
    queue = list(pending)
    context = multiprocessing.get_context("spawn")
    started = context.Value("i", 0)
    with _thread_limits(spec.threads):
        while queue:
            pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                       initargs=(spec, outputs, os.getpid(), started))
            running: dict[Future, int] = {}
            broken = False
            try:
                while (queue and not broken) or running:
                    while queue and not broken and len(running) < workers:
                        index = queue.pop(0)
                        running[pool.submit(_work, jobs[index])] = index
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        index = running.pop(future)
                        try:
                            record = future.result()
                        except BrokenProcessPool:
                            broken = True
                            record = Record(str(jobs[index].image), FAILED,
                                            f"{jobs[index].image}: a worker process stopped (killed, or out of "
                                            f"memory) while segmenting this image or another one beside it; rerun "
                                            f"to retry it")
                        records[index] = record
                        tally.add(record, True)
            except BaseException:
                _stop_pool(pool)
                raise
            pool.shutdown(wait=True)


# ----------------------------------------------------------------------------------------------- the report


def summary(records: list[Record]) -> dict[str, int]:
    """How many records are done, skipped, failed."""
    return {status: sum(r.status == status for r in records) for status in (DONE, SKIPPED, FAILED)}


def write_report(path: str | Path, records: list[Record], seconds: float, settings: dict | None = None) -> None:
    """Atomically write the JSON report: ``format``, ``counts``, ``seconds``, ``settings`` and one entry per image
    (:meth:`Record.to_dict`)."""
    write_json(path, {"format": REPORT_FORMAT, "counts": summary(records), "seconds": round(seconds, 3),
                      "settings": settings or {}, "images": [r.to_dict() for r in records]})
