"""The headless ``gdc-seg`` subcommands (never imports Qt).

    gdc-seg segment IMAGE --scribbles SCRIB.png --out MASK.png [--overlay OUT.png] [--uncertainty OUT.png]
    gdc-seg batch IMAGES_DIR [--scribbles DIR] --out DIR [--overlay DIR] [--uncertainty DIR]
    gdc-seg eval DATA_DIR [--method gdc|grabcut|watershed|random_walker] [--protocol clicks|strokes] [--json]

All three take the run options (``--conv``, ``--steps``, ... ``--backbone-weights``, ``--require-pretrained``).
Exit status: 0 success; 1 some images of a batch failed (or none could be scored by eval); 2 bad input or
options (one line on stderr naming the file or option, no traceback); 130 interrupted with Ctrl+C. Every file
is written atomically (a temporary beside it, then one rename), so an error or Ctrl+C leaves no half-written
output; the mask is written last, so an existing mask means the image is complete.
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

from . import baselines, cpu_runtime, workfiles
from .config import BASIC, EXPERT, Param, SegmenterConfig, params
from .evaluation import HUMAN, DatasetError, MethodRunner, evaluate, list_dataset, summarise
from .interaction import MAX_INTERACTIONS, PROTOCOLS, evaluate_interactive, format_interactive, summarise_interactive
from .images import run_too_large, too_small
from .io import (IMAGE_SUFFIXES, ImageReadError, fit_name, grey_to_uint8, overlay, open_image, pixel_limit,
                 read_label_map, write_image, write_label_map)
from .scribbles import ScribbleError, validate_scribbles
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


def make_segmenter(args: argparse.Namespace, config: SegmenterConfig, warn: Warnings) -> Segmenter:
    """A Segmenter on the configured device with the chosen stem; device and weights problems are CliErrors."""
    try:
        resolve_device(config.device)
    except ValueError as exc:
        raise CliError(f"--device {config.device}: {exc}") from None
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
    """Read an image ((H, W) or (H, W, 3) uint8) and its scribbles ((H, W) uint8) and check they fit together.

    A JPEG above the pixel limit is decoded reduced (:func:`gdc_core.io.open_image`; ``warn`` is told), and its
    scribbles must then be at the reduced size.

    Raises :class:`CliError` naming the file: missing or unreadable, above the pixel ``limit`` (default:
    :func:`io.pixel_limit`'s) alone or, run with ``config`` (default: the defaults), with its classes; another size,
    fewer than two classes.
    """
    config = config or SegmenterConfig()
    try:
        limit = pixel_limit(limit)
        decoded = open_image(image_path, limit)
        scribbles = read_label_map(scribbles_path, limit)
    except (ImageReadError, ValueError) as exc:
        raise CliError(str(exc)) from None
    image = decoded.pixels
    if decoded.reduced and warn is not None:
        warn(decoded.note(image_path))
    small = too_small(image.shape[1], image.shape[0])
    if small is not None:
        raise CliError(f"{image_path}: {small}")
    try:
        classes = validate_scribbles(scribbles, image.shape[:2])
    except ScribbleError as exc:
        raise CliError(f"{scribbles_path}: {exc}") from None
    reason = run_too_large(image.shape[:2], len(classes), config.max_side, config.samples, limit)
    if reason is not None:
        raise CliError(f"{scribbles_path}: {reason}")
    return image, scribbles


def scribble_files(image_path: Path, scribbles_dir: Path | None) -> list[Path]:
    """The files a batch looks for as an image's scribbles, in order, for its "skipped" line:
    ``<scribbles_dir>/<image stem>.png`` then the app's saved work there; without ``scribbles_dir``, the app's saved
    work where the app saves it (:func:`gdc_core.workfiles.work_folder`). Long stems are shortened as the app
    shortens them (:func:`gdc_core.io.fit_name`, :func:`gdc_core.io.fit_stem` in :mod:`gdc_core.workfiles`)."""
    if scribbles_dir is None:
        return [workfiles.WorkPaths.beside(image_path, workfiles.work_folder(image_path.parent)).scribbles]
    saved = workfiles.WorkPaths.beside(image_path, scribbles_dir).scribbles
    return [scribbles_dir / fit_name(image_path.stem, ".png"), saved]


def find_scribbles(image_path: Path, scribbles_dir: Path | None) -> Path | None:
    """The scribble file of an image in a batch: ``<scribbles_dir>/<image stem>.png``, else the app's saved work
    there; without ``scribbles_dir``, the app's saved work wherever the app finds it
    (:func:`gdc_core.workfiles.search_folders`). None when there is none."""
    if scribbles_dir is not None:
        named = scribble_files(image_path, scribbles_dir)[0]
        if named.is_file():
            return named
    folders = [scribbles_dir] if scribbles_dir is not None else workfiles.search_folders(image_path.parent)
    work = workfiles.find_work(image_path.stem, folders)
    return workfiles.current_files(work).get("scribbles") if work is not None else None


def list_images(folder: Path) -> list[Path]:
    """The images directly in ``folder`` as the app lists them (:func:`gdc_core.workfiles.list_images`)."""
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder")
    return workfiles.list_images(folder)


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
    try:
        if uncertainty_path is not None:
            write_image(uncertainty_path, grey_to_uint8(result.uncertainty))
        if overlay_path is not None:
            write_image(overlay_path, overlay(image, result.labels))
        write_label_map(mask, result.labels)
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


def _batch_one(segmenter: Segmenter, image_path: Path, scribbles_path: Path, args: argparse.Namespace,
               bar: ProgressBar, done: int, warn: Warnings) -> SegmentationResult:
    """Segment one batch image and write its outputs (CliError on bad input)."""
    image, scribbles = load_inputs(image_path, scribbles_path, args.pixel_limit, segmenter.config, warn)
    segmenter.set_image(image)
    text = _stage_text(image_path.name)
    result = segmenter.run(scribbles, on_progress=lambda progress: bar.draw(done, text(progress)))
    for message in result.warnings:
        warn(message)
    name = fit_name(image_path.stem, ".png")
    write_outputs(result, image, args.out / name, args.overlay and args.overlay / name,
                  args.uncertainty and args.uncertainty / name)
    return result


def cmd_batch(args: argparse.Namespace) -> int:
    """Segment every image of a folder that has scribbles and no mask yet; summary line on stdout."""
    config = config_from_args(args)
    images = list_images(args.images)
    if args.scribbles is not None and not args.scribbles.is_dir():
        raise CliError(f"{args.scribbles}: no such folder")
    check_outputs((args.out, args.overlay, args.uncertainty),
                  (args.images, args.scribbles or workfiles.work_folder(args.images)))
    if not images:
        raise CliError(f"{args.images}: no images ({', '.join(IMAGE_SUFFIXES)})")
    args.pixel_limit = max_pixels(args)
    warn = Warnings()
    segmenter = make_segmenter(args, config, warn)
    bar = ProgressBar(len(images))
    counts = {"done": 0, "skipped": 0, "failed": 0}
    started = time.perf_counter()
    for index, image_path in enumerate(images, start=1):
        mask = args.out / fit_name(image_path.stem, ".png")
        scribbles_path = find_scribbles(image_path, args.scribbles)  # None: the app's work
        if mask.exists():
            status, note = "skipped", f"{image_path.name}: skipped, mask exists ({mask})"
        elif scribbles_path is None:
            *others, last = scribble_files(image_path, args.scribbles)
            where = f"neither {', '.join(map(str, others))} nor {last}" if others else str(last)
            status, note = "skipped", f"{image_path.name}: skipped, no scribbles ({where})"
        else:
            status, note = _batch_step(segmenter, image_path, scribbles_path, args, bar, index - 1, warn)
        counts[status] += 1
        bar.item(index, note)
    seconds = time.perf_counter() - started
    say(f"batch {args.images}: {len(images)} images: {counts['done']} done, {counts['skipped']} skipped, "
        f"{counts['failed']} failed in {seconds:.1f} s")
    return EXIT_SOME_FAILED if counts["failed"] else EXIT_OK


def _batch_step(segmenter: Segmenter, image_path: Path, scribbles_path: Path, args: argparse.Namespace,
                bar: ProgressBar, done: int, warn: Warnings) -> tuple[str, str]:
    """Run one image; any failure of that image is reported and counted, never raised (Ctrl+C still is)."""
    try:
        result = _batch_one(segmenter, image_path, scribbles_path, args, bar, done, warn)
    except CliError as exc:
        return "failed", f"FAILED {exc}"
    except MemoryError:
        return "failed", f"FAILED {image_path}: not enough memory to segment this image"
    except Exception as exc:  # one broken image must not stop the batch; the note says what happened
        return "failed", f"FAILED {image_path}: the segmentation failed ({exc or 'no details'})"
    return "done", f"{image_path.name}: done in {result.timings['total']:.1f} s"


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
