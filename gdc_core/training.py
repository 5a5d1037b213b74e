"""Fitting the lightweight network to the expanded scribble labels (paper Sec. V-A, Eq. 5-6).

Knows nothing of threads: progress goes out through ``on_progress`` and a stop is asked through
``should_stop``, checked before every step.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .scribbles import NO_LABEL


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


def fit(
    net: torch.nn.Module,
    features: torch.Tensor,
    target: torch.Tensor,
    weights: torch.Tensor,
    *,
    steps: int,
    lr: float,
    momentum: float,
    on_step: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[float]:
    """Run ``steps`` SGD steps of weighted cross-entropy (Eq. 5) on the labelled positions.

    Args:
        net: maps features (1, S, h, w) to logits (1, K, h, w).
        features: frozen stem features (1, S, h, w).
        target: (h, w) long class indices 0..K-1, ``NO_LABEL`` (255) where unlabelled.
        weights: (K,) float class weights.
        on_step: called with the 1-based step number after each step.
        should_stop: polled before each step; True raises :class:`RunCancelled`.

    Returns:
        the loss of every step.
    """
    optimiser = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=lr, momentum=momentum)
    net.train()
    losses = []
    for step in range(1, steps + 1):
        if should_stop is not None and should_stop():
            raise RunCancelled(f"stopped before training step {step} of {steps}")
        optimiser.zero_grad(set_to_none=True)
        logits = net(features)
        loss = F.cross_entropy(logits, target.unsqueeze(0), weight=weights, ignore_index=NO_LABEL)
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step)
    return losses
