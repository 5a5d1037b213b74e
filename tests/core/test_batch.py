"""``gdc_core.batch``: resume, the JSON report, rate and ETA, worker processes, failure isolation, and a batch
killed with -9 (no half files; the rerun completes). Tiny synthetic images, few steps, the untrained stem."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gdc_core import batch
from gdc_core.backbone import choose_stem
from gdc_core.cli import main
from gdc_core.config import SegmenterConfig

from test_cli import TINY, write_pair

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("offline_stem")


def folder_of(tmp_path: Path, good: int, corrupt: tuple[str, ...] = (), shape=(30, 40)) -> tuple[Path, Path]:
    """images/ with ``good`` scribbled images g0, g1, ... and the ``corrupt`` stems (scribbled, image bytes not an
    image), scribbles in scribbles/."""
    images, scribbles = tmp_path / "images", tmp_path / "scribbles"
    for index in range(good):
        write_pair(images, f"g{index}", shape=shape, scribbles_dir=scribbles)
    for stem in corrupt:
        write_pair(images, stem, shape=shape, scribbles_dir=scribbles)
        (images / f"{stem}.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing of an image")
    return images, scribbles


def report_of(out: Path) -> dict:
    return json.loads((out / "batch-report.json").read_text(encoding="utf-8"))


def statuses(report: dict) -> dict[str, str]:
    return {Path(entry["image"]).name: entry["status"] for entry in report["images"]}


def complete_masks(out: Path, shape=(30, 40)) -> set[str]:
    """The stems of the masks in ``out``; each must be a whole indexed PNG of the image's size."""
    stems = set()
    for path in out.glob("*.png"):
        with Image.open(path) as mask:
            mask.load()
            assert mask.mode == "P" and mask.size == (shape[1], shape[0]), path
        stems.add(path.stem)
    return stems


def test_resume_skips_done_images_and_retries_failed_ones(tmp_path, capsys):
    images, scribbles = folder_of(tmp_path, 2, corrupt=("bad",))
    out = tmp_path / "masks"
    arguments = ["batch", str(images), "--scribbles", str(scribbles), "--out", str(out), "--workers", "1", *TINY]
    assert main(arguments) == 1
    first = report_of(out)
    assert statuses(first) == {"g0.png": "done", "g1.png": "done", "bad.png": "failed"}
    assert first["counts"] == {"done": 2, "skipped": 0, "failed": 1}
    bad = next(e for e in first["images"] if e["status"] == "failed")
    assert bad["reason"].startswith(f"{images / 'bad.png'}: not a readable image")
    masks = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    assert set(masks) == {"g0.png", "g1.png"}
    capsys.readouterr()

    write_pair(images, "bad", scribbles_dir=scribbles)  # the user repairs the image: the rerun retries it
    assert main(arguments) == 0
    assert statuses(report_of(out)) == {"g0.png": "skipped", "g1.png": "skipped", "bad.png": "done"}
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png") if p.name in masks} == masks  # not rewritten
    assert "3 images: 1 done, 2 skipped, 0 failed" in capsys.readouterr().out


def test_progress_lines_carry_rate_and_eta(tmp_path, capsys):
    images, scribbles = folder_of(tmp_path, 3)
    assert main(["batch", str(images), "--scribbles", str(scribbles), "--out", str(tmp_path / "m"), "--workers", "1",
                 *TINY]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if ": done in " in line]
    assert len(lines) == 3 and all(" images/s" in line for line in lines)
    assert "ETA" in lines[0] and lines[-1].endswith("ETA 0 s")


def test_tally_rate_and_eta_follow_the_images_that_ran(monkeypatch):
    clock = iter([0.0, 20.0])  # the start, then the one image that ran
    monkeypatch.setattr(batch.time, "perf_counter", lambda: next(clock))
    seen = []
    tally = batch.Tally(total=5, to_run=4, on_progress=seen.append)
    tally.add(batch.Record("skipped.png", batch.SKIPPED, "mask exists"), ran=False)  # nothing ran yet: no rate
    tally.add(batch.Record("a.png", batch.DONE), ran=True)  # at 20 s: 1 image in 20 s, 3 left
    assert (seen[0].rate, seen[0].eta) == (None, None)
    assert seen[1].finished == 2 and seen[1].rate == pytest.approx(1 / 20) and seen[1].eta == pytest.approx(60)


def test_default_workers_never_oversubscribe_the_cores():
    for cores in (1, 2, 3, 8, 64):
        workers = batch.default_workers("cpu", cores)
        assert 1 <= workers <= cores
        for asked in range(1, cores + 3):
            assert batch.threads_per_worker(asked, cores) * min(asked, cores) <= cores
            assert batch.threads_per_worker(asked, cores) >= 1


def test_worker_processes_isolate_a_corrupt_image(tmp_path, capsys):
    """Two worker processes: every good image is done, the corrupt one failed with a reason naming the file and
    what is wrong with it (no exception class name, no traceback), and the masks equal the in-process run's."""
    images, scribbles = folder_of(tmp_path, 4, corrupt=("broken",))
    pooled, here = tmp_path / "pooled", tmp_path / "here"
    common = ["batch", str(images), "--scribbles", str(scribbles), *TINY]
    assert main([*common, "--out", str(pooled), "--workers", "2"]) == 1
    err = capsys.readouterr().err
    report = report_of(pooled)
    assert statuses(report) == {**{f"g{i}.png": "done" for i in range(4)}, "broken.png": "failed"}
    reason = next(e["reason"] for e in report["images"] if e["status"] == "failed")
    assert reason.startswith(f"{images / 'broken.png'}: not a readable image (")
    assert "Error" not in reason and "Traceback" not in err
    assert complete_masks(pooled) == {f"g{i}" for i in range(4)}
    assert main([*common, "--out", str(here), "--workers", "1"]) == 1
    for index in range(4):  # same seed, same stem: a worker process segments as this one does
        assert np.array_equal(np.asarray(Image.open(pooled / f"g{index}.png")),
                              np.asarray(Image.open(here / f"g{index}.png")))


def test_run_batch_library_api_in_order(tmp_path):
    """The plain API: jobs in, one record per job out in the jobs' order, progress after every image."""
    images, scribbles = folder_of(tmp_path, 2)
    (images / "lonely.png").write_bytes((images / "g0.png").read_bytes())  # no scribbles
    jobs = batch.find_jobs(images, scribbles)
    config = SegmenterConfig(steps=3, samples=2, pixels_per_step=64, device="cpu")
    seen = []
    records = batch.run_batch(jobs, batch.Outputs(tmp_path / "m"), batch.Engine(config, choose_stem()),
                              workers=1, on_progress=lambda p: seen.append(p) if p.record else None)
    assert [(Path(r.image).name, r.status) for r in records] == [
        ("g0.png", "done"), ("g1.png", "done"), ("lonely.png", "skipped")]
    assert records[2].reason.startswith("no scribbles (neither ")
    assert [p.finished for p in seen] == [1, 2, 3] and seen[-1].total == 3


def test_kill_9_mid_batch_leaves_no_half_file_and_the_rerun_completes(tmp_path):
    """A batch on two worker processes is killed with -9 (it and its workers) while images are being written:
    every mask there is whole, and the rerun finishes the rest and removes the temporaries the kill left."""
    shape = (96, 128)
    images, scribbles = folder_of(tmp_path, 8, shape=shape)
    out = tmp_path / "masks"
    weights = tmp_path / "stem.pt"  # a weights file: the subprocess must not look for a download
    from torchvision.models import mobilenet_v2
    torch.save(mobilenet_v2(weights=None).state_dict(), weights)
    arguments = ["batch", str(images), "--scribbles", str(scribbles), "--out", str(out), "--workers", "2",
                 "--steps", "150", "--samples", "4", "--device", "cpu", "--backbone-weights", str(weights)]
    process = subprocess.Popen([sys.executable, "-m", "gdc_core.cli", *arguments], cwd=ROOT,
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not list(out.glob("*.png")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()
    process.stderr.close()
    done = complete_masks(out, shape)
    assert 1 <= len(done) < 8
    (out / ".g7.png.abcd1234.tmp").write_bytes(b"half")  # what a kill between write and rename leaves

    assert main(arguments[:-2] + ["--steps", "3", "--samples", "2"]) == 0  # the rerun (the stem: untrained)
    assert complete_masks(out, shape) == {f"g{i}" for i in range(8)}
    report = report_of(out)
    assert report["counts"] == {"done": 8 - len(done), "skipped": len(done), "failed": 0}
    assert list(out.glob("*.tmp")) == []


def test_ctrl_c_stops_the_workers_keeps_whole_masks_and_leaves_no_temporary(tmp_path):
    """Ctrl+C (SIGINT to the batch's process group, as a terminal sends it): exit 130, the running images stop
    and remove their temporaries, the report records what finished."""
    shape = (96, 128)
    images, scribbles = folder_of(tmp_path, 6, shape=shape)
    out = tmp_path / "masks"
    weights = tmp_path / "stem.pt"
    from torchvision.models import mobilenet_v2
    torch.save(mobilenet_v2(weights=None).state_dict(), weights)
    process = subprocess.Popen(
        [sys.executable, "-m", "gdc_core.cli", "batch", str(images), "--scribbles", str(scribbles), "--out", str(out),
         "--workers", "2", "--steps", "150", "--samples", "4", "--device", "cpu", "--backbone-weights", str(weights)],
        cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as from a terminal, even when these tests
    deadline = time.monotonic() + 240                                        # run in the background (SIGINT ignored)
    while not list(out.glob("*.png")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    assert b"interrupted" in err and b"Traceback" not in err
    done = complete_masks(out, shape)
    assert 1 <= len(done) < 6 and list(tmp_path.rglob("*.tmp")) == []
    report = report_of(out)
    assert report["settings"]["interrupted"] is True
    assert {Path(e["image"]).stem for e in report["images"] if e["status"] == "done"} <= done  # a mask written
    # as the interrupt came may miss its record: the rerun skips it all the same


def test_a_worker_killed_mid_batch_fails_only_what_it_was_running(tmp_path):
    """One worker process dies (kill -9, as the out-of-memory killer does): the images then running are failed
    with a reason, a new pool finishes the others, and the rerun retries the failed ones."""
    import multiprocessing
    import threading

    shape = (96, 128)
    images, scribbles = folder_of(tmp_path, 8, shape=shape)
    out = tmp_path / "masks"
    arguments = ["batch", str(images), "--scribbles", str(scribbles), "--out", str(out), "--workers", "2",
                 "--steps", "100", "--samples", "4", "--device", "cpu"]
    killed = []

    def kill_one_worker():
        deadline = time.monotonic() + 240
        while not list(out.glob("*.png")) and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = multiprocessing.active_children()
        if workers:
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    status = main(arguments)
    killer.join()
    assert killed and status == 1
    report = report_of(out)
    failed = [e for e in report["images"] if e["status"] == "failed"]
    assert 1 <= len(failed) <= 2 and report["counts"]["done"] == 8 - len(failed)
    assert all("a worker process stopped" in e["reason"] for e in failed)
    done = {Path(e["image"]).stem for e in report["images"] if e["status"] == "done"}
    lost = {Path(e["image"]).stem for e in failed}
    # a worker killed just after its rename has written a whole mask it could not report: the rerun skips it
    finished = complete_masks(out, shape)
    assert done <= finished <= done | lost
    assert main(arguments) == 0
    assert report_of(out)["counts"] == {"done": 8 - len(finished), "skipped": len(finished), "failed": 0}
    assert complete_masks(out, shape) == done | lost
