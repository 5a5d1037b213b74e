"""Batch throughput: images per second of ``gdc-seg batch`` on one folder against how it runs (1 worker process,
2 workers, Ray with 2 actors on a local Ray), each from scratch into a fresh output folder, printed as a table.

    python benchmarks/throughput.py [--data ../shared/data/grabcut-dev] [--limit N] [--repeat K] [--runs 1,2,ray2]
        [--weights ../shared/weights/mobilenet_v2_imagenet_stem.pt] [-- extra gdc-seg batch options]

The folder is one with ``images/`` and ``scribbles/`` (the dev sets' human scribbles). Each row is one
``gdc-seg batch`` command; "images/s" counts the images it segmented over the command's whole wall time (start of
Python, torch, the workers or Ray included: "first image s" is when the first one finished). "s per image" is the
mean time an image took in its worker (the report's ``seconds``), and "steady" the rate the workers sustain once
started (workers / s per image), as in a long dataset run where the start-up does not count. The last column
projects the 10,582 images of PASCAL VOC train_aug at the steady rate on one such machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VOC_TRAIN_AUG = 10_582
# name: (what it is, images segmented at once, gdc-seg batch options)
RUNS = {
    "1": ("1 worker (in-process)", 1, ["--workers", "1"]),
    "2": ("2 worker processes", 2, ["--workers", "2"]),
    "ray2": ("Ray, 2 actors (local Ray)", 2, ["--ray", "--workers", "2"]),
}


def subset(data: Path, limit: int | None, repeat: int, folder: Path) -> tuple[Path, Path, int]:
    """Links to the first ``limit`` images of ``data/images`` (sorted) and their scribbles in ``folder``, each
    ``repeat`` times under another name (a longer run over the same photos)."""
    data = data.resolve()  # the links are read from another folder
    images, scribbles = folder / "images", folder / "scribbles"
    images.mkdir()
    scribbles.mkdir()
    chosen = sorted((data / "images").iterdir())[:limit]
    for copy in range(repeat):
        for image in chosen:
            stem = f"{image.stem}-{copy}" if repeat > 1 else image.stem
            (images / f"{stem}{image.suffix}").symlink_to(image)
            (scribbles / f"{stem}.png").symlink_to(data / "scribbles" / f"{image.stem}.png")
    return images, scribbles, len(chosen) * repeat


def measure(name: str, images: Path, scribbles: Path, out: Path, extra: list[str]) -> dict:
    """Run one ``gdc-seg batch``; time stamps its per-image lines as they arrive (stderr, one per finished image)."""
    command = [sys.executable, "-m", "gdc_core.cli", "batch", str(images), "--scribbles", str(scribbles),
               "--out", str(out), *RUNS[name][2], *extra]
    started = time.perf_counter()
    finished_at, tail = [], []
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as run:
        for line in run.stderr:
            tail = (tail + [line])[-20:]
            if ": done in " in line:
                finished_at.append(time.perf_counter())
    wall = time.perf_counter() - started
    report_path = out / "batch-report.json"
    if not report_path.is_file():
        raise SystemExit(f"{name}: gdc-seg batch failed ({run.returncode}):\n{''.join(tail)}")
    report = json.loads(report_path.read_text())
    done = report["counts"]["done"]
    seconds = [entry["seconds"] for entry in report["images"] if entry["status"] == "done"]
    per_image = sum(seconds) / len(seconds) if seconds else None
    return {"run": name, "what": RUNS[name][0], "done": done, "failed": report["counts"]["failed"],
            "wall_s": wall, "first_image_s": finished_at[0] - started if finished_at else None,
            "images_per_s": done / wall, "seconds_per_image": per_image,
            "steady_images_per_s": RUNS[name][1] / per_image if per_image else None}


def table(rows: list[dict], cores: int) -> str:
    lines = [f"| run | images | wall s | first image s | images/s | s per image | steady images/s | "
             f"VOC train_aug (10,582) on this {cores}-core machine |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        steady = row["steady_images_per_s"]
        hours = f"{VOC_TRAIN_AUG / steady / 3600:.1f} h" if steady else "n/a"
        first = "n/a" if row["first_image_s"] is None else f"{row['first_image_s']:.1f}"
        per_image = "n/a" if row["seconds_per_image"] is None else f"{row['seconds_per_image']:.2f}"
        lines.append(f"| {row['what']} | {row['done']} done, {row['failed']} failed | {row['wall_s']:.1f} | {first} | "
                     f"{row['images_per_s']:.3f} | {per_image} | {'n/a' if steady is None else f'{steady:.3f}'} | "
                     f"{hours} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "grabcut-dev")
    parser.add_argument("--limit", type=int, help="only the first N images")
    parser.add_argument("--repeat", type=int, default=1, help="segment each image this many times (default 1)")
    parser.add_argument("--runs", default="1,2,ray2", help=f"comma-separated, of {', '.join(RUNS)}")
    parser.add_argument("--weights", help="backbone weights (default: $GDC_SEG_BACKBONE_WEIGHTS)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args, extra = parser.parse_known_args()
    extra = [e for e in extra if e != "--"] + (["--backbone-weights", args.weights] if args.weights else [])
    names = [n for n in args.runs.split(",") if n]
    unknown = [n for n in names if n not in RUNS]
    if unknown:
        parser.error(f"unknown run(s) {', '.join(unknown)}; choose from {', '.join(RUNS)}")
    cores = len(os.sched_getaffinity(0))
    rows = []
    with tempfile.TemporaryDirectory(prefix="gdc-seg-throughput-") as temp:
        images, scribbles, count = subset(args.data, args.limit, args.repeat, Path(temp))
        print(f"{count} images of {args.data}, {cores} cores; batch options: {' '.join(extra) or '(defaults)'}",
              flush=True)
        for name in names:
            rows.append(measure(name, images, scribbles, Path(temp) / f"out-{name}", extra))
            print(f"  {RUNS[name][0]}: {rows[-1]['images_per_s']:.3f} images/s", flush=True)
    print(table(rows, cores))
    if args.json:
        args.json.write_text(json.dumps({"cores": cores, "images": count, "data": str(args.data), "options": extra,
                                         "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
