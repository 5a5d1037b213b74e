"""Quality under every way of scribbling: the default, the network alone and the classical baselines, on the dev
folders' human scribbles and on davis-dev under each simulated style (``gdc_core.simulate``). Writes
docs/robustness.md.

    python benchmarks/robustness.py --weights ../shared/weights/mobilenet_v2_imagenet_stem.pt [--every 10]
        [--scribble-seed 0] [--seeds 0,1,2] [--jobs 2] [--data ../shared/data] [--only METHOD,...] [--report]

davis-dev is read two-class (every object id as foreground, as the interactive-segmentation literature does) and,
on a 2-core machine, subsampled (``--every N``: every N-th frame, sorted by name). Each (method, folder, style)
summary is kept as JSON under docs/robustness/ so an interrupted run resumes; delete a file to measure that cell
again. ``--report`` measures nothing and writes the table from the cells already kept. ``--seeds``: the engine's
seeds for the gdc methods (its weights and offsets; one seed moves voc-dev, 3 photos, by up to 5 points); their
cells are averaged, and the table says over how many.

The last line of the table is the target of issue 14: the default's error (100 - mIoU) over the best baseline's,
averaged over the rows (at most 0.7 wanted), and the rows where the default is below the best baseline.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from eval_cells import ROOT, common_options, evaluate_cell

from gdc_core.simulate import STYLES

OUT = ROOT / "docs" / "robustness"
SUMMARY_KEYS = ("miou", "mean_fg_iou", "seconds_per_image", "scored", "failed", "config")
HUMAN_FOLDERS = ("grabcut-dev", "voc-dev", "acdc-dev")
SIMULATED_FOLDER = "davis-dev"

# name: (what it is, gdc-seg eval arguments)
METHODS = {
    "default": ("gdc-seg's default", []),
    "network": ("the paper's pipeline: the network alone, no spatial prior, no refinement",
                ["--refine", "none"]),
    "grabcut": ("OpenCV GrabCut from the strokes and their bounding box", ["--method", "grabcut"]),
    "watershed": ("marker watershed", ["--method", "watershed"]),
    "random_walker": ("random walker", ["--method", "random_walker"]),
}
BASELINES = ("grabcut", "watershed", "random_walker")
SEEDED = ("default", "network")  # the methods with an engine seed


def rows(data: Path) -> list[tuple[str, str]]:
    """(folder, scribble style) of every row whose folder is present."""
    found = [(folder, "human") for folder in HUMAN_FOLDERS if (data / folder).is_dir()]
    if (data / SIMULATED_FOLDER).is_dir():
        found += [(SIMULATED_FOLDER, style) for style in STYLES]
    return found


def cell_arguments(folder: str, style: str, every: int, seed: int) -> list[str]:
    if style == "human":
        return []
    return ["--style", style, "--scribble-seed", str(seed), "--two-class", "--every", str(every)]


def report(table: dict[tuple[str, str, str], dict], data_rows: list[tuple[str, str]], every: int, seed: int) -> str:
    """The markdown page; ``table`` holds each cell's summary, ``miou`` averaged over its seeds (``seeds``)."""
    """The markdown page."""
    seeds = sorted({len(cell["seeds"]) for cell in table.values() if "seeds" in cell})
    lines = ["# Quality under every way of scribbling", "",
             f"Written by `benchmarks/robustness.py` (mIoU %, ImageNet stem; default and network averaged over "
             f"{' or '.join(map(str, seeds)) or 1} engine seeds, per cell below). Human rows: the "
             "folder's own scribbles. davis-dev rows: scribbles simulated from the ground truth "
             f"(`gdc_core.simulate`, scribble seed {seed}), read two-class, every {every}th frame. "
             "Error ratio: (100 - default) / (100 - best baseline).", "",
             "| folder | scribbles | " + " | ".join(METHODS) + " | best baseline | error ratio |",
             "|---|---|" + "---|" * (len(METHODS) + 2)]
    ratios, losses = [], []
    for folder, style in data_rows:
        cells = {m: table.get((m, folder, style)) for m in METHODS}
        scores = {m: 100 * c["miou"] for m, c in cells.items() if c and c.get("miou") is not None}
        known = [b for b in BASELINES if b in scores]
        best = max(known, key=scores.get) if known else None
        ratio = None
        if best and "default" in scores:
            ratio = (100 - scores["default"]) / max(1e-9, 100 - scores[best])
            ratios.append(ratio)
            if scores["default"] < scores[best]:
                losses.append(f"{folder} {style}")
        text = [(f"**{scores[m]:.1f}**" if m == max(scores, key=scores.get) else f"{scores[m]:.1f}")
                + (f" ({len(cells[m]['seeds'])})" if len(cells[m].get("seeds", ())) > 1 else "")
                if m in scores else "–" for m in METHODS]
        lines.append(f"| {folder} | {style} | " + " | ".join(text) + f" | {best or '–'} | "
                     + (f"{ratio:.2f}" if ratio is not None else "–") + " |")
    if ratios:
        lines += ["", f"Mean error ratio over {len(ratios)} rows: **{sum(ratios) / len(ratios):.2f}** "
                      f"(target at most 0.70). Rows where the default is below the best baseline: "
                      f"{', '.join(losses) if losses else 'none'}."]
    seconds = {m: [table[(m, f, s)]["seconds_per_image"] for f, s in data_rows
                   if (m, f, s) in table and table[(m, f, s)].get("seconds_per_image")] for m in METHODS}
    lines += ["", "Mean seconds per image over the rows (cells measured side by side with `--jobs`, one torch "
                  "thread each: compare within this table only): "
              + ", ".join(f"{m} {sum(v) / len(v):.2f}" for m, v in seconds.items() if v) + ".", "",
              "Methods:", ""] + [f"- `{name}`: {what}" for name, (what, _) in METHODS.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = common_options(__doc__.splitlines()[0], "method")
    parser.add_argument("--every", type=int, default=10, help="davis-dev: every N-th frame (default 10)")
    parser.add_argument("--scribble-seed", type=int, default=0)
    parser.add_argument("--seeds", default="0,1,2", help="engine seeds of the gdc methods (default 0,1,2)")
    parser.add_argument("--report", action="store_true", help="write the table from the kept cells only")
    args = parser.parse_args()
    data = Path(args.data)
    data_rows = rows(data)
    methods = args.only.split(",") if args.only else list(METHODS)
    suffix = f"every{args.every}-seed{args.scribble_seed}"

    engine_seeds = [int(seed) for seed in args.seeds.split(",")]

    def target(method: str, folder: str, style: str, seed: int = 0) -> Path:
        name = f"{method}__{folder}" if style == "human" else f"{method}__{folder}__{style}__{suffix}"
        return OUT / (f"{name}.json" if seed == 0 else f"{name}__seed{seed}.json")

    def keep(scores: dict) -> dict:
        return {key: scores.get(key) for key in SUMMARY_KEYS}

    jobs = [(m, f, s, seed) for m in methods for f, s in data_rows for seed in (engine_seeds if m in SEEDED else [0])]
    if not args.report:
        def run(job):
            method, folder, style, seed = job
            evaluate_cell(target(*job), data / folder,
                          METHODS[method][1] + cell_arguments(folder, style, args.every, args.scribble_seed)
                          + (["--seed", str(seed)] if method in SEEDED else []), args.weights, keep)
            print(f"{method} {folder} {style} seed {seed}: done", flush=True)

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(run, jobs))
    table = {}
    for m in METHODS:
        for f, s in data_rows:
            cells = [json.loads(target(m, f, s, seed).read_text()) for seed in (engine_seeds if m in SEEDED else [0])
                     if target(m, f, s, seed).is_file()]
            if cells:
                table[(m, f, s)] = {**cells[0], "miou": sum(c["miou"] for c in cells) / len(cells),
                                    "seconds_per_image": sum(c["seconds_per_image"] for c in cells) / len(cells),
                                    "seeds": [c["miou"] for c in cells]}
    page = report(table, data_rows, args.every, args.scribble_seed)
    (ROOT / "docs" / "robustness.md").write_text(page)
    print(page)


if __name__ == "__main__":
    main()
