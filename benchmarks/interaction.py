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
DROP = 0.2  # an interaction after which the IoU falls by more than this is counted as a setback
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
            for index, method in enumerate(METHODS):
                cell = table.get((method, folder, protocol))
                if cell and cell.get("iou_at"):
                    ious = [100 * v for v in cell["iou_at"]]
                    axis.plot(range(1, len(ious) + 1), ious, marker=".", label=method, color=f"C{index}",
                              linestyle="--" if method == "fresh" else "-")
            for threshold in NOC_THRESHOLDS:
                axis.axhline(100 * threshold, color="grey", linewidth=0.6, linestyle=":")
            if protocol == "clicks" and folder in RITM_FOLDER:
                axis.axvline(RITM_NOC90[RITM_FOLDER[folder]], color="black", linewidth=0.8, linestyle="-.",
                             label="RITM HRNet-18 NoC@90 (published)")
            axis.set_title(f"{folder}, {protocol}")
            axis.set_xlabel("interactions")
            axis.set_ylim(0, 100)
            axis.set_xticks([1, 5, 10, 15, 20])
            axis.grid(alpha=0.3)
            if col == 0:
                axis.set_ylabel("mean foreground IoU (%)")
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def setbacks(cell: dict) -> int:
    """Interactions, over the cell's images, after which the IoU of a method's mask fell by more than :data:`DROP`
    (not counting the first run after the one-class fill)."""
    return sum(sum(r["ious"][k] < r["ious"][k - 1] - DROP for k in range(1, len(r["seconds"]))
                   if r["seconds"][k - 1] is not None)
               for r in cell["images"] if r["status"] == "scored")


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
                  "| folder | images | method | NoC@85 | NoC@90 | never 90 | setbacks | IoU@1 | IoU@3 | IoU@5 | IoU@10 "
                  "| IoU@20 | s first | s later |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for folder in folders:
            for method in METHODS:
                cell = table.get((method, folder, protocol))
                if not cell or not cell.get("scored"):
                    continue
                ious = cell["iou_at"]
                at = " | ".join(f"{100 * ious[k - 1]:.1f}" if k <= len(ious) else "–" for k in (1, 3, 5, 10, 20))
                lines.append(f"| {folder} | {cell['scored']} | {method} | {number(cell, 'noc85')} | "
                             f"{number(cell, 'noc90')} | {cell['never90']} | {setbacks(cell)} | {at} | "
                             f"{number(cell, 'seconds_first')} | {number(cell, 'seconds_later')} |")
            if protocol == "clicks" and folder in RITM_FOLDER:
                lines.append(f"| {folder} | (full set) | RITM HRNet-18, published | – | "
                             f"{RITM_NOC90[RITM_FOLDER[folder]]:.2f} | – | – | – | – | – | – | – | – | – |")
        lines.append("")
    lines += targets(table, folders)
    lines += ["![IoU against interactions, per protocol and folder](interaction/curves.png)", "",
              "## Protocol", "",
              "`gdc-seg eval DATA --protocol clicks|strokes [--method M] [--cold]` (`gdc_core/interaction.py`). "
              "Ground truth is read two-class (every object id against the background; 255 ignored). Nothing is "
              "predicted before the first interaction. Each interaction adds strokes of one class where the current "
              "mask is wrong, then the method predicts again from all strokes so far: gdc-seg through the app's "
              "call (`Segmenter.run(..., warm_start=True)` after its first run on the image: 10 more training steps "
              "of the previous network; `fresh`: a new 50-step network each time on the cached features, the app's "
              "R), a baseline from scratch.", "",
              "- **clicks** (the robot of RITM, f-BRS, SimpleClick): a disk of 5 px radius (at 854 px, scaled with "
              "the image; clipped to its class) at the error pixel farthest from the border of its error region "
              "(distance transform of the false negatives and of the false positives, the image border counting as "
              "a border), positive when the farthest false negative is farther than every false positive. The "
              "first click is the object's interior point farthest from its border.",
              "- **strokes** (the DAVIS interactive benchmark's robot): a 3 px stroke along the longest skeleton "
              "path of the largest (most pixels) error region, inside it; a click where the region is too small.",
              "- gdc-seg and the baselines need strokes of two classes: after the first interaction (object only) "
              "the mask is the object everywhere, so IoU@1 is the object's share of the image and NoC is at least "
              "2. RITM predicts from one click, so its NoC can be 1.",
              f"- Setbacks: interactions after which an image's IoU fell by more than {100 * DROP:.0f} points "
              "(over all the cell's images, the first run after the one-class fill not counted): a correction that "
              "made the mask much worse.",
              "- NoC@t: interactions until the foreground IoU first reaches t; 20 when it never does within 20 "
              "(\"never 90\" counts those images). IoU@k: mean foreground IoU after k interactions.",
              "- Seconds: wall time of the method's prediction; \"first\" is each image's first run (a fresh "
              "network; for gdc-seg it also computes the image's features and superpixels, which the app does "
              "while the annotator paints), \"later\" the mean of the others.", "",
              "RITM HRNet-18's published NoC@90 (Sofiiuk et al. 2021, trained on SBD, the full sets: GrabCut 50 "
              f"images, DAVIS 345 frames): GrabCut {RITM_NOC90['GrabCut']}, Berkeley {RITM_NOC90['Berkeley']}, "
              f"DAVIS {RITM_NOC90['DAVIS']}. Our folders are subsets (grabcut-dev: 25 GrabCut images; davis-dev: "
              "every N-th of its frames); gdc-seg sees no training data but the strokes of the image itself.", "",
              "Methods:", ""]
    return "\n".join(lines) + "\n"


def targets(table: dict, folders: list[str]) -> list[str]:
    """The issue's targets, checked on the kept cells: the default's NoC@90 below every baseline's on each folder
    and protocol, at most 5 on grabcut-dev (clicks), and a later interaction in at most half a fresh run's time."""
    lines = ["## Targets", ""]
    for protocol in PROTOCOLS:
        for folder in folders:
            default = table.get(("default", folder, protocol))
            known = {b: table[(b, folder, protocol)] for b in BASELINES if (b, folder, protocol) in table}
            if not default or not default.get("scored") or not known:
                continue
            best = min(known, key=lambda b: known[b]["noc90"])
            below = all(default["noc90"] < cell["noc90"] for cell in known.values())
            lines.append(f"- {folder}, {protocol}: NoC@90 {default['noc90']:.2f} against the best baseline's "
                         f"{known[best]['noc90']:.2f} ({best}): {'below every baseline' if below else 'NOT below'}"
                         + (f"; at most 5: {'yes' if default['noc90'] <= 5 else 'NO'}"
                            if folder == "grabcut-dev" and protocol == "clicks" else ""))
    for folder, protocol in FRESH_CELLS:
        default, fresh = table.get(("default", folder, protocol)), table.get(("fresh", folder, protocol))
        if default and fresh and default.get("seconds_later") and fresh.get("seconds_later"):
            ratio = default["seconds_later"] / fresh["seconds_later"]
            lines.append(f"- {folder}, {protocol}: a warm interaction {default['seconds_later']:.2f} s against a "
                         f"fresh run's {fresh['seconds_later']:.2f} s on the same cached features ({ratio:.2f}x; "
                         f"{fresh['seconds_first']:.2f} s for a first run with the features): "
                         f"{'at most half' if ratio <= 0.5 else 'MORE than half'}")
    return lines + [""]


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
