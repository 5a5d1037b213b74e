"""One frozen record of every parameter of a segmentation run, each field declared once with its help text, valid
range, the paper's value and who is offered it (:class:`Param`); the command line, the app's settings storage and
its Settings dialog are generated from these declarations (:func:`params`).

The defaults are the paper's single-image settings (Sec. V-A) where the paper gives them, and measured choices
where it does not or where the printed form measurably hurts; :meth:`SegmenterConfig.paper` gives the paper's
values. The measurements behind each choice: docs/method.md.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

CONTEXT_CONVS = ("gdc", "normal", "deformable", "uniform")
CLASS_WEIGHTINGS = ("balanced", "paper", "none")
REFINE_STAGES = ("prior", "grabcut", "seeded", "snap")  # in pipeline order; see refine.py
DEVICES = ("auto", "cpu", "cuda")
SUPERPIXEL_RESOLUTIONS = ("features", "input")

# who a parameter is offered to (Param.level); a parameter of neither level is set through the library only
BASIC = "basic"  # the app's Settings dialog (kept between sessions) and the command line
EXPERT = "expert"  # the command line only


class _NotInPaper:
    def __repr__(self) -> str:
        return "NOT_IN_PAPER"


NOT_IN_PAPER = _NotInPaper()  # Param.paper of a parameter the paper gives no value for


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
class Param:
    """The declaration of one :class:`SegmenterConfig` field (kept in the field's metadata).

    Attributes:
        label: a few words naming it in a form (the Settings dialog).
        help: one line: what it is, with its unit (the option's help, the widget's tooltip).
        low: the smallest valid value (None: no lower bound); ``above``: ``low`` itself is not valid.
        below: every valid value is less than this (None: no upper bound).
        choices: the valid values; with ``parse``, the values a list offers (``parse`` decides validity).
        parse: raises ValueError for an invalid value (open-ended specs such as ``dilated:<rate>``).
        paper: the paper's value (Sec. V-A), or :data:`NOT_IN_PAPER`.
        level: :data:`BASIC`, :data:`EXPERT` or None (library only).
        option: the command-line option's name when it is not the field's (``conv`` for ``--conv``).
        span: the (lowest, highest) value a spin box offers, within the valid range (BASIC numbers only).
        step: a spin box's step.
    """

    label: str
    help: str
    low: float | None = None
    above: bool = False
    below: float | None = None
    choices: tuple[str, ...] = ()
    parse: Callable[[str], object] | None = None
    paper: Any = NOT_IN_PAPER
    level: str | None = None
    option: str | None = None
    span: tuple[float, float] | None = None
    step: float = 1

    def check(self, name: str, value: Any) -> None:
        """Raise ValueError naming ``name`` when ``value`` is not valid for this declaration."""
        if self.parse is not None:
            self.parse(value)
        elif self.choices and value not in self.choices:
            raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(self.choices)}")
        low_ok = self.low is None or (value > self.low if self.above else value >= self.low)
        if not (low_ok and (self.below is None or value < self.below)):  # written so that NaN is refused
            raise ValueError(f"{name} must be {self.bounds()} (got {value!r})")

    def bounds(self) -> str:
        """The valid range in words, e.g. ``at least 1`` or ``at least 0 and less than 1``."""
        parts = [] if self.low is None else [f"{'more than' if self.above else 'at least'} {self.low:g}"]
        parts += [] if self.below is None else [f"less than {self.below:g}"]
        return " and ".join(parts)

    def described(self, default: Any) -> str:
        """``help`` with the default and, where it gives one, the paper's value."""
        paper = "" if self.paper is NOT_IN_PAPER else f"; paper: {self.paper}"
        return f"{self.help} (default {default}{paper})"


def _field(default: Any, label: str, help: str, **declared: Any) -> Any:
    return field(default=default, metadata={"param": Param(label, help, **declared)})


def params() -> dict[str, Param]:
    """Every :class:`SegmenterConfig` field's declaration, by field name, in declaration order."""
    return {f.name: f.metadata["param"] for f in fields(SegmenterConfig)}


@dataclass(frozen=True)
class SegmenterConfig:
    """Parameters of one segmentation run (all immutable; use :meth:`replace` for variants). Each field's meaning,
    unit and valid range are in its declaration below (:func:`params`); invalid values raise ValueError."""

    steps: int = _field(50, "Steps", "SGD steps on the scribble labels", low=1, paper=50, level=BASIC,
                        span=(1, 1000))
    # after one more stroke 10 scored as 15, 5 lost 11 mIoU points on voc-dev (docs/method.md)
    warm_steps: int = _field(10, "Warm steps", "SGD steps of a warm-started run (the previous run's network, "
                             "continued after more strokes)", low=1)
    samples: int = _field(50, "Samples", "stochastic forward passes averaged into the mask", low=1, paper=50,
                          level=BASIC, span=(1, 500))
    lr: float = _field(0.01, "Learning rate", "SGD learning rate", low=0, above=True, paper=0.01, level=BASIC,
                       span=(0.0001, 1.0), step=0.001)
    # the paper does not say; 0.9 is the usual companion of lr 0.01
    momentum: float = _field(0.9, "Momentum", "SGD momentum", low=0, below=1)
    sigma: float = _field(0.2, "Σ (sigma)", "standard deviation Σ of the half-normal GDC offsets, in units of the "
                          "feature map's size", low=0, above=True, paper=0.2, level=BASIC, span=(0.01, 2.0), step=0.05)
    context_conv: str = _field("gdc", "Context conv", "the module's context branch: gdc (the paper's), normal, "
                               "dilated:<rate>, deformable (learned offsets) or uniform (offsets from a uniform law, "
                               "Table VII)", choices=(*CONTEXT_CONVS, "dilated:6"), parse=parse_context_conv,
                               paper="gdc", level=BASIC, option="conv")
    # a class-stratified, importance-weighted minibatch: the same quality as the full map for a twelfth of the time;
    # a CUDA GPU always trains on the full map (cheaper there)
    pixels_per_step: int = _field(256, "Pixels per step", "labelled pixels per SGD step, an unbiased minibatch "
                                  "estimate of the full loss; 0 = the full map every step", low=0, paper=0,
                                  level=BASIC, span=(0, 65536), step=64)
    # 2x2 blocks share their neighbourhoods: 60 % of the positions of single pixels at the same quality
    pixel_block: int = _field(2, "Pixel block", "side of the square blocks of labelled pixels a training step "
                              "draws, 1 = single pixels", low=1, level=EXPERT)
    # the same mIoU as settling never, at a quarter of the sampling time
    settle_after: int = _field(3, "Settle after", "Monte-Carlo passes over the whole map before pixels on which all "
                               "of them agree stop being sampled; 0 = every pixel gets every pass", low=0, paper=0,
                               level=BASIC, span=(0, 500))
    literal: bool = _field(False, "Literal", "the paper-literal reference implementation (slow): SLIC at the input "
                           "resolution, full-map loss, one full forward pass per sample; ignores "
                           "superpixel_resolution, pixels_per_step and settle_after", level=EXPERT)
    # the prototype's measured width; 16 lost 4 mIoU on voc-dev
    width: int = _field(32, "Width", "channels after the 1x1 fuse and in each branch of the GDC module", low=1)
    # Eq. 6 as printed weights frequent classes up and loses 16-20 mIoU points on photos
    class_weighting: str = _field("balanced", "Class weighting", "loss weights per class: balanced (w_c "
                                  "proportional to 1/n_c), paper (Eq. 6 as printed, w_c = n_c / N_all) or none",
                                  choices=CLASS_WEIGHTINGS, paper="paper", level=BASIC)
    superpixels: int = _field(1000, "Superpixels", "SLIC segment count over the whole image", low=1, level=BASIC,
                              span=(10, 20000), step=100)
    slic_compactness: float = _field(10.0, "SLIC compactness", "SLIC compactness (colour against space)")
    # scikit-image's default; 5 lost 2-3 mIoU on voc-dev
    slic_iterations: int = _field(10, "SLIC iterations", "SLIC k-means iterations at most", low=1, level=EXPERT)
    # at the features' size SLIC takes a third of the time and scores as well
    superpixel_resolution: str = _field("features", "Superpixels at", "where SLIC over-segments the image and the "
                                        "scribbles are expanded: input (the network's input) or features (the stem "
                                        "feature map's size, half the working resolution)",
                                        choices=SUPERPIXEL_RESOLUTIONS, paper="input", level=BASIC)
    max_side: int = _field(400, "Working resolution", "the network's working resolution in pixels: the image's "
                           "longer side is scaled down to it (never up), outputs come back at full size", low=16,
                           level=BASIC, span=(64, 4096), step=32)
    # the network alone predicts blobby borders and stray specks: the finishing takes grabcut-dev from 78.5 to 93.3 mIoU
    refine: str = _field("prior+grabcut+seeded+snap", "Refinement", "what runs beside the paper's network: none (the "
                         f"paper's pipeline) or a '+'-joined subset of {', '.join(REFINE_STAGES)}: prior, the spatial "
                         "prior in training; grabcut, seeded and snap, the finishing at the image's resolution",
                         choices=("prior+grabcut+seeded+snap", "grabcut+seeded", "none"), parse=parse_refine,
                         paper="none", level=BASIC)
    min_reach: float = _field(0.1, "Smallest reach", "an object class's smallest reach from its strokes, as a "
                              "fraction of the image's longer side (refine stage prior)", low=0, above=True,
                              level=EXPERT)
    reach_factor: float = _field(0.5, "Reach factor", "an object class's reach as a multiple of half the diagonal "
                                 "of its strokes' bounding box", low=0, level=EXPERT)
    # a quarter trades a few points of one-sided strokes for people's own strokes on photos, which fill the frame
    far_weight: float = _field(0.25, "Far weight", "training weight of a pixel out of every object's reach, as a "
                               "fraction of a background stroke pixel's; all of them together weigh at most this "
                               "fraction of a class", low=0, level=EXPERT)
    # past 2 the cost grows and the quality does not
    grabcut_iterations: int = _field(2, "GrabCut iterations", "GrabCut iterations of the grabcut refinement",
                                     low=1, level=EXPERT)
    # GrabCut's flow then only has to settle near the border: 10-40 % faster
    grabcut_band: int = _field(64, "GrabCut band", "GrabCut changes only pixels within this many pixels of the "
                               "network's border (at the refinement's resolution); 0 = anywhere", low=0,
                               level=EXPERT)
    preview_every: int = _field(10, "Preview every", "report an intermediate label map every this many training "
                                "steps; 0 = never", low=0)
    # a preview is a full forward pass: too costly for the usual 0.4 s training, useful in slow runs
    preview_seconds: float = _field(0.3, "Preview seconds", "at most one preview per this many seconds of "
                                    "training; 0 = at every preview_every-th step", low=0)
    device: str = _field("auto", "Device", "compute device: auto (CUDA when available), cpu or cuda",
                         choices=DEVICES, level=BASIC)
    seed: int | None = _field(0, "Seed", "seed of every random draw of a run (weights, offsets); None draws a "
                              "fresh one", level=EXPERT)

    def __post_init__(self) -> None:
        for name, param in params().items():
            param.check(name, getattr(self, name))

    @classmethod
    def paper(cls) -> "SegmenterConfig":
        """The defaults with the paper's value of every parameter it gives one for (its pipeline: no refinement,
        Eq. 6 as printed, SLIC on the input, the full map every step, every sample at every pixel)."""
        return cls().replace(**{name: p.paper for name, p in params().items() if p.paper is not NOT_IN_PAPER})

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
