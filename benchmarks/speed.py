"""Speed of a full segmentation (SLIC + 50 steps + 50 samples) at 0.2, 1 and 24 MP, fast path against the
paper-literal reference and OpenCV GrabCut (5 iterations, from the strokes and their bounding box: the
``--method grabcut`` baseline) measured in the same run. Prints per-stage seconds, totals, peak RSS and the ratio.

    python benchmarks/speed.py --weights ../shared/weights/mobilenet_v2_imagenet_stem.pt [--threads N]
        [--sizes 0.2,1,24] [--repeats 3] [--device cpu|cuda] [--quality ../shared/data/grabcut-dev,...]

Stage columns and "total" are wall-clock seconds; "cpu s" is the process's CPU time (all threads), the fairer
figure on a shared machine. "vs literal" and "vs grabcut" are wall-clock ratios (above 1: faster than that). Each (size, path) runs in its own process so that its peak RSS is its own. The image is a real photo from
the data folder (grabcut-dev's first image when present, else the bundled sample) resized to the target
megapixels, with its scribbles scaled the same way. A run is timed after one warm-up run on the same image
(torch's first-call overheads); the best of --repeats is reported. With --quality, both paths are also scored
on the given data folders with the evaluation code of ``gdc-seg eval``.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from gdc_core.cpu_runtime import tune_process

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "grabcut-dev"
PATHS = {  # "literal" is the paper as printed: full-map loss, plain sampling, no refinement
    "fast": {},
    "fast-noref": {"refine": "none"},
    "literal": {"literal": True, "refine": "none"},
    "fast+warm": {},
    "grabcut": None,  # OpenCV GrabCut from the strokes (gdc_core.baselines), the classical tool to beat
}


def _load_case(megapixels: float):
    import cv2

    from gdc_core.io import read_image, read_label_map

    images = sorted((DATA / "images").glob("*")) if DATA.is_dir() else []
    if images:
        image = read_image(images[0])
        scribbles = read_label_map(DATA / "scribbles" / (images[0].stem + ".png"))
    else:
        image = read_image(ROOT / "resources" / "sample.png")
        scribbles = read_label_map(ROOT / "resources" / "sample_scribbles.png")
    height, width = image.shape[:2]
    scale = (megapixels * 1e6 / (height * width)) ** 0.5
    size = (round(width * scale), round(height * scale))
    image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    scribbles = cv2.resize(scribbles, size, interpolation=cv2.INTER_NEAREST)
    return image, scribbles


def run_case(megapixels: float, path: str, weights: str | None, repeats: int, device: str) -> dict:
    """Time one path on one image size in this process: per-stage seconds (best total of ``repeats``)."""
    from gdc_core import Segmenter, SegmenterConfig

    image, scribbles = _load_case(megapixels)
    if PATHS[path] is None:
        from gdc_core.baselines import grabcut

        grabcut(image, scribbles)  # warm-up
        totals = []
        for _ in range(repeats):
            tic, cpu = time.perf_counter(), time.process_time()
            grabcut(image, scribbles)
            totals.append((time.perf_counter() - tic, time.process_time() - cpu))
        total, cpu = min(totals)
        return {"megapixels": round(image.shape[0] * image.shape[1] / 1e6, 2), "path": path, "first_run": total,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "device": "cpu",
                "superpixels": 0.0, "training": 0.0, "sampling": 0.0, "finishing": total, "total": total, "cpu": cpu}
    config = SegmenterConfig(device=device).replace(**PATHS[path])
    segmenter = Segmenter(config, backbone_weights=weights)
    tic = time.perf_counter()
    segmenter.set_image(image)
    segmenter.run(scribbles)  # warm-up; also computes the stem features and superpixels once
    first = time.perf_counter() - tic
    best = None
    for _ in range(repeats):
        if path != "fast+warm":
            segmenter.set_image(image)  # a new image each time: stem features and SLIC are part of the cost
        tic, cpu = time.perf_counter(), time.process_time()
        result = segmenter.run(scribbles, warm_start=path == "fast+warm")
        total, cpu = time.perf_counter() - tic, time.process_time() - cpu
        if best is None or total < best["total"]:
            best = {**result.timings, "total": total, "cpu": cpu}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"megapixels": round(image.shape[0] * image.shape[1] / 1e6, 2), "path": path, "first_run": first,
            "peak_rss_mb": peak_mb, "device": result.device, **best}


def quality(folders: list[str], weights: str | None) -> list[str]:
    """mIoU of the fast and the literal path on each data folder (through ``gdc-seg eval --json``)."""
    lines = []
    for folder in folders:
        for path, extra in (("fast", []), ("literal", ["--literal"])):
            command = [sys.executable, "-m", "gdc_core.cli", "eval", folder, "--json", *extra]
            if weights:
                command += ["--backbone-weights", weights]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            scores = json.loads(out)
            lines.append(f"{Path(folder).name:12s} {path:8s} mIoU {100 * scores['miou']:5.1f}  "
                         f"s/img {scores['seconds_per_image']:.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="ImageNet MobileNetV2 weights file")
    parser.add_argument("--sizes", default="0.2,1,24", help="megapixels, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quality", help="data folders to score both paths on, comma-separated")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: "<megapixels>:<path>"
    args = parser.parse_args()
    malloc_tuned = tune_process()  # before torch loads
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.case:
        megapixels, path = args.case.split(":")
        print(json.dumps(run_case(float(megapixels), path, args.weights, args.repeats, args.device)))
        return
    import os

    print(f"machine: {_machine()}; torch {torch.__version__}, {args.threads or torch.get_num_threads()} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT')}, "
          f"malloc tuned: {malloc_tuned}")
    rows = []
    for megapixels in args.sizes.split(","):
        for path in PATHS:
            command = [sys.executable, __file__, "--case", f"{megapixels}:{path}", "--repeats", str(args.repeats),
                       "--device", args.device]
            command += ["--weights", args.weights] if args.weights else []
            command += ["--threads", str(args.threads)] if args.threads else []
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                raise SystemExit(done.returncode)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    header = (f"{'MP':>5} {'path':10} {'slic':>6} {'train':>6} {'sample':>6} {'finish':>6} {'total':>6} {'cpu s':>6} "
              f"{'peak MB':>8} {'vs literal':>10} {'vs grabcut':>10}")
    print(header)
    for row in rows:
        literal, classical = (next(r for r in rows if r["megapixels"] == row["megapixels"] and r["path"] == name)
                              for name in ("literal", "grabcut"))
        print(f"{row['megapixels']:5.2f} {row['path']:10} {row['superpixels']:6.2f} {row['training']:6.2f} "
              f"{row['sampling']:6.2f} {row['finishing']:6.2f} {row['total']:6.2f} {row['cpu']:6.2f} {row['peak_rss_mb']:8.0f} "
              f"{literal['total'] / row['total']:9.1f}x {classical['total'] / row['total']:9.2f}x")
    if args.quality:
        print("\n".join(quality(args.quality.split(","), args.weights)))


def _machine() -> str:
    import os
    import platform

    model = ""
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.machine()} {model}, {os.cpu_count()} cores"


if __name__ == "__main__":
    main()
