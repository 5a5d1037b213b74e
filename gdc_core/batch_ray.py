"""Running a batch (:mod:`gdc_core.batch`) on a Ray cluster: Ray Data ``map_batches`` over the images that are not
done yet, with a pool of actors that each build their Segmenter once (one GPU per actor when the cluster has GPUs
and the device is not ``cpu``; one CPU and one torch thread per actor otherwise).

Needs the optional extra (``pip install "gdc-seg[ray]"``) on the driver and on every node, and the image, scribble
and output folders at the same paths on every node (a shared file system). Resume, atomic writes and the records
are those of :mod:`gdc_core.batch`; the records arrive as the actors finish them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .batch import BatchProgress, Engine, Job, Outputs, Record, Tally, WorkerSpec, segment_job, start_batch

RAY_EXTRA = 'pip install "gdc-seg[ray]"'


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached; the message says what to do."""


class SegmentActor:
    """A Ray Data actor: builds one Segmenter from ``spec``, then segments the rows it is given (``image``,
    ``scribbles``, ``index``) and returns their records as columns."""

    def __init__(self, spec: WorkerSpec, outputs: Outputs):
        self.segmenter = spec.segmenter()
        self.outputs = outputs
        self.limit = spec.limit

    def __call__(self, rows: dict) -> dict:
        columns: dict[str, list] = {"index": [], "status": [], "reason": [], "seconds": [], "warnings": []}
        for index, image, scribbles in zip(rows["index"], rows["image"], rows["scribbles"]):
            record = segment_job(self.segmenter, Job(Path(image), Path(scribbles)), self.outputs, self.limit)
            columns["index"].append(int(index))
            columns["status"].append(record.status)
            columns["reason"].append(record.reason or "")
            columns["seconds"].append(float(record.seconds or 0.0))
            columns["warnings"].append("\n".join(record.warnings))
        return columns


def run_batch_ray(jobs: list[Job], outputs: Outputs, engine: Engine, address: str | None = None,
                  actors: int | None = None,
                  on_progress: Callable[[BatchProgress], None] | None = None) -> list[Record]:
    """:func:`gdc_core.batch.run_batch` on Ray: connects to ``address`` (None: ``$RAY_ADDRESS``, else a local Ray
    started for this run) unless Ray is already initialised, and runs ``actors`` actors (default: one per GPU of
    the cluster, else one per CPU). Returns one record per job, in the jobs' order."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable(f"Ray is not installed: {RAY_EXTRA}") from None
    records, pending, tally = start_batch(jobs, outputs, on_progress)
    if pending:
        started_here = not ray.is_initialized()
        if started_here:
            try:
                ray.init(address=address, logging_level="ERROR", log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise RayUnavailable(f"cannot reach the Ray cluster {address or '(local)'}: "
                                     f"{' '.join(str(exc).split())}") from None
        try:
            _run_on_ray(ray, jobs, pending, outputs, engine, actors, tally, records)
        finally:
            if started_here:
                ray.shutdown()
    return [records[i] for i in range(len(jobs))]


def _run_on_ray(ray, jobs: list[Job], pending: list[int], outputs: Outputs, engine: Engine, actors: int | None,
                tally: Tally, records: dict[int, Record]) -> None:
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0)) if engine.config.device != "cpu" else 0
    count = actors or max(1, gpus or int(resources.get("CPU", 1)))
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the caller shows progress (on_progress)
    context.print_on_execution_start = False
    rows = [{"index": i, "image": str(jobs[i].image), "scribbles": str(jobs[i].scribbles)} for i in pending]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        SegmentActor, fn_constructor_kwargs={"spec": engine.spec(threads=1), "outputs": outputs}, batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=min(count, len(rows))), num_cpus=0 if gpus else 1,
        num_gpus=1 if gpus else 0)
    for row in dataset.iter_rows():
        index = int(row["index"])
        record = Record(str(jobs[index].image), str(row["status"]), str(row["reason"]) or None,
                        float(row["seconds"]), tuple(w for w in str(row["warnings"]).split("\n") if w))
        records[index] = record
        tally.add(record, True)
