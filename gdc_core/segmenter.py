"""The facade the CLI and the app use: ``set_image`` once per image, ``run`` once per set of scribbles.

    seg = Segmenter(SegmenterConfig(), backbone_weights="mobilenet_v2.pt")
    seg.set_image(image)                      # (H, W) grey or (H, W, 3|4) uint8
    result = seg.run(scribbles)               # (H, W) uint8, 255 = no stroke
    result.labels, result.probabilities, result.uncertainty
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .backbone import StemChoice, choose_stem
from .config import SegmenterConfig, parse_refine
from .images import as_rgb_uint8, decide, downscale_labels, resize_image, working_shape
from .inference import fits_strokes, monte_carlo
from .network import LightweightSegNet
from .prior import far_background
from .refine import refine_labels
from .scribbles import BACKGROUND, NO_LABEL, compute_superpixels, expand_scribbles, validate_scribbles
from .training import RunCancelled, class_weights, fit

STAGES = ("superpixels", "training", "sampling", "finishing")


@dataclass(frozen=True)
class Progress:
    """Where a run is: ``stage`` (one of STAGES), ``step`` of ``total`` within it, and every
    ``preview_every`` training steps (at most one per ``preview_seconds``) a ``preview``: (h, w) uint8 class ids at
    the network's resolution."""

    stage: str
    step: int
    total: int
    preview: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class SegmentationResult:
    """What a run produced, at the image's full size (H, W).

    Attributes:
        labels: (H, W) uint8 class ids (the scribbles' values).
        probabilities: (K, H, W) float32 averaged class probabilities, row k for ``classes[k]``.
        uncertainty: (H, W) float32 in [0, 1]: fraction of the stochastic samples that disagree with ``labels``.
        classes: the K class ids, ascending.
        timings: seconds per stage (``superpixels``, ``training``, ``sampling``, ``finishing``, ``total``).
        device: ``cpu`` or ``cuda``.
        warnings: things the user must know (e.g. an untrained stem).
        losses: training loss per step.
    """

    labels: np.ndarray
    probabilities: np.ndarray
    uncertainty: np.ndarray
    classes: tuple[int, ...]
    timings: dict[str, float]
    device: str
    warnings: tuple[str, ...]
    losses: tuple[float, ...] = ()


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r}; choose auto, cpu or cuda")
    return torch.device(name)


class Segmenter:
    """Segments one image at a time from class scribbles with a freshly trained lightweight GDC network.

    Args:
        config: run parameters (a run may pass its own).
        backbone_weights: explicit stem weights file (see :func:`backbone.choose_stem`).
        allow_download: let torchvision fetch the ImageNet weights when not cached.
        require_pretrained: fail instead of falling back to the offline filter-bank stem.
        stem: an already chosen stem (shares one between segmenters; overrides the weights arguments).

    Not thread-safe: use a Segmenter from one thread at a time (the app's worker thread owns it).
    """

    def __init__(self, config: SegmenterConfig | None = None, *, backbone_weights=None, allow_download: bool = True,
                 require_pretrained: bool = False, stem: StemChoice | None = None):
        self.config = config or SegmenterConfig()
        self.device = resolve_device(self.config.device)
        self.stem = stem or choose_stem(backbone_weights, allow_download=allow_download,
                                        require_pretrained=require_pretrained)
        self.stem.stem.to(self.device)
        self._image: np.ndarray | None = None
        self._cache: dict[tuple, object] = {}

    @property
    def image_shape(self) -> tuple[int, int]:
        if self._image is None:
            raise RuntimeError("set_image() has not been called")
        return self._image.shape[:2]

    def set_image(self, image: np.ndarray) -> None:
        """Take a new image ((H, W) grey, or (H, W, 3/4) RGB(A); uint8, uint16, bool or float in [0, 1]).

        The stem features and superpixels are computed lazily on the first run and kept for later runs.
        """
        self._image = as_rgb_uint8(image)
        self._cache.clear()

    def _working(self, config: SegmenterConfig) -> tuple[np.ndarray, torch.Tensor]:
        """The image at the working resolution (h, w, 3) and its stem features (1, S, ceil(h/2), ceil(w/2))."""
        key = ("features", config.max_side)
        if key not in self._cache:
            small = resize_image(self._image, working_shape(self.image_shape, config.max_side)).astype(np.float32) / 255
            tensor = torch.from_numpy(np.ascontiguousarray(small.transpose(2, 0, 1))).unsqueeze(0).to(self.device)
            with torch.no_grad():
                self._cache[key] = (small, self.stem.stem(tensor).contiguous())
        return self._cache[key]

    def _superpixels(self, config: SegmenterConfig) -> np.ndarray:
        """SLIC labels at ``config.superpixel_resolution`` (the input's for a literal run): (h, w) int32, the
        working image's size or the stem feature map's."""
        at_features = config.superpixel_resolution == "features" and not config.literal
        key = ("superpixels", config.max_side, at_features, config.superpixels, config.slic_compactness,
               config.slic_iterations)
        if key not in self._cache:
            small, features = self._working(config)
            if at_features:
                small = resize_image(small, features.shape[-2:])
            self._cache[key] = compute_superpixels(small, config.superpixels, config.slic_compactness,
                                                   config.slic_iterations)
        return self._cache[key]

    def prepare(self, config: SegmenterConfig | None = None) -> None:
        """Compute now what the first run on this image would compute first: the stem features and the superpixels
        for ``config`` (default: the segmenter's). The app calls it when an image opens, while the annotator is
        still painting, so that the first run only trains and samples."""
        self._superpixels(config or self.config)

    def run(self, scribbles: np.ndarray, *, config: SegmenterConfig | None = None, warm_start: bool = False,
            on_progress: Callable[[Progress], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> SegmentationResult:
        """Train a network on ``scribbles`` and predict the whole image.

        Args:
            scribbles: (H, W) uint8, class id on stroke pixels, 255 elsewhere; at least two classes.
            config: overrides the segmenter's config for this run (``device`` stays the segmenter's).
            warm_start: continue from the network of the previous run on this image for ``config.warm_steps``
                steps instead of training a fresh one for ``config.steps`` (the quick update after one more
                stroke); its GrabCut refinement starts from the colour models the previous run fitted. Falls back
                to a fresh network (and k-means colour models) when there is none, or the classes or the network's
                settings changed, and trains a fresh one after the warm steps when the previous network fitted its
                strokes (:func:`inference.fits_strokes`) and the continued one no longer fits the new ones
                (``timings["retrained"]`` is then 1).
            on_progress: receives :class:`Progress` after each stage step.
            should_stop: polled between steps; True ends the run with :class:`training.RunCancelled`.

        Raises:
            scribbles.ScribbleError: bad scribbles. training.RunCancelled: a stop was requested.
        """
        config = config or self.config
        report = on_progress or (lambda progress: None)
        stop = should_stop or (lambda: False)
        classes = validate_scribbles(np.asarray(scribbles), self.image_shape)
        started = time.perf_counter()
        timings: dict[str, float] = {}

        report(Progress("superpixels", 0, 1))
        _, features = self._working(config)
        tic = time.perf_counter()
        superpixels = self._superpixels(config)
        index_of = np.full(256, NO_LABEL, dtype=np.uint8)
        index_of[list(classes)] = np.arange(len(classes))
        small_scribbles = index_of[downscale_labels(np.asarray(scribbles), superpixels.shape, NO_LABEL)]
        expanded = expand_scribbles(small_scribbles, superpixels)
        target = downscale_labels(expanded, features.shape[-2:], NO_LABEL)
        counts = np.bincount(target[target != NO_LABEL], minlength=len(classes))
        if np.any(counts == 0):  # a class whose strokes vanished at the network's resolution: keep its strokes
            target = np.where(target == NO_LABEL, downscale_labels(small_scribbles, features.shape[-2:], NO_LABEL), target)
            counts = np.bincount(target[target != NO_LABEL], minlength=len(classes))
        weights = class_weights(np.maximum(counts, 1), config.class_weighting)
        background = classes.index(BACKGROUND) if BACKGROUND in classes else None
        stages = parse_refine(config.refine)
        group_class = None
        if background is not None and "prior" in stages and config.far_weight > 0:
            target, weights, group_class = self._far_background_group(small_scribbles, target, counts, weights,
                                                                      background, config)
        timings["superpixels"] = time.perf_counter() - tic
        if stop():
            raise RunCancelled("stopped before training")
        report(Progress("superpixels", 1, 1))

        network_key = (classes, config.max_side, config.width, config.context_conv, config.sigma, config.seed)
        previous = self._cache.get("network")
        warm = warm_start and previous is not None and previous[0] == network_key
        if warm:
            net, generator, colour_models, previous_fitted = previous[1:]
        else:
            net, generator = self._new_network(config, len(classes), features.shape[1])
            colour_models = {}  # GrabCut's, filled by this run's refinement: a warm run starts from them
        class_ids = np.asarray(classes, dtype=np.uint8)
        group_tensor = None if group_class is None else torch.from_numpy(group_class).to(self.device)
        target_tensor = torch.from_numpy(target.astype(np.int64)).to(self.device)
        weight_tensor = torch.tensor(weights, dtype=torch.float32, device=self.device)
        timings["training"] = timings["sampling"] = 0.0

        def train_and_sample(net, generator, steps: int):
            last_preview = time.perf_counter()

            def on_step(step: int) -> None:
                nonlocal last_preview
                preview = None
                due = config.preview_every and (step % config.preview_every == 0 or step == steps)
                if on_progress and due and time.perf_counter() - last_preview >= config.preview_seconds:
                    with torch.no_grad():
                        net.eval()
                        preview = class_ids[net(features)[0].argmax(0).cpu().numpy()]
                        net.train()
                    last_preview = time.perf_counter()
                report(Progress("training", step, steps, preview))

            tic = time.perf_counter()
            losses = fit(net, features, target_tensor, weight_tensor, steps=steps, lr=config.lr,
                         momentum=config.momentum,
                         pixels_per_step=0 if config.literal or self.device.type == "cuda" else config.pixels_per_step,
                         pixel_block=config.pixel_block, generator=generator, on_step=on_step, should_stop=stop,
                         group_class=group_tensor)
            timings["training"] += time.perf_counter() - tic
            tic = time.perf_counter()
            mean, disagreement = monte_carlo(net, features, config.samples, literal=config.literal,
                                             settle_after=0 if config.literal else config.settle_after,
                                             should_stop=stop,
                                             on_samples=lambda n: report(Progress("sampling", n, config.samples)))
            timings["sampling"] += time.perf_counter() - tic
            return losses, mean, disagreement

        losses, mean, disagreement = train_and_sample(net, generator, config.warm_steps if warm else config.steps)
        strokes_small = downscale_labels(small_scribbles, tuple(mean.shape[-2:]), NO_LABEL)
        fitted = fits_strokes(mean.cpu().numpy(), strokes_small)
        if warm and previous_fitted and not fitted:
            # the few warm steps left a network that fitted its strokes against the user's strokes now (a
            # correction it overshot): train a fresh one, as a run without warm start would
            net, generator = self._new_network(config, len(classes), features.shape[1])
            colour_models = {}
            losses, mean, disagreement = train_and_sample(net, generator, config.steps)
            fitted = fits_strokes(mean.cpu().numpy(), strokes_small)
            timings["retrained"] = 1.0
        self._cache["network"] = (network_key, net, generator, colour_models, fitted)

        tic = time.perf_counter()
        report(Progress("finishing", 0, 1))
        probabilities, uncertainty = self._to_full_size(mean, disagreement)
        finishing = tuple(stage for stage in stages if stage != "prior")
        if finishing:
            labels = class_ids[refine_labels(self._image, probabilities, index_of[np.asarray(scribbles)], finishing,
                                             iterations=config.grabcut_iterations, band=config.grabcut_band,
                                             colour_models=colour_models)]
        else:
            labels = class_ids[decide(probabilities)]
        timings["finishing"] = time.perf_counter() - tic
        timings["total"] = time.perf_counter() - started
        report(Progress("finishing", 1, 1))
        warnings = (self.stem.warning,) if self.stem.warning else ()
        return SegmentationResult(labels, probabilities, uncertainty, classes, timings, self.device.type,
                                  warnings, tuple(losses))

    @staticmethod
    def _far_background_group(strokes: np.ndarray, target: np.ndarray, counts: np.ndarray, weights: np.ndarray,
                              background: int, config: SegmenterConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The spatial prior in training: unlabelled pixels out of every object's reach (:func:`prior.far_background`
        of the (h', w') class-index ``strokes``) become one more weighting group, index K, that trains the background
        class: each of its pixels weighs ``config.far_weight`` times a background stroke pixel, and all of them
        together at most ``config.far_weight`` times the mean total weight of a class (sum of w_c n_c over K).

        Returns (target (h, w) with group indices, (K+1,) group weights, (K+1,) group -> class), or the inputs
        unchanged (and None) when no pixel is far.
        """
        far = far_background(strokes, background, config.min_reach, config.reach_factor)
        far = cv2.resize(far.astype(np.uint8), (target.shape[1], target.shape[0]),
                         interpolation=cv2.INTER_NEAREST).astype(bool)
        far &= target == NO_LABEL
        count = int(far.sum())
        if count == 0:
            return target, weights, None
        groups = target.copy()
        groups[far] = len(weights)
        far_weight = config.far_weight * min(float(weights[background]),
                                             float(np.dot(weights, counts)) / len(weights) / count)
        group_class = np.append(np.arange(len(weights)), background).astype(np.int64)
        return groups, np.append(weights, far_weight), group_class

    def _new_network(self, config: SegmenterConfig, num_classes: int, in_channels: int):
        generator = torch.Generator(device=self.device)
        seed = config.seed if config.seed is not None else int(torch.randint(0, 2**31 - 1, (1,)))
        generator.manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = LightweightSegNet(in_channels, num_classes, config.width, config.context_conv, config.sigma)
        net.to(self.device)
        net.set_generator(generator)
        return net, generator

    def _to_full_size(self, mean: torch.Tensor, disagreement: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Bilinear upsampling of (K, h, w) probabilities and (h, w) disagreement to the image's (H, W)."""
        size = self.image_shape
        probabilities = F.interpolate(mean.unsqueeze(0), size=size, mode="bilinear", align_corners=False)[0]
        uncertainty = F.interpolate(disagreement[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
        return probabilities.cpu().numpy(), uncertainty.clamp_(0, 1).cpu().numpy()
