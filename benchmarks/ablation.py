"""The quality ablation of issue 7: every refinement stage on and off, the context convolutions, Σ, and the
classical baselines, each scored by ``gdc-seg eval --json`` on the dev folders. Writes docs/ablation.md.

    python benchmarks/ablation.py --weights ../shared/weights/mobilenet_v2_imagenet_stem.pt [--jobs 2]
        [--data ../shared/data] [--only NAME,...]

Each (row, folder) result is kept as JSON under docs/ablation/ so an interrupted run resumes where it stopped;
delete that folder to measure afresh. Evaluations run with one torch thread each (``--jobs`` in parallel), so
seconds per image are single-core CPU figures measured on a shared machine: compare them within a table only.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from eval_cells import ROOT, common_options, evaluate_cell, present_folders

OUT = ROOT / "docs" / "ablation"

# name: (what changes, gdc-seg eval arguments)
ROWS = {
    "default": ("the default: GDC, fast path, grabcut+seeded", []),
    "refine-none": ("no refinement (the network's own mask)", ["--refine", "none"]),
    "grabcut": ("baseline: OpenCV GrabCut from the strokes", ["--method", "grabcut"]),
    "watershed": ("baseline: marker watershed", ["--method", "watershed"]),
    "random_walker": ("baseline: random walker", ["--method", "random_walker"]),
    "refine-grabcut": ("GrabCut stage only", ["--refine", "grabcut"]),
    "refine-seeded": ("seeded-regions stage only", ["--refine", "seeded"]),
    "dilated6": ("context conv dilated(6), no refinement", ["--conv", "dilated:6", "--refine", "none"]),
    "dilated6-refined": ("context conv dilated(6) with the default refinement", ["--conv", "dilated:6"]),
    "normal": ("context conv normal 3x3, no refinement", ["--conv", "normal", "--refine", "none"]),
    "uniform": ("random offsets from a uniform law, no refinement", ["--conv", "uniform", "--refine", "none"]),
    "deformable": ("context conv deformable, no refinement", ["--conv", "deformable", "--refine", "none"]),
    "sigma0.1": ("GDC Σ = 0.1, no refinement", ["--sigma", "0.1", "--refine", "none"]),
    "sigma0.3": ("GDC Σ = 0.3, no refinement", ["--sigma", "0.3", "--refine", "none"]),
    "weights-paper": ("Eq. 6 as printed (w_c = n_c / N), no refinement", ["--class-weighting", "paper", "--refine", "none"]),
    "literal": ("paper-literal path (full-map loss, plain sampling), no refinement", ["--literal", "--refine", "none"]),
    "settle0": ("every pixel gets all 50 samples (no settling), no refinement", ["--settle-after", "0", "--refine", "none"]),
    "grabcut-iter5": ("the default with 5 GrabCut iterations instead of 2", ["--grabcut-iterations", "5"]),
}


def evaluate(name: str, folder: Path, weights: str | None) -> dict:
    return evaluate_cell(OUT / f"{name}__{folder.name}.json", folder, ROWS[name][1], weights)


def table(results: dict[tuple[str, str], dict], folders: list[str]) -> str:
    head = "| row | what | " + " | ".join(f"{f} mIoU | {f} fg IoU | {f} s/img" for f in folders) + " |"
    lines = [head, "|" + "---|" * (2 + 3 * len(folders))]
    for name, (what, _) in ROWS.items():
        cells = []
        for folder in folders:
            scores = results.get((name, folder))
            if scores is None:
                cells += ["", "", ""]
                continue
            fg = scores.get("mean_fg_iou")
            device = scores.get("config", {}).get("device", "cpu")
            seconds = f"{scores['seconds_per_image']:.2f}" + ("" if device == "cpu" else f" ({device})")
            cells += [f"{100 * scores['miou']:.1f}", f"{100 * fg:.1f}" if fg is not None else "n/a", seconds]
        lines.append(f"| {name} | {what} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    args = common_options(__doc__.split("\n\n")[0], "row").parse_args()
    names = args.only.split(",") if args.only else list(ROWS)
    folders = present_folders(args.data)
    cells = [(name, folder) for name in names for folder in folders]
    with ThreadPoolExecutor(args.jobs) as pool:
        done = dict(zip(cells, pool.map(lambda c: evaluate(c[0], Path(args.data) / c[1], args.weights), cells)))
    existing = {(p.stem.split("__")[0], p.stem.split("__")[1]): json.loads(p.read_text()) for p in OUT.glob("*.json")}
    markdown = ("# Quality ablation\n\nProduced by `python benchmarks/ablation.py` (one confusion matrix per folder, "
                "see `gdc-seg eval`); ImageNet stem from `../shared/weights`. mIoU and mean foreground IoU in %, "
                "seconds per image on one shared CPU core, except where a cell names another device (the deformable "
                "row trains densely at about 95 s per image on one core, so it was measured on an H100 GPU: "
                "`--only deformable` on a CUDA machine). An empty cell has not been measured yet: run the script again, "
                "it resumes from the cached cells in docs/ablation/.\n\n" + table({**existing, **done}, folders) + "\n")
    (ROOT / "docs" / "ablation.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
