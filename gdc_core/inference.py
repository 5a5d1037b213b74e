"""Monte-Carlo prediction (paper Sec. V-A): average the softmax maps of many stochastic passes.

The spread of those passes is a free uncertainty map: the fraction of passes whose own argmax disagrees with
the averaged decision (0 = all agree, up to 1 - 1/K when evenly split).
"""
from __future__ import annotations

from typing import Callable

import torch

from .training import RunCancelled


@torch.no_grad()
def monte_carlo(
    net: torch.nn.Module,
    features: torch.Tensor,
    samples: int,
    *,
    chunk: int = 8,
    literal: bool = False,
    on_samples: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Average ``samples`` stochastic passes of ``net``.

    ``literal``: one plain full forward pass per sample (the paper-literal reference); otherwise
    ``net.sample_probabilities``, which shares the offset-independent work between samples (same law).

    Returns:
        (mean probabilities (K, h, w), disagreement (h, w) in [0, 1]), both float32.
    """
    net.eval()
    total = None
    votes = None
    done = 0
    passes = _plain_passes(net, features, samples) if literal else net.sample_probabilities(features, samples, chunk=chunk)
    for probs in passes:
        if should_stop is not None and should_stop():
            raise RunCancelled(f"stopped after {done} of {samples} samples")
        total = probs.sum(0) if total is None else total + probs.sum(0)
        winners = _vote_counts(probs)
        votes = winners if votes is None else votes + winners
        done += probs.shape[0]
        if on_samples is not None:
            on_samples(done)
    mean = total / done
    decision = mean.argmax(0)
    agreeing = votes.gather(0, decision.unsqueeze(0))[0].float()
    return mean.float(), (1.0 - agreeing / done).float()


def _plain_passes(net: torch.nn.Module, features: torch.Tensor, samples: int):
    for _ in range(samples):
        yield torch.softmax(net(features), dim=1)


def _vote_counts(probs: torch.Tensor) -> torch.Tensor:
    """How many of the (n, K, h, w) passes put each class on top, per pixel: (K, h, w) int.

    An elementwise running maximum over the K class planes, much faster than ``argmax`` over the strided class
    axis. (Exact ties between float probabilities count for both classes; they do not occur in practice.)
    """
    top = probs[:, 0]
    for k in range(1, probs.shape[1]):
        top = torch.maximum(top, probs[:, k])
    return torch.stack([(probs[:, k] == top).sum(0) for k in range(probs.shape[1])])


def monte_carlo_reference(net: torch.nn.Module, features: torch.Tensor, samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One plain forward pass per sample, then mean and disagreement (tests only)."""
    net.eval()
    with torch.no_grad():
        passes = torch.stack([torch.softmax(net(features)[0], dim=0) for _ in range(samples)])
    mean = passes.mean(0)
    decision = mean.argmax(0)
    disagree = (passes.argmax(1) != decision).float().mean(0)
    return mean, disagree
