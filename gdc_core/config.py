"""One frozen record of every parameter of a segmentation run.

The defaults are the paper's single-image settings (Sec. V-A) where the paper gives them, and measured choices
where it does not or where the printed form measurably hurts (docs/method.md).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Mapping

CONTEXT_CONVS = ("gdc", "normal", "deformable", "uniform")
CLASS_WEIGHTINGS = ("balanced", "paper", "none")
REFINE_STAGES = ("prior", "grabcut", "seeded", "snap")  # in pipeline order; see refine.py
DEVICES = ("auto", "cpu", "cuda")
SUPERPIXEL_RESOLUTIONS = ("features", "input")


def parse_refine(spec: str) -> tuple[str, ...]:
    """``"none"`` -> (); ``"seeded+prior"`` -> ("prior", "seeded"): the stages of a refine spec, in pipeline order.
    Raises ValueError on unknown or repeated stages."""
    if spec == "none":
        return ()
    stages = tuple(spec.split("+"))
    unknown = [s for s in stages if s not in REFINE_STAGES]
    if unknown or len(set(stages)) != len(stages):
        raise ValueError(f"unknown refine {spec!r}; use none or a '+'-joined subset of {', '.join(REFINE_STAGES)}")
    return tuple(s for s in REFINE_STAGES if s in stages)


def parse_context_conv(spec: str) -> tuple[str, int]:
    """Split a context-conv spec into (kind, dilation): ``"gdc"`` -> ("gdc", 1), ``"dilated:6"`` -> ("dilated", 6).

    Raises ValueError for anything else.
    """
    if spec.startswith("dilated:"):
        rate_text = spec.split(":", 1)[1]
        if not rate_text.isdigit() or int(rate_text) < 1:
            raise ValueError(f"dilated conv needs a positive integer rate, e.g. dilated:6 (got {spec!r})")
        return "dilated", int(rate_text)
    if spec in CONTEXT_CONVS:
        return spec, 1
    raise ValueError(f"unknown context conv {spec!r}; choose one of {', '.join(CONTEXT_CONVS)} or dilated:<rate>")


@dataclass(frozen=True)
class SegmenterConfig:
    """Parameters of one segmentation run (all immutable; use :meth:`replace` for variants).

    Attributes:
        steps: SGD steps on the scribble labels (paper: 50).
        warm_steps: steps of a warm-started run (continuing the previous run's network after more strokes).
            Measured by ``benchmarks/warm_start.py`` (a run without one stroke, then a warm run with it, mIoU
            grabcut-dev / voc-dev / acdc-dev): 15: 92.3 / 83.7 / 78.9; 10: 92.4 / 84.6 / 78.7; 5: 91.8 / 72.3 /
            79.0; a cold run with every stroke: 91.8 / 82.1 / 79.1.
        samples: stochastic forward passes averaged into the mask (paper: 50).
        lr: SGD learning rate (paper: 0.01).
        momentum: SGD momentum (the paper does not say; 0.9 is the usual companion of lr 0.01).
        sigma: standard deviation Σ of the half-normal GDC offsets, in units of the feature map's size (paper: 0.2).
        context_conv: the module's context branch: ``gdc`` (the paper), ``normal``, ``dilated:<rate>``,
            ``deformable`` (learned offsets) or ``uniform`` (random offsets from a uniform law, Table VII).
        pixels_per_step: labelled pixels per SGD step, drawn class-stratified and evaluated sparsely (an
            unbiased minibatch estimate of the full loss); 0 = the full map every step. Without refinement,
            mean of seeds 0-2, mIoU grabcut-dev / voc-dev / acdc-dev: 128: 78.2 / 61.8 / 32.0; 256: 78.4 / 64.8 /
            32.3; 512: 78.2 / 64.5 / 32.3; the literal full-map loss 78.5 / 65.1 on the first two. 256 takes 9.9
            ms a step against 11.5 for 512 on the 2-core machine. CPU only: on a CUDA GPU
            the full map is cheaper (H100: 50 steps 0.15 s dense against 0.21 s sparse, launch-bound), so CUDA
            runs always train on the full map.
        pixel_block: side in pixels of the square blocks of labelled pixels a training minibatch draws (1:
            independent pixels). Blocks share their 3x3 neighbourhoods, which the sparse forward pass evaluates
            once: 2x2 blocks need about 60 % of the positions of single pixels, and 50 steps took 0.34 s instead of
            0.46 s. Without refinement, mean of seeds 0-2: 2x2 78.5 / 63.6 / 31.4, single pixels 78.6 / 63.0 / 32.7.
        settle_after: Monte-Carlo passes over the whole map before pixels on which all of them agree stop being
            sampled (the rest of the ``samples`` passes run at the other pixels only); 0 = every pixel gets every
            pass. Measured without refinement (docs/ablation.md), 0 and 5 give the same mIoU on every dev folder
            (78.6 / 65.2 / 30.4 against 78.5 / 65.2 / 30.4); 5 samples about 4x faster than 0. 3 against 5 (256
            pixels a step, mean of seeds 0-2): 78.3 / 64.7 / 32.3 against 78.4 / 64.8 / 32.3.
        literal: the paper-literal reference implementation: SLIC at the input resolution, full-map loss every
            step and one full forward pass per sample (ignores superpixel_resolution, pixels_per_step and
            settle_after); kept for benchmarks and reproduction.
        width: channels after the 1x1 fuse and in each branch of the GDC module.
        class_weighting: ``balanced`` (w_c proportional to 1/n_c, the default), ``paper`` (Eq. 6 as printed,
            w_c = n_c / N_all) or ``none``. Measured: the printed form weights frequent classes up and loses 16
            mIoU points on grabcut-dev (62.7 against 78.5 balanced) and 20 on voc-dev (45.1 against 65.2).
        superpixels: SLIC segment count (over the whole image, whatever resolution SLIC runs at).
        superpixel_resolution: where SLIC over-segments the image and the scribbles are expanded: ``input`` (the
            network's input, the working resolution: the paper's "over-segment the input image") or ``features``
            (the image area-resized to the stem feature map's size, half the working resolution, where the loss is
            computed anyway). Without refinement, mean of seeds 0-2 (docs/seeds.md), mIoU grabcut-dev / voc-dev /
            acdc-dev: features 78.5 / 63.6 / 31.4, input 77.9 / 63.1 / 30.4; SLIC takes 0.03 s instead of 0.10 s
            at 0.2 MP on the 2-core machine.
        slic_compactness: SLIC compactness (colour vs space trade-off).
        slic_iterations: SLIC's k-means iterations at most (scikit-image's default: 10). 5 would take SLIC from 0.07
            to 0.04 s at 0.2 MP but lost 2 mIoU on voc-dev without refinement (62.7 / 62.6 against 65.1 / 64.5,
            seeds 0 and 1) and 3 with it (seed 0).
        max_side: the network's working resolution: the image's longer side is scaled down to this many pixels
            (never up); outputs are brought back to the full size.
        refine: what runs beside the paper's network: ``none`` (the paper's pipeline) or a '+'-joined subset of
            :data:`REFINE_STAGES`: ``prior``, the spatial prior in training (:mod:`prior`: background out of every
            object's reach trains the background class, ``far_weight`` below); ``grabcut``, ``seeded`` and ``snap``, the
            finishing of the averaged probabilities at the image's resolution (:mod:`refine`). Measured in
            docs/robustness.md (six simulated scribble styles on davis-dev and the human dev folders) and
            docs/ablation.md.
        min_reach: an object class's smallest reach from its strokes, as a fraction of the image's longer side
            (:mod:`prior`).
        reach_factor: an object class's reach as a multiple of half the diagonal of its strokes' bounding box.
        far_weight: training weight of a pixel of the far background (out of every object's reach), as a fraction of
            a background stroke pixel's; all of them together weigh at most this fraction of a class's mean total
            weight (the sum of w_c n_c over the classes, divided by their number). Measured on davis-dev every 20th
            frame (one-sided / skeleton / clicks) and grabcut-dev, mIoU: 0.25: 66.4 / 84.0 / 73.5 / 90.8; 0.5:
            70.6 / 84.1 / 75.9 / 89.1; 1.0: 72.2 / 84.1 / 73.4 / 88.8; the prior off: 24.0 / 63.1 / 27.7 / 93.8.
            0.25 trades 4 points of one-sided strokes (still 7 above GrabCut) for 2 on people's own strokes on
            photos, where objects fill the frame. reach_factor 1.0 instead of 0.5 (far_weight 0.5): 58.6 / 79.0 /
            70.3 / 89.6. voc-dev (3 photos) moves by 5 points from one engine seed to the next, more than any of
            these choices.
        grabcut_iterations: GrabCut iterations of the ``grabcut`` refinement. Measured (mIoU grabcut-dev / voc-dev /
            acdc-dev, refining the same network probabilities): 1: 92.1 / 79.6 / 78.9; 2: 92.4 / 81.6 / 79.0;
            3: 93.1 / 81.4 / 79.1; 5: 92.5 / 81.7 / 79.1, at 0.26 / 0.37 / 0.43 / 0.60 s per grabcut-dev image: past
            2 the cost grows and the quality does not.
        grabcut_band: GrabCut may change only pixels within this many pixels of the border of the network's
            decision (at the refinement's resolution, at most 512 px a side); 0: everywhere (plain GrabCut).
            GrabCut's flow then only has to settle near the border. Mean of seeds 0-2 (docs/seeds.md), mIoU
            grabcut-dev / voc-dev / acdc-dev and the finishing stage's seconds per grabcut-dev image: 0: 91.8 /
            82.9 / 79.0, 0.55 s; 32: 91.7 / 79.0 / 78.9, 0.41 s; 64: 92.7 / 81.7 / 79.0, 0.45 s. 64 costs voc-dev
            (3 photos, one seed moves it by 3 points) about a point and gains one on grabcut-dev.
        preview_every: report an intermediate label map every this many training steps (0: never).
        preview_seconds: at most one preview per this many seconds of training (0: at every ``preview_every``-th
            step). A preview is a full forward pass: on a 0.2 MP photo, five of them made a 0.79 s run take 0.93 s,
            while a whole training lasts 0.4 s, too short for previews to show anything; they are for slow runs.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        seed: seed of every random draw of a run (weights, offsets); None draws a fresh one.
    """

    steps: int = 50
    warm_steps: int = 10
    samples: int = 50
    lr: float = 0.01
    momentum: float = 0.9
    sigma: float = 0.2
    context_conv: str = "gdc"
    pixels_per_step: int = 256
    pixel_block: int = 2
    settle_after: int = 3
    literal: bool = False
    width: int = 32
    class_weighting: str = "balanced"
    superpixels: int = 1000
    slic_compactness: float = 10.0
    slic_iterations: int = 10
    superpixel_resolution: str = "features"
    max_side: int = 400
    refine: str = "prior+grabcut+seeded+snap"
    min_reach: float = 0.1
    reach_factor: float = 0.5
    far_weight: float = 0.25
    grabcut_iterations: int = 2
    grabcut_band: int = 64
    preview_every: int = 10
    preview_seconds: float = 0.3
    device: str = "auto"
    seed: int | None = 0

    def __post_init__(self) -> None:
        parse_context_conv(self.context_conv)
        _check_choice("class_weighting", self.class_weighting, CLASS_WEIGHTINGS)
        parse_refine(self.refine)
        _check_choice("device", self.device, DEVICES)
        _check_choice("superpixel_resolution", self.superpixel_resolution, SUPERPIXEL_RESOLUTIONS)
        if not self.far_weight >= 0:
            raise ValueError(f"far_weight must be 0 or more (got {self.far_weight!r})")
        if not (self.min_reach > 0 and self.reach_factor >= 0):
            raise ValueError(f"min_reach must be positive and reach_factor 0 or more (got {self.min_reach!r}, "
                             f"{self.reach_factor!r})")
        for name in ("steps", "warm_steps", "samples", "width", "superpixels", "slic_iterations", "max_side",
                     "grabcut_iterations", "pixel_block"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1 (got {getattr(self, name)!r})")
        if min(self.preview_every, self.pixels_per_step, self.settle_after, self.preview_seconds,
               self.grabcut_band) < 0:
            raise ValueError("preview_every, preview_seconds, pixels_per_step, settle_after and grabcut_band must be 0 "
                             "or more")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive (got {self.lr!r})")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1) (got {self.momentum!r})")
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive (got {self.sigma!r})")
        if self.max_side < 16:
            raise ValueError(f"max_side must be at least 16 pixels (got {self.max_side!r})")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "SegmenterConfig":
        """Build a config from a mapping; unknown keys are an error (a typo must not silently do nothing)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config key(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "SegmenterConfig":
        """A copy with ``changes`` applied (validated like the constructor; unknown keys rejected)."""
        return self.from_dict({**self.to_dict(), **changes})


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
