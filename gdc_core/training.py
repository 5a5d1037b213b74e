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
    """Draws a minibatch of labelled pixels per step: the same number from every class, with replacement.

    Each draw carries the importance weight w_c · n_c / m_c (class weight, class pixel count, draws of that
    class), so the weighted mean cross-entropy over a minibatch is an unbiased estimate of the dense weighted
    loss of Eq. 5 over all labelled pixels: minibatch SGD over pixels instead of full-batch.

    Args:
        target: (h, w) long class indices 0..K-1, NO_LABEL elsewhere.
        weights: (K,) class weights w_c.
        per_step: total draws per step (split evenly over the classes).
        generator: torch generator for reproducible draws.
    """

    def __init__(self, target: torch.Tensor, weights: torch.Tensor, per_step: int,
                 generator: torch.Generator | None = None):
        flat = target.reshape(-1)
        self.generator = generator
        self.by_class = [torch.nonzero(flat == c).squeeze(1) for c in range(len(weights))]
        quota = max(1, per_step // len(weights))
        self.quota = quota
        self.labels = torch.cat([torch.full((quota,), c, dtype=torch.long, device=flat.device)
                                 for c in range(len(weights))])
        self.sample_weights = torch.cat([
            torch.full((quota,), float(weights[c]) * len(members) / quota, device=flat.device)
            for c, members in enumerate(self.by_class)
        ])

    def draw(self) -> torch.Tensor:
        """Flat positions of this step's minibatch, class by class: (K * quota,)."""
        picks = []
        for members in self.by_class:
            choice = torch.randint(0, len(members), (self.quota,), generator=self.generator, device=members.device)
            picks.append(members[choice])
        return torch.cat(picks)


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
    generator: torch.Generator | None = None,
    on_step: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
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
        generator: draws the minibatches.
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
    sampler = StratifiedPixelSampler(target, weights, pixels_per_step, generator) if sparse else None
    rows = net.pixel_rows(features) if sparse else None
    losses = []
    single = sparse and features.device.type == "cpu" and torch.get_num_threads() > SPARSE_TRAINING_THREADS
    with intra_op_threads(SPARSE_TRAINING_THREADS) if single else nullcontext():
        for step in range(1, steps + 1):
            if should_stop is not None and should_stop():
                raise RunCancelled(f"stopped before training step {step} of {steps}")
            optimiser.zero_grad(set_to_none=True)
            if sampler is not None:
                logits = net.forward_at(features, sampler.draw(), rows)
                per_pixel = F.cross_entropy(logits, sampler.labels, reduction="none")
                loss = (per_pixel * sampler.sample_weights).sum() / sampler.sample_weights.sum()
            else:
                logits = net(features)
                loss = F.cross_entropy(logits, target.unsqueeze(0), weight=weights, ignore_index=NO_LABEL)
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
            if on_step is not None:
                on_step(step)
    return losses
