"""``gdc-seg --self-test``: prove that this installation (above all a frozen build) can segment, offscreen.

Checks, in order, and stops at the first failure:

1. torchvision's compiled operators load (``torchvision::nms``, ``torchvision::deform_conv2d``: a frozen build
   that misses ``torchvision/_C_stable.so`` fails here) and TorchScript can compile a torchvision function
   (which reads its ``.py`` source: a build that ships only byte code fails here).
2. The bundled sample photo and its scribbles (``resources/``) are found and read.
3. :class:`gdc_core.Segmenter` segments it with the default settings (50 SGD steps, 50 samples; ``steps`` and
   ``samples`` may be lowered for quick checks) and the mask is sensible: both classes present, at least 90 % of
   the scribbled pixels keep their class, and the cat (class 1) covers 40-97 % of the photo (about 80 % with the
   ImageNet stem, 70 % with the filter-bank stand-in).
4. The mask is written as a label PNG and read back unchanged.
5. Qt's offscreen platform plugin loads (a ``QApplication`` with ``QT_QPA_PLATFORM=offscreen``) and the main
   window of :mod:`app.gui` can be built and shown.

Prints one line, ``self-test: OK ...`` (device, stem, seconds, class fractions) and returns 0, or
``self-test: FAILED: <why>`` and returns 1. The backbone is looked up as usual, but never downloaded.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

CAT, BACKGROUND = 1, 0  # the class ids painted in resources/sample_scribbles.png
MIN_AGREEMENT = 0.90
CAT_FRACTION = (0.40, 0.97)


class SelfTestFailure(Exception):
    """One check failed; the message says which and why."""


def _resource_path(name: str) -> Path:
    try:
        from app.resources import resource_path
    except ModuleNotFoundError:  # the same contract as app/resources.py: the frozen root, else the checkout
        root = getattr(sys, "_MEIPASS", None)
        return (Path(root) if root else Path(__file__).resolve().parent.parent) / "resources" / name
    return Path(resource_path(name))


def check_torch_extensions() -> str:
    """torchvision's compiled ops run, and TorchScript finds torchvision's Python source."""
    import torch
    import torchvision
    from torchvision.ops import box_area, deform_conv2d, nms

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
    try:
        kept = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5).tolist()
        out = deform_conv2d(torch.ones(1, 2, 5, 5), torch.zeros(1, 18, 5, 5), torch.ones(3, 2, 3, 3), padding=1)
    except RuntimeError as exc:  # "operator torchvision::nms does not exist" when _C_stable.so is missing
        raise SelfTestFailure(f"torchvision's compiled operators are missing: {exc}") from exc
    if kept != [0, 2] or tuple(out.shape) != (1, 3, 5, 5):
        raise SelfTestFailure(f"torchvision operators gave wrong results (nms kept {kept})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit.script is deprecated in favour of torch.compile
            scripted = torch.jit.script(box_area)
    except Exception as exc:  # OSError "could not get source code" when the .py files are not bundled
        raise SelfTestFailure(f"TorchScript cannot compile torchvision.ops.box_area: {exc}") from exc
    if scripted(boxes).tolist() != [100.0, 100.0, 100.0]:
        raise SelfTestFailure("the TorchScript-compiled box_area gave wrong results")
    return f"torch {torch.__version__}, torchvision {torchvision.__version__}"


def check_segmentation(steps: int, samples: int) -> dict:
    """Segment the bundled sample and judge the mask; returns the figures for the log line."""
    from gdc_core import Segmenter, SegmenterConfig
    from gdc_core.io import read_image, read_label_map, write_label_map

    image_path, scribbles_path = _resource_path("sample.png"), _resource_path("sample_scribbles.png")
    for path in (image_path, scribbles_path):
        if not path.is_file():
            raise SelfTestFailure(f"bundled resource missing: {path}")
    image, scribbles = read_image(image_path), read_label_map(scribbles_path)

    tic = time.perf_counter()
    config = SegmenterConfig(steps=steps, samples=samples)
    segmenter = Segmenter(config, allow_download=False)
    segmenter.set_image(image)
    result = segmenter.run(scribbles)
    seconds = time.perf_counter() - tic

    labels = result.labels
    if labels.shape != scribbles.shape:
        raise SelfTestFailure(f"mask has shape {labels.shape}, the image {scribbles.shape}")
    fractions = {int(c): float(np.mean(labels == c)) for c in (BACKGROUND, CAT)}
    if min(fractions.values()) == 0.0:
        raise SelfTestFailure(f"the mask lacks a class (fractions {fractions})")
    painted = scribbles != 255
    agreement = float(np.mean(labels[painted] == scribbles[painted]))
    if agreement < MIN_AGREEMENT:
        raise SelfTestFailure(f"only {agreement:.1%} of the scribbled pixels keep their class (need {MIN_AGREEMENT:.0%})")
    low, high = CAT_FRACTION
    if not low <= fractions[CAT] <= high:
        raise SelfTestFailure(f"the cat covers {fractions[CAT]:.1%} of the photo (expected {low:.0%}-{high:.0%})")

    with tempfile.TemporaryDirectory(prefix="gdc-seg-self-test-") as folder:
        mask_path = Path(folder) / "sample_mask.png"
        write_label_map(mask_path, labels)
        if not np.array_equal(read_label_map(mask_path), labels):
            raise SelfTestFailure("the mask written as PNG does not read back unchanged")

    stem = segmenter.stem
    stem_text = f"{'imagenet' if stem.pretrained else 'UNTRAINED filter-bank'}:{Path(stem.source).name}"
    return {"device": result.device, "stem": stem_text, "seconds": seconds, "fractions": fractions,
            "agreement": agreement, "warnings": result.warnings, "segmenter": segmenter}


def check_qt_offscreen(segmenter=None) -> str:
    """Qt's offscreen platform plugin loads and the GUI's main window (on ``segmenter``) can be built and shown."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the self-test never opens a visible window
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        raise SelfTestFailure(f"PySide6 cannot be imported: {exc}") from exc
    from app.none_refcount import make_none_immortal

    make_none_immortal()
    qt_app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "gdc-seg"])
    platform = qt_app.platformName()
    if platform != "offscreen":
        raise SelfTestFailure(f"Qt started the {platform!r} platform plugin, not 'offscreen'")
    try:
        import app.gui as gui
    except ModuleNotFoundError as exc:
        if exc.name == "app.gui" and not getattr(sys, "frozen", False):
            return f"qt={platform} window=skipped (app.gui not written yet)"
        raise SelfTestFailure(f"the GUI cannot be imported: {exc}") from exc
    try:
        if hasattr(gui, "create_main_window"):
            window = gui.create_main_window()
        else:  # app.gui's MainWindow(segmenter, config), as run_gui builds it
            from gdc_core import Segmenter, SegmenterConfig

            window = gui.MainWindow(segmenter or Segmenter(allow_download=False), SegmenterConfig())
        window.show()
        qt_app.processEvents()
        title = window.windowTitle()
        window.hide()  # not close(): closing stores the window layout in the user's settings
        window.deleteLater()
        qt_app.processEvents()
    except Exception as exc:
        raise SelfTestFailure(f"building the main window failed: {exc.__class__.__name__}: {exc}") from exc
    return f"qt={platform} window={type(window).__name__}({title!r})"


def run_self_test(steps: int = 50, samples: int = 50, *, check_qt: bool = True, stream=None) -> int:
    """Run every check; print ``self-test: OK ...`` and return 0, or ``self-test: FAILED: ...`` and return 1.

    Args:
        steps, samples: training steps and Monte-Carlo samples (the paper's 50 and 50 by default).
        check_qt: also load Qt offscreen and build the main window.
        stream: where the line goes (stdout by default).
    """
    stream = stream or sys.stdout
    try:
        versions = check_torch_extensions()
        figures = check_segmentation(steps, samples)
        qt_text = check_qt_offscreen(figures["segmenter"]) if check_qt else "qt=not-checked"
    except SelfTestFailure as exc:
        print(f"self-test: FAILED: {exc}", file=stream, flush=True)
        return 1
    except Exception as exc:  # anything unexpected is a failure too, with its traceback for the bug report
        traceback.print_exc()
        print(f"self-test: FAILED: {exc.__class__.__name__}: {exc}", file=stream, flush=True)
        return 1
    fractions = figures["fractions"]
    frozen = "frozen" if getattr(sys, "frozen", False) else "python"
    print(f"self-test: OK device={figures['device']} stem={figures['stem']} steps={steps} samples={samples} "
          f"seconds={figures['seconds']:.1f} cat={fractions[CAT]:.3f} background={fractions[BACKGROUND]:.3f} "
          f"scribble-agreement={figures['agreement']:.3f} {qt_text} torchvision-ops=ok torchscript=ok "
          f"({versions}, {frozen})", file=stream, flush=True)
    for warning in figures["warnings"]:
        print(f"self-test: warning: {warning}", file=stream, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``gdc-seg --self-test [--steps N] [--samples N] [--no-qt]``."""
    parser = argparse.ArgumentParser(prog="gdc-seg --self-test",
                                     description="Segment the bundled sample offscreen and check the mask.")
    parser.add_argument("--steps", type=int, default=50, help="SGD steps (paper: 50)")
    parser.add_argument("--samples", type=int, default=50, help="Monte-Carlo samples (paper: 50)")
    parser.add_argument("--no-qt", action="store_true", help="skip the Qt offscreen / main window check")
    args = parser.parse_args(argv)
    return run_self_test(args.steps, args.samples, check_qt=not args.no_qt)


if __name__ == "__main__":
    sys.exit(main())
