"""The headless ``gdc-seg`` subcommands (never imports Qt).

    gdc-seg segment IMAGE --scribbles SCRIB.png --out MASK.png [--overlay OUT.png] [--uncertainty OUT.png]
    gdc-seg batch IMAGES_DIR [--scribbles DIR] --out DIR [--overlay DIR] [--uncertainty DIR] [--probabilities DIR]
                 [--format png,coco,yolo] [--workers N] [--ray [ADDRESS]] [--report FILE]
    gdc-seg eval DATA_DIR [--method gdc|grabcut|watershed|random_walker] [--protocol clicks|strokes] [--json]

All three take the run options (``--conv``, ``--steps``, ... ``--backbone-weights``, ``--require-pretrained``).
Exit status: 0 success; 1 some images of a batch failed (or none could be scored by eval); 2 bad input or
options (one line on stderr naming the file or option, no traceback); 130 interrupted with Ctrl+C. Every file
is written atomically (a temporary beside it, then one rename), so an error or Ctrl+C leaves no half-written
output; the mask is written last, so an existing mask means the image is complete. The batch itself is
:mod:`gdc_core.batch` (local worker processes) and :mod:`gdc_core.batch_ray` (a Ray cluster).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from . import baselines, batch, cpu_runtime, export, workfiles
from .config import BASIC, EXPERT, Param, SegmenterConfig, params
from .evaluation import HUMAN, DatasetError, MethodRunner, evaluate, list_dataset, summarise
from .interaction import MAX_INTERACTIONS, PROTOCOLS, evaluate_interactive, format_interactive, summarise_interactive
from .io import IMAGE_SUFFIXES, ImageReadError, pixel_limit
from .simulate import STYLES
from .weights import WEIGHTS_ENV

if TYPE_CHECKING:  # the torch-backed names: bound by import_engine() once the arguments are parsed
    from .backbone import BackboneWeightsError, StemChoice, choose_stem
    from .segmenter import STAGES, Progress, SegmentationResult, Segmenter, resolve_device

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
ONE_SHOT = "one-shot"
METHODS = ("gdc", *baselines.BASELINES)


class CliError(Exception):
    """Bad input or options: reported as one line on stderr, exit status 2."""


# ----------------------------------------------------------------------------------------------- arguments


def _run_options() -> argparse.ArgumentParser:
    """The options every subcommand shares: one per SegmenterConfig field offered on the command line (level BASIC or
    EXPERT, with its declared help and default), then the engine's files and limits."""
    defaults = SegmenterConfig()
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("run options")
    for name, param in config_options().items():
        default = getattr(defaults, name)
        option = option_name(name, param)
        if isinstance(default, bool):
            group.add_argument(f"--{option}", dest=name, action="store_const", const=True,
                               help=param.described(default))
        elif param.choices and param.parse is None:
            group.add_argument(f"--{option}", dest=name, choices=param.choices, help=param.described(default))
        else:
            group.add_argument(f"--{option}", dest=name, type=type(default), metavar=option.upper(),
                               help=param.described(default))
    group.add_argument("--backbone-weights", metavar="PATH",
                       help=f"ImageNet MobileNetV2 weights file (default: ${WEIGHTS_ENV}, then torchvision's cache)")
    group.add_argument("--require-pretrained", action="store_true",
                       help="fail instead of using the untrained offline stem when no ImageNet weights are found")
    group.add_argument("--max-pixels", type=int, metavar="N",
                       help="refuse images larger than N pixels (width x height), and runs that need more memory "
                            "than a two-class run on N pixels (many classes), instead of risking the machine's "
                            "memory (default: $GDC_SEG_MAX_PIXELS, else 50000000: peaks of about 2.6 GB)")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``gdc-seg`` parser with the ``segment``, ``batch`` and ``eval`` subcommands."""
    parser = argparse.ArgumentParser(prog="gdc-seg", description="Segment images from class scribbles.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{segment,batch,eval}")
    shared = [_run_options()]

    segment = commands.add_parser("segment", parents=shared, help="segment one image")
    segment.add_argument("image", type=Path)
    segment.add_argument("--scribbles", type=Path, required=True, help="scribble PNG (class ids, 255 = none)")
    segment.add_argument("--out", type=Path, required=True, help="mask PNG to write (indexed, VOC palette)")
    segment.add_argument("--overlay", type=Path, help="also write the mask blended over the image")
    segment.add_argument("--uncertainty", type=Path, help="also write the uncertainty as a grey PNG")

    batch = commands.add_parser("batch", parents=shared, help="segment every image of a folder")
    batch.add_argument("images", type=Path, metavar="IMAGES_DIR")
    batch.add_argument("--scribbles", type=Path, default=None,
                       help="folder of <stem>.png or <stem>_scribbles.png scribbles (default: the app's saved "
                            "work, in IMAGES_DIR/gdc-seg or beside the image)")
    batch.add_argument("--out", type=Path, required=True, help="folder for the <image stem>.png masks")
    batch.add_argument("--overlay", type=Path, metavar="DIR", help="also write overlays into this folder")
    batch.add_argument("--uncertainty", type=Path, metavar="DIR", help="also write uncertainties into this folder")
    batch.add_argument("--probabilities", type=Path, metavar="DIR",
                       help="also write each image's class probabilities into this folder (<stem>.npz)")
    batch.add_argument("--format", type=export_formats, default=("png",), metavar="LIST",
                       help=f"comma-separated dataset formats written into the --out folder: "
                            f"{', '.join(export.FORMATS)} (default png; the PNG masks are always written)")
    batch.add_argument("--workers", type=int, metavar="N",
                       help="images segmented at once, each in its own process (default: one per CPU core, one per "
                            "GPU on CUDA); with --ray, the number of Ray actors")
    batch.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                       help="run on a Ray cluster (pip install \"gdc-seg[ray]\"): ADDRESS of its head, or nothing "
                            "for $RAY_ADDRESS or a local one; the folders must be reachable from every node")
    batch.add_argument("--report", type=Path, metavar="FILE",
                       help="the JSON report, one record per image (default: OUT/batch-report.json)")

    evaluate = commands.add_parser("eval", parents=shared, help="score a method on a folder with ground truth")
    evaluate.add_argument("data", type=Path, metavar="DATA_DIR",
                          help="folder with images/, gt/ and scribbles/ (scribbles/ only for --style human)")
    evaluate.add_argument("--method", choices=METHODS, default="gdc", help="what segments (default gdc)")
    evaluate.add_argument("--style", choices=(HUMAN, *STYLES), default=HUMAN,
                          help="scribbles: the folder's own (human, default) or simulated from gt/ in this style")
    evaluate.add_argument("--scribble-seed", type=int, default=0, help="seed of the simulated scribbles (default 0)")
    evaluate.add_argument("--two-class", action="store_true",
                          help="score background (0) against every other id as one foreground (for DAVIS)")
    evaluate.add_argument("--every", type=int, default=1, help="only every N-th image (sorted by name; default 1)")
    evaluate.add_argument("--limit", type=int, help="only the first N images (sorted by name, after --every)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    evaluate.add_argument("--protocol", choices=(ONE_SHOT, *PROTOCOLS), default=ONE_SHOT,
                          help="one-shot (default): one run from the scribbles; clicks or strokes: a robot corrects "
                               "the largest error again and again, two-class, scored by NoC@85/90 and IoU@k")
    evaluate.add_argument("--interactions", type=int, default=MAX_INTERACTIONS,
                          help=f"interactions per image of a protocol (default {MAX_INTERACTIONS})")
    evaluate.add_argument("--stop-iou", type=float, metavar="IOU",
                          help="stop an image's interactions once its IoU reaches this (default: never)")
    evaluate.add_argument("--cold", action="store_true",
                          help="a fresh run after each interaction instead of continuing the last one (warm start)")
    return parser


def config_options() -> dict[str, Param]:
    """The SegmenterConfig fields offered on the command line, by field name."""
    return {name: param for name, param in params().items() if param.level in (BASIC, EXPERT)}


def option_name(name: str, param: Param) -> str:
    """The command-line option (without ``--``) of the SegmenterConfig field ``name``: ``steps``, ``conv``, ..."""
    return (param.option or name).replace("_", "-")


def config_from_args(args: argparse.Namespace) -> SegmenterConfig:
    """SegmenterConfig defaults overridden by the run options given; invalid values raise :class:`CliError`."""
    given = {name: getattr(args, name) for name in config_options() if getattr(args, name) is not None}
    try:
        return SegmenterConfig().replace(**given)
    except ValueError as exc:
        raise CliError(f"invalid option value: {exc}") from None


# ----------------------------------------------------------------------------------------------- helpers


class Warnings:
    """Prints each distinct warning once to stderr, prefixed ``WARNING:``."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __call__(self, message: str) -> None:
        if message not in self._seen:
            self._seen.add(message)
            print(f"WARNING: {message}", file=sys.stderr)


class ProgressBar:
    """A plain-text progress bar on stderr: redrawn in place on a terminal, one line per finished item otherwise."""

    def __init__(self, total: int, width: int = 24):
        self.total = total
        self.width = width
        self.stream = sys.stderr
        self.live = self.stream.isatty()

    def _line(self, done: int, text: str) -> str:
        filled = round(self.width * done / max(self.total, 1))
        return f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} {text}"

    def draw(self, done: int, text: str) -> None:
        """Show work in progress on item ``done + 1`` (terminals only)."""
        if self.live:
            self.stream.write(f"\r{self._line(done, text)}\x1b[K")
            self.stream.flush()

    def item(self, done: int, text: str) -> None:
        """Record that item ``done`` finished (or was skipped / failed) with a permanent line."""
        say(("\r\x1b[K" if self.live else "") + self._line(done, text), self.stream)


def load_stem(args: argparse.Namespace, warn: Warnings) -> StemChoice:
    """The backbone stem from ``--backbone-weights`` / the environment; warns when it is not ImageNet-trained."""
    try:
        stem = choose_stem(args.backbone_weights, require_pretrained=args.require_pretrained)
    except BackboneWeightsError as exc:
        raise CliError(str(exc)) from None
    if stem.warning:
        warn(stem.warning)
    return stem


def check_device(config: SegmenterConfig) -> None:
    """Raise :class:`CliError` when the configured device is not available."""
    try:
        resolve_device(config.device)
    except ValueError as exc:
        raise CliError(f"--device {config.device}: {exc}") from None


def make_segmenter(args: argparse.Namespace, config: SegmenterConfig, warn: Warnings) -> Segmenter:
    """A Segmenter on the configured device with the chosen stem; device and weights problems are CliErrors."""
    check_device(config)
    return Segmenter(config, stem=load_stem(args, warn))


def max_pixels(args: argparse.Namespace) -> int:
    """The pixel limit of ``--max-pixels`` (else ``$GDC_SEG_MAX_PIXELS``, else the default); bad values are
    CliErrors."""
    try:
        return pixel_limit(args.max_pixels)
    except ValueError as exc:
        raise CliError(f"invalid option value: {exc}") from None


def load_inputs(image_path: Path, scribbles_path: Path, limit: int | None = None,
                config: SegmenterConfig | None = None, warn: Callable[[str], None] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gdc_core.batch.read_inputs`, its :class:`~gdc_core.batch.InputError` as a :class:`CliError`."""
    try:
        return batch.read_inputs(image_path, scribbles_path, limit, config, warn)
    except batch.InputError as exc:
        raise CliError(str(exc)) from None


def export_formats(text: str) -> tuple[str, ...]:
    """The ``--format`` list: comma-separated names of :data:`gdc_core.export.FORMATS`."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in export.FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(unknown) or repr(text)}; choose from "
                                         f"{', '.join(export.FORMATS)}")
    return formats


def say(line: str, stream=None) -> None:
    """Print one line to ``stream`` (default stdout). A file name the file system gave as bytes that do not decode
    (Python keeps them as lone surrogates) is written back as those same bytes, so the printed path names the file."""
    stream = stream or sys.stdout
    text = line + "\n"
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = stream.encoding or "utf-8"
        try:
            data = text.encode(encoding, "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode(encoding, "backslashreplace")
        if hasattr(stream, "buffer"):
            stream.flush()
            stream.buffer.write(data)
        else:
            stream.write(data.decode(encoding, "replace"))
    stream.flush()


def format_timings(timings: dict[str, float]) -> str:
    """``superpixels 0.41 s, training 5.02 s, ...`` in the order of the engine's stages, total last."""
    order = [s for s in (*STAGES, "total") if s in timings] + sorted(set(timings) - {*STAGES, "total"})
    return ", ".join(f"{stage} {timings[stage]:.2f} s" for stage in order)


def write_outputs(result: SegmentationResult, image: np.ndarray, mask: Path, overlay_path: Path | None,
                  uncertainty_path: Path | None) -> None:
    """Write the optional overlay and uncertainty first and the mask last (its presence marks a finished image)."""
    files = {"uncertainty": uncertainty_path, "overlay": overlay_path, "mask": mask}
    try:
        batch.write_result(result, image, {kind: path for kind, path in files.items() if path is not None})
    except OSError as exc:
        raise CliError(f"{exc.filename or mask}: cannot write ({exc.strerror or exc})") from None


def check_outputs(outputs: tuple[Path | None, ...], inputs: tuple[Path, ...]) -> None:
    """Refuse output paths (files or folders; None = not asked for) that repeat each other or an input."""
    seen = {p.resolve() for p in inputs}
    for output in (o for o in outputs if o is not None):
        if output.resolve() in seen:
            raise CliError(f"{output}: output would overwrite an input or another output")
        seen.add(output.resolve())


# ----------------------------------------------------------------------------------------------- segment


def cmd_segment(args: argparse.Namespace) -> int:
    """Segment one image; prints one summary line to stdout."""
    config = config_from_args(args)
    check_outputs((args.out, args.overlay, args.uncertainty), (args.image, args.scribbles))
    warn = Warnings()
    image, scribbles = load_inputs(args.image, args.scribbles, max_pixels(args), config, warn)
    segmenter = make_segmenter(args, config, warn)
    try:
        segmenter.set_image(image)
        result = segmenter.run(scribbles)
    except MemoryError:
        raise CliError(f"{args.image}: not enough memory to segment this image (try a smaller --max-side or "
                       f"fewer classes)") from None
    for message in result.warnings:
        warn(message)
    write_outputs(result, image, args.out, args.overlay, args.uncertainty)
    classes = ",".join(str(c) for c in result.classes)
    say(f"{args.image}: classes {classes} on {result.device} | {format_timings(result.timings)} -> {args.out}")
    return EXIT_OK


# ----------------------------------------------------------------------------------------------- batch


def _stage_text(name: str) -> Callable[[Progress], str]:
    return lambda progress: f"{name}: {progress.stage} {progress.step}/{progress.total}"


def _rate_text(progress: batch.BatchProgress) -> str:
    if progress.rate is None:
        return ""
    eta = "" if progress.eta is None else f", ETA {format_duration(progress.eta)}"
    return f" | {progress.rate:.2f} images/s{eta}"


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _record_text(record: batch.Record) -> str:
    name = Path(record.image).name
    if record.status == batch.DONE:
        return f"{name}: done in {record.seconds:.1f} s"
    if record.status == batch.SKIPPED:
        return f"{name}: skipped, {record.reason}"
    return f"FAILED {record.reason}"


def cmd_batch(args: argparse.Namespace) -> int:
    """Segment every image of a folder that has scribbles and no mask yet, write the dataset formats asked for and
    the JSON report; summary line on stdout."""
    config = config_from_args(args)
    if not args.images.is_dir():
        raise CliError(f"{args.images}: no such folder")
    if args.scribbles is not None and not args.scribbles.is_dir():
        raise CliError(f"{args.scribbles}: no such folder")
    if args.workers is not None and args.workers < 1:
        raise CliError(f"invalid option value: --workers must be at least 1 (got {args.workers})")
    outputs = batch.Outputs(args.out, args.overlay, args.uncertainty, args.probabilities)
    report_path = args.report or args.out / "batch-report.json"
    check_outputs((*outputs.folders()[1:], args.out), (args.images, args.scribbles or workfiles.work_folder(args.images)))
    try:
        jobs = batch.find_jobs(args.images, args.scribbles)
    except OSError as exc:
        raise CliError(f"{args.images}: cannot list the folder ({exc.strerror or exc})") from None
    if not jobs:
        raise CliError(f"{args.images}: no images ({', '.join(IMAGE_SUFFIXES)})")
    warn = Warnings()
    check_device(config)
    engine = batch.Engine(config, load_stem(args, warn), max_pixels(args))
    bar = ProgressBar(len(jobs))
    finished: list[batch.Record] = []

    def show(progress: batch.BatchProgress) -> None:
        if progress.record is None:
            bar.draw(progress.finished, progress.stage + _rate_text(progress))
            return
        finished.append(progress.record)
        for message in progress.record.warnings:
            warn(message)
        bar.item(progress.finished, _record_text(progress.record) + _rate_text(progress))

    started = time.perf_counter()
    settings = {**config.to_dict(), "backbone": engine.stem.source, "workers": args.workers,
                "ray": args.ray, "formats": list(args.format)}
    try:
        if args.ray is not None:
            from .batch_ray import RayUnavailable, run_batch_ray

            try:
                records = run_batch_ray(jobs, outputs, engine, args.ray or None, args.workers, show)
            except RayUnavailable as exc:
                raise CliError(str(exc)) from None
        else:
            records = batch.run_batch(jobs, outputs, engine, args.workers or batch.default_workers(config.device),
                                      show)
    except KeyboardInterrupt:
        batch.write_report(report_path, finished, time.perf_counter() - started, {**settings, "interrupted": True})
        raise
    seconds = time.perf_counter() - started
    masks = [(job.image.name, outputs.files(job)["mask"]) for job in jobs if outputs.files(job)["mask"].is_file()]
    try:
        export.export_masks(masks, args.out, args.format)
        batch.write_report(report_path, records, seconds, settings)
    except (ImageReadError, OSError) as exc:
        raise CliError(f"cannot write the exports: {exc}") from None
    counts = batch.summary(records)
    say(f"batch {args.images}: {len(jobs)} images: {counts['done']} done, {counts['skipped']} skipped, "
        f"{counts['failed']} failed in {seconds:.1f} s; report {report_path}")
    return EXIT_SOME_FAILED if counts["failed"] else EXIT_OK


# ----------------------------------------------------------------------------------------------- eval


def make_runner(args: argparse.Namespace, config: SegmenterConfig, warn: Warnings) -> MethodRunner:
    """The method to score (``--method``), gdc with the run options; ``--cold``: no warm start between
    interactions."""
    segmenter = make_segmenter(args, config, warn) if args.method == "gdc" else None
    return MethodRunner(args.method, segmenter, warm=not args.cold, warn=warn)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def format_table(report: dict) -> str:
    """The human-readable eval report."""
    config = report["config"]
    drawn = config["scribbles"]
    head = (f"eval {report['data']}: method {config['method']}; scribbles {drawn['style']}"
            + (f" (seed {drawn['seed']})" if drawn["style"] != HUMAN else "")
            + (", two-class" if drawn["two_class"] else "") + (f", every {drawn['every']}th image" if drawn["every"] > 1 else ""))
    if config["method"] == "gdc":
        options = [f"--{option_name(name, param)}" + ("" if value is True else f" {value}")
                   for name, param in config_options().items() if name != "device"
                   for value in [config[name]] if value is not False]
        head += (f"\noptions: {' '.join(options)}\n"
                 f"backbone: {config['backbone']} ({'ImageNet' if config['pretrained'] else 'UNTRAINED'})")
    per_class = ", ".join(f"{c}: {100 * v:.1f}" for c, v in report["per_class_iou"].items())
    seconds = report["seconds_per_image"]
    lines = [
        head,
        f"images: {report['scored']} scored, {report['failed']} failed, device {config['device']}",
        f"  mIoU                {_percent(report['miou'])}",
        f"  pixel accuracy      {_percent(report['pixel_accuracy'])}",
        f"  mean fg IoU         {_percent(report['mean_fg_iou'])}",
        f"  seconds per image   {'n/a' if seconds is None else f'{seconds:.2f}'}",
        f"  mean stage times    {format_timings(report['timings']) or 'n/a'}",
        f"  per-class IoU (%)   {per_class or 'n/a'}",
    ]
    lines += [f"  failed: {r['error']}" for r in report["images"] if r["status"] == "failed"]
    return "\n".join(lines)


def cmd_eval(args: argparse.Namespace) -> int:
    """Score a method on an evaluation folder; prints the table or (``--json``) one JSON object."""
    config = config_from_args(args)
    for option in ("limit", "every", "interactions"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            raise CliError(f"invalid option value: --{option} must be at least 1 (got {getattr(args, option)})")
    if args.stop_iou is not None and not 0 < args.stop_iou <= 1:
        raise CliError(f"invalid option value: --stop-iou must be in (0, 1] (got {args.stop_iou})")
    interactive = args.protocol != ONE_SHOT
    if interactive and args.style != HUMAN:
        raise CliError(f"--style applies to the one-shot evaluation; --protocol {args.protocol} draws its own")
    try:
        samples = list_dataset(args.data, scribbles=args.style == HUMAN and not interactive)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    samples = samples[:: args.every][: args.limit]
    runner = make_runner(args, config, Warnings())
    settings = runner.settings()
    bar = ProgressBar(len(samples))
    if interactive:
        settings["protocol"] = {"name": args.protocol, "interactions": args.interactions, "stop_iou": args.stop_iou,
                                "seed": args.scribble_seed, "every": args.every}
        records = evaluate_interactive(samples, runner, args.protocol, max_interactions=args.interactions,
                                       stop_iou=args.stop_iou, seed=args.scribble_seed, on_item=bar.item)
        report = {"data": str(args.data), **summarise_interactive(records), "images": records, "config": settings}
        print(json.dumps(report, indent=2) if args.json else format_interactive(report))
    else:
        settings["scribbles"] = {"style": args.style, "seed": args.scribble_seed, "two_class": args.two_class,
                                 "every": args.every}
        scores, records = evaluate(samples, runner, style=args.style, seed=args.scribble_seed,
                                   two_class=args.two_class, on_item=bar.item,
                                   on_progress=lambda index, name, p: bar.draw(index - 1, _stage_text(name)(p)))
        report = summarise(scores, records, settings, args.data)
        print(json.dumps(report, indent=2) if args.json else format_table(report))
    return EXIT_OK if report["scored"] else EXIT_SOME_FAILED


# ----------------------------------------------------------------------------------------------- main

COMMANDS = {"segment": cmd_segment, "batch": cmd_batch, "eval": cmd_eval}


def import_engine() -> None:
    """Bind the engine's torch-backed names in this module. :func:`main` calls it once the arguments are parsed,
    so ``--help`` and usage errors answer at once instead of after torch's import (seconds)."""
    global BackboneWeightsError, StemChoice, choose_stem, STAGES, Progress, SegmentationResult, Segmenter
    global resolve_device
    from .backbone import BackboneWeightsError, StemChoice, choose_stem
    from .segmenter import STAGES, Progress, SegmentationResult, Segmenter, resolve_device


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; ``argv`` starts at the subcommand (default: ``sys.argv[1:]``). Returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return int(exc.code or 0)
    import_engine()
    try:
        return COMMANDS[args.command](args)
    except CliError as exc:
        print(f"gdc-seg {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"gdc-seg {args.command}: interrupted; finished outputs are kept, nothing half-written is left",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout piped into e.g. `head`, which stopped reading: not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_SOME_FAILED


if __name__ == "__main__":
    cpu_runtime.tune_process()  # before main() loads torch
    sys.exit(main())
