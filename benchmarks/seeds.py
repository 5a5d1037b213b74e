"""Seed-averaged quality of the run options behind the fast path's defaults: each variant scored by
``gdc-seg eval --json --seed S`` on the dev folders for several seeds, as the mean mIoU and the per-seed values.
Writes docs/seeds.md.

    python benchmarks/seeds.py --weights ../shared/weights/mobilenet_v2_imagenet_stem.pt [--seeds 0,1,2]
        [--jobs 2] [--data ../shared/data] [--only NAME,...] [--report]

One seed's mIoU moves by 1-3 points on these small folders (voc-dev has 3 photos), more than most of the choices
it is meant to judge, so defaults are chosen on means. Each (variant, folder, seed) summary is kept as JSON under
docs/seeds/ so an interrupted run resumes; delete a file to measure that cell again. Evaluations run with one torch
thread each (``--jobs`` in parallel): seconds per image are single-core figures, to compare within the table only.
``--report`` measures nothing and writes the table from the cells already kept.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from eval_cells import ROOT, common_options, evaluate_cell, present_folders

OUT = ROOT / "docs" / "seeds"
SUMMARY_KEYS = ("miou", "mean_fg_iou", "seconds_per_image", "timings", "config")

# name: (what changes against the default, gdc-seg eval arguments)
VARIANTS = {
    "default": ("the default (GDC, fast path, grabcut+seeded refinement)", []),
    "band0": ("GrabCut free to change every pixel (no band)", ["--grabcut-band", "0"]),
    "band32": ("GrabCut band 32 px", ["--grabcut-band", "32"]),
    "noref": ("no refinement: the paper's pipeline on the fast path", ["--refine", "none"]),
    "noref-slic-input": ("no refinement, SLIC at the network's input resolution",
                         ["--refine", "none", "--superpixel-resolution", "input"]),
    "noref-block1": ("no refinement, minibatches of single pixels", ["--refine", "none", "--pixel-block", "1"]),
    "noref-block3": ("no refinement, minibatches of 3x3 blocks", ["--refine", "none", "--pixel-block", "3"]),
    "noref-settle2": ("no refinement, pixels settle after 2 passes over the whole map instead of 3",
                      ["--refine", "none", "--settle-after", "2"]),
    "literal": ("the paper-literal path (no refinement)", ["--literal", "--refine", "none"]),
}


def evaluate(name: str, folder: Path, seed: int, weights: str | None) -> dict:
    return evaluate_cell(OUT / f"{name}__{folder.name}__s{seed}.json", folder, ["--seed", str(seed), *VARIANTS[name][1]],
                         weights, keep=lambda scores: {key: scores.get(key) for key in SUMMARY_KEYS})


def table(results: dict[tuple[str, str, int], dict], seeds: list[int], folders: list[str]) -> str:
    head = "| variant | what | " + " | ".join(f"{f} mIoU (seeds) | s/img" for f in folders) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(folders))]
    for name, (what, _) in VARIANTS.items():
        cells = []
        for folder in folders:
            scores = [results[(name, folder, seed)] for seed in seeds if (name, folder, seed) in results]
            if not scores:
                cells += ["", ""]
                continue
            values = [100 * s["miou"] for s in scores]
            mean = sum(values) / len(values)
            seconds = sum(s["seconds_per_image"] for s in scores) / len(scores)
            cells += [f"**{mean:.1f}** ({' / '.join(f'{v:.1f}' for v in values)})", f"{seconds:.2f}"]
        if any(cells):
            lines.append(f"| {name} | {what} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = common_options(__doc__.split("\n\n")[0], "variant")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--report", action="store_true", help="only write the table from the kept cells")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(VARIANTS)
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    folders = present_folders(args.data)
    cells = [] if args.report else [(name, folder, seed) for name in names for seed in seeds for folder in folders]
    with ThreadPoolExecutor(args.jobs) as pool:
        done = dict(zip(cells, pool.map(lambda c: evaluate(c[0], Path(args.data) / c[1], c[2], args.weights), cells)))
    existing = {}
    for path in OUT.glob("*.json"):
        name, folder, seed = path.stem.split("__")
        existing[(name, folder, int(seed[1:]))] = json.loads(path.read_text())
    markdown = ("# Seed-averaged quality of the fast path's options\n\nProduced by `python benchmarks/seeds.py` "
                f"(seeds {', '.join(map(str, seeds))}; `gdc-seg eval`, one confusion matrix per folder); ImageNet stem "
                "from `../shared/weights`. Mean mIoU in % in bold, then each seed's; seconds per image on one CPU core "
                "of a 2-core machine running two evaluations at once.\n\n" + table({**existing, **done}, seeds, folders)
                + "\n")
    (ROOT / "docs" / "seeds.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
