"""Fitting the lightweight network to the expanded scribble labels (paper Sec. V-A, Eq. 5-6).

Knows nothing of threads: progress goes out through ``on_progress`` and a stop is asked through
``should_stop``, checked before every step.
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from .scribbles import NO_LABEL


# Sparse training runs on one CPU thread: its ops are small (a few thousand rows), and under passive OpenMP waiting
# (cpu_runtime) every parallel op pays to wake the other threads. 50 steps on a 0.2 MP photo, 2-core machine,
# best / median of 7: 1 thread 0.43 / 0.45 s, 2 threads 0.55 / 0.63 s.
SPARSE_TRAINING_THREADS = 1


@contextmanager
def intra_op_threads(count: int) -> Iterator[None]:
    """Run torch's CPU ops inside the block on ``count`` threads, then restore the previous count (a process-wide
    torch setting: blocks that change it should not overlap in time)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class RunCancelled(Exception):
    """A stop was requested through ``should_stop``; the run ended early and produced nothing."""


def class_weights(counts: np.ndarray, scheme: str) -> np.ndarray:
    """Per-class loss weights from labelled-pixel counts n_c (all > 0): float64 (K,).

    ``paper``: Eq. 6 as printed, w_c = n_c / N_all (frequent classes weigh more);
    ``balanced``: w_c = N_all / (K · n_c) (every class carries the same total weight);
    ``none``: w_c = 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if np.any(counts <= 0):
        raise ValueError("every class needs at least one labelled pixel")
    total = counts.sum()
    if scheme == "paper":
        return counts / total
    if scheme == "balanced":
        return total / (len(counts) * counts)
    if scheme == "none":
        return np.ones_like(counts)
    raise ValueError(f"unknown class weighting {scheme!r}")


class StratifiedPixelSampler:
    """Draws a minibatch of labelled pixels per step: the same number of square blocks from every class.

    A draw of class c picks an anchor uniformly among the n_c pixels of class c (with replacement) and takes the
    pixels of class c in the ``block`` x ``block`` square whose top-left corner it is. A pixel q of class c lies in
    the squares of m(q) anchors (the class-c pixels of the square whose bottom-right corner q is), so it carries the
    importance weight w_c · n_c / (m(q) · a_c), with a_c the anchors drawn for class c: the weighted loss summed
    over a minibatch and divided by ``normaliser`` = Σ_c w_c n_c is an unbiased estimate of the dense weighted
    mean loss of Eq. 5 over all labelled pixels (minibatch SGD over pixels instead of full-batch). With
    ``block`` 1 every draw is one pixel of weight w_c · n_c / a_c.

    Squares share most of their 3x3 neighbourhoods, which the network's sparse forward pass evaluates once: at
    2 x 2, 256 pixels need about 60 % of the neighbourhood positions of 256 independent ones.

    Args:
        target: (h, w) long class indices 0..K-1, NO_LABEL elsewhere; a class without pixels (its strokes vanished
            at this resolution) is not drawn. Raises ValueError when no class has any.
        weights: (K,) class weights w_c.
        per_step: pixels per step (split evenly over the classes; block² per draw).
        generator: torch generator for reproducible draws.
        block: side of the squares in pixels.
        group_class: (K,) long, the class each index of ``target`` trains when indices are weighting groups rather
            than classes (default: index c trains class c).
    """

    def __init__(self, target: torch.Tensor, weights: torch.Tensor, per_step: int,
                 generator: torch.Generator | None = None, block: int = 1, group_class: torch.Tensor | None = None):
        height, width = target.shape
        flat = target.reshape(-1)
        device = flat.device
        self.generator = generator
        self.anchors = max(1, per_step // (len(weights) * block * block))
        steps = torch.arange(block, device=device)
        self.squares, self.square_weights, labels, normaliser = [], [], [], 0.0
        for c in range(len(weights)):
            members = torch.nonzero(flat == c).squeeze(1)
            if len(members) == 0:  # a class with no labelled pixel at this resolution: nothing of it to draw
                continue
            ys = (members // width).view(-1, 1, 1) + steps.view(1, -1, 1)
            xs = (members % width).view(-1, 1, 1) + steps.view(1, 1, -1)
            inside = (ys < height) & (xs < width)
            square = torch.where(inside, ys * width + xs, members.view(-1, 1, 1)).reshape(len(members), block * block)
            valid = inside.reshape(len(members), -1) & (flat[square] == c)
            covering = torch.zeros(height * width, device=device).index_add_(
                0, square[valid], torch.ones(int(valid.sum()), device=device))
            weight = float(weights[c]) * len(members) / self.anchors / covering[square].clamp_(min=1)
            self.squares.append(square)  # (n_c, block²) flat positions; outside pixels repeat the anchor, weight 0
            self.square_weights.append(torch.where(valid, weight, torch.zeros((), device=device)))
            label = c if group_class is None else int(group_class[c])
            labels.append(torch.full((self.anchors * block * block,), label, dtype=torch.long, device=device))
            normaliser += float(weights[c]) * len(members)
        if not labels:
            raise ValueError("no labelled pixel to train on")
        self.labels = torch.cat(labels)
        self.normaliser = normaliser

    def draw(self) -> tuple[torch.Tensor, torch.Tensor]:
        """This step's minibatch, class by class: flat positions and importance weights, (K * anchors * block²,)
        each (in the order of ``labels``)."""
        positions, weights = [], []
        for square, square_weight in zip(self.squares, self.square_weights):
            choice = torch.randint(0, len(square), (self.anchors,), generator=self.generator, device=square.device)
            positions.append(square[choice].reshape(-1))
            weights.append(square_weight[choice].reshape(-1))
        return torch.cat(positions), torch.cat(weights)


def fit(
    net: torch.nn.Module,
    features: torch.Tensor,
    target: torch.Tensor,
    weights: torch.Tensor,
    *,
    steps: int,
    lr: float,
    momentum: float,
    pixels_per_step: int = 0,
    pixel_block: int = 1,
    generator: torch.Generator | None = None,
    on_step: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    group_class: torch.Tensor | None = None,
) -> list[float]:
    """Run ``steps`` SGD steps of weighted cross-entropy (Eq. 5) on the labelled positions.

    Args:
        net: maps features (1, S, h, w) to logits (1, K, h, w); with ``pixels_per_step`` also
            ``pixel_rows(features)`` and ``forward_at(features, positions, rows) -> (M, K)``.
        features: frozen stem features (1, S, h, w).
        target: (h, w) long class indices 0..K-1, ``NO_LABEL`` (255) where unlabelled; every class present.
        weights: (K,) float class weights.
        pixels_per_step: 0 for the paper-literal full-map loss every step; N > 0 for a stratified minibatch of
            N labelled pixels per step (see :class:`StratifiedPixelSampler`), evaluated sparsely.
        pixel_block: side of the square blocks of labelled pixels a minibatch draws (1: independent pixels).
        generator: draws the minibatches.
        group_class: (G,) long: ``target`` holds weighting-group indices 0..G-1 with one weight each in ``weights``,
            and group g trains class ``group_class[g]`` (several groups may train one class). Default: groups are
            the classes.
        on_step: called with the 1-based step number after each step.
        should_stop: polled before each step; True raises :class:`RunCancelled`.

    Returns:
        the loss of every step.
    """
    # fused: one kernel for all parameters, the same arithmetic (bit-identical updates), 36 us a step against 90
    optimiser = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=lr, momentum=momentum,
                                fused=features.device.type in ("cpu", "cuda"))
    net.train()
    sparse = pixels_per_step > 0 and getattr(net, "supports_sparse", False)
    sampler = (StratifiedPixelSampler(target, weights, pixels_per_step, generator, pixel_block, group_class)
               if sparse else None)
    if group_class is not None and not sparse:
        labelled = target != NO_LABEL
        dense_target = torch.where(labelled, group_class[target.clamp(max=len(group_class) - 1)], NO_LABEL)
        dense_weights = torch.where(labelled, weights[target.clamp(max=len(weights) - 1)], 0.0).unsqueeze(0)
    rows = net.pixel_rows(features) if sparse else None
    losses = []
    single = sparse and features.device.type == "cpu" and torch.get_num_threads() > SPARSE_TRAINING_THREADS
    with intra_op_threads(SPARSE_TRAINING_THREADS) if single else nullcontext():
        for step in range(1, steps + 1):
            if should_stop is not None and should_stop():
                raise RunCancelled(f"stopped before training step {step} of {steps}")
            optimiser.zero_grad(set_to_none=True)
            if sampler is not None:
                positions, sample_weights = sampler.draw()
                per_pixel = F.cross_entropy(net.forward_at(features, positions, rows), sampler.labels, reduction="none")
                loss = (per_pixel * sample_weights).sum() / sampler.normaliser
            else:
                logits = net(features)
                if group_class is None:
                    loss = F.cross_entropy(logits, target.unsqueeze(0), weight=weights, ignore_index=NO_LABEL)
                else:
                    per_pixel = F.cross_entropy(logits, dense_target.unsqueeze(0), ignore_index=NO_LABEL,
                                                reduction="none")
                    loss = (per_pixel * dense_weights).sum() / dense_weights.sum()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
            if on_step is not None:
                on_step(step)
    return losses
