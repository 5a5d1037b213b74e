"""Interactive quality: NoC@85/90 and IoU against the number of interactions of gdc-seg's default and the classical
baselines under the click and the corrective-stroke robots (``gdc-seg eval --protocol``, ``gdc_core.interaction``)
on the dev folders. Writes docs/interaction.md and its plot docs/interaction/curves.png.

    python benchmarks/interaction.py --weights ../shared/weights/mobilenet_v2_imagenet_stem.pt [--every 30]
        [--jobs 2] [--data ../shared/data] [--only METHOD,...] [--report]

Every folder is read two-class (object against the rest); davis-dev is subsampled (``--every N``: every N-th frame,
sorted by name). Each (method, folder, protocol) summary is kept as JSON under docs/interaction/ so an interrupted
run resumes; delete a file to measure that cell again. ``--report`` measures nothing and writes the page from the
cells already kept. The plot needs matplotlib (``pip install -e ".[bench]"``).
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from eval_cells import ROOT, common_options, evaluate_cell

from gdc_core.interaction import NOC_THRESHOLDS, PROTOCOLS, noc_key

OUT = ROOT / "docs" / "interaction"
FOLDERS = ("grabcut-dev", "davis-dev", "voc-dev")
SUBSAMPLED = "davis-dev"
# name: (what it is, gdc-seg eval arguments)
METHODS = {
    "default": ("gdc-seg's default, warm-started after each interaction as the app does", []),
    "fresh": ("gdc-seg's default, a fresh run after each interaction (the app's R)", ["--cold"]),
    "grabcut": ("OpenCV GrabCut from the strokes and their bounding box", ["--method", "grabcut"]),
    "watershed": ("marker watershed", ["--method", "watershed"]),
    "random_walker": ("random walker", ["--method", "random_walker"]),
}
FRESH_CELLS = (("grabcut-dev", "clicks"),)  # where the fresh-run variant is measured (for the time ratio)
BASELINES = ("grabcut", "watershed", "random_walker")
# RITM HRNet-18 (Sofiiuk et al. 2021, Table 2, trained on SBD): the deep, pretrained reference
RITM_NOC90 = {"GrabCut": 1.54, "Berkeley": 2.26, "DAVIS": 5.74}
RITM_FOLDER = {"grabcut-dev": "GrabCut", "davis-dev": "DAVIS"}


def cells(folders: list[str], methods: list[str]) -> list[tuple[str, str, str]]:
    """(method, folder, protocol) to measure, the clicks first."""
    return [(m, f, p) for p in PROTOCOLS for f in folders for m in methods
            if m != "fresh" or (f, p) in FRESH_CELLS]


def target(method: str, folder: str, protocol: str, every: int) -> Path:
    suffix = f"__every{every}" if folder == SUBSAMPLED else ""
    return OUT / f"{method}__{folder}__{protocol}{suffix}.json"


def keep(report: dict) -> dict:
    """The summary and, per image, its NoC and IoU curve (not the robot's moves)."""
    images = [{k: r.get(k) for k in ("name", "status", "error", *map(noc_key, NOC_THRESHOLDS), "ious", "seconds")
               if k in r} for r in report["images"]]
    return {**{k: v for k, v in report.items() if k != "images"}, "images": images}


def plot(table: dict, folders: list[str], path: Path) -> None:
    """IoU against interactions, one panel per (protocol, folder), one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(PROTOCOLS), len(folders), figsize=(4.2 * len(folders), 3.4 * len(PROTOCOLS)),
                                squeeze=False, sharey=True)
    for row, protocol in enumerate(PROTOCOLS):
        for col, folder in enumerate(folders):
            axis = axes[row][col]
            for method in METHODS:
                cell = table.get((method, folder, protocol))
                if cell and cell.get("iou_at"):
                    ious = [100 * v for v in cell["iou_at"]]
                    axis.plot(range(1, len(ious) + 1), ious, marker=".", label=method,
                              linestyle="--" if method == "fresh" else "-")
            for threshold in NOC_THRESHOLDS:
                axis.axhline(100 * threshold, color="grey", linewidth=0.6, linestyle=":")
            axis.set_title(f"{folder}, {protocol}")
            axis.set_xlabel("interactions")
            axis.set_ylim(0, 100)
            axis.set_xticks([1, 5, 10, 15, 20])
            axis.grid(alpha=0.3)
            if col == 0:
                axis.set_ylabel("mean foreground IoU (%)")
    axes[0][0].legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def report(table: dict, folders: list[str], every: int) -> str:
    """The markdown page from the kept cells."""
    def number(cell, key, digits=2):
        return "–" if not cell or cell.get(key) is None else f"{cell[key]:.{digits}f}"

    lines = ["# Interactive quality: the number of interactions to a good mask", "",
             "Written by `benchmarks/interaction.py` from the cells in `docs/interaction/` (ImageNet stem, measured "
             "on a shared 2-core CPU under load, cells side by side with one torch thread each: compare seconds "
             f"within this page only). Every folder read two-class; davis-dev every {every}th frame. The protocols "
             "and the robots: `gdc_core/interaction.py` and the section below.", ""]
    for protocol in PROTOCOLS:
        lines += [f"## {protocol}", "",
                  "| folder | images | method | NoC@85 | NoC@90 | never 90 | IoU@1 | IoU@3 | IoU@5 | IoU@10 | IoU@20 "
                  "| s first | s later |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for folder in folders:
            for method in METHODS:
                cell = table.get((method, folder, protocol))
                if not cell or not cell.get("scored"):
                    continue
                ious = cell["iou_at"]
                at = " | ".join(f"{100 * ious[k - 1]:.1f}" if k <= len(ious) else "–" for k in (1, 3, 5, 10, 20))
                lines.append(f"| {folder} | {cell['scored']} | {method} | {number(cell, 'noc85')} | "
                             f"{number(cell, 'noc90')} | {cell['never90']} | {at} | "
                             f"{number(cell, 'seconds_first')} | {number(cell, 'seconds_later')} |")
            if protocol == "clicks" and folder in RITM_FOLDER:
                lines.append(f"| {folder} | (full set) | RITM HRNet-18, published | – | "
                             f"{RITM_NOC90[RITM_FOLDER[folder]]:.2f} | – | – | – | – | – | – | – | – |")
        lines.append("")
    lines += ["RITM HRNet-18's published NoC@90 (Sofiiuk et al. 2021, trained on SBD, full sets): GrabCut "
              f"{RITM_NOC90['GrabCut']}, Berkeley {RITM_NOC90['Berkeley']}, DAVIS {RITM_NOC90['DAVIS']}.", "",
              "![IoU against interactions](interaction/curves.png)", "", "Methods:", ""]
    lines += [f"- `{name}`: {what}" for name, (what, _) in METHODS.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = common_options(__doc__.splitlines()[0], "method")
    parser.add_argument("--every", type=int, default=30, help="davis-dev: every N-th frame (default 30)")
    parser.add_argument("--report", action="store_true", help="write the page from the kept cells only")
    args = parser.parse_args()
    data = Path(args.data)
    folders = [f for f in FOLDERS if (data / f).is_dir()]
    methods = args.only.split(",") if args.only else list(METHODS)
    if not args.report:
        def run(cell):
            method, folder, protocol = cell
            arguments = [*METHODS[method][1], "--protocol", protocol]
            if folder == SUBSAMPLED:
                arguments += ["--every", str(args.every)]
            evaluate_cell(target(*cell, args.every), data / folder, arguments, args.weights, keep)
            print(f"{method} {folder} {protocol}: done", flush=True)

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(run, cells(folders, methods)))
    table = {(m, f, p): json.loads(target(m, f, p, args.every).read_text())
             for m in METHODS for f in folders for p in PROTOCOLS if target(m, f, p, args.every).is_file()}
    (ROOT / "docs" / "interaction.md").write_text(report(table, folders, args.every))
    plot(table, folders, OUT / "curves.png")
    print(f"wrote docs/interaction.md and {OUT / 'curves.png'}")


if __name__ == "__main__":
    main()
