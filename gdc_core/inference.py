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
    chunk: int = 10,
    on_samples: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Average ``samples`` passes of ``net.sample_probabilities``.

    Returns:
        (mean probabilities (K, h, w), disagreement (h, w) in [0, 1]), both float32.
    """
    net.eval()
    total = None
    votes = None
    done = 0
    for probs in net.sample_probabilities(features, samples, chunk=chunk):
        if should_stop is not None and should_stop():
            raise RunCancelled(f"stopped after {done} of {samples} samples")
        total = probs.sum(0) if total is None else total + probs.sum(0)
        winners = torch.nn.functional.one_hot(probs.argmax(1), probs.shape[1]).sum(0)
        votes = winners if votes is None else votes + winners
        done += probs.shape[0]
        if on_samples is not None:
            on_samples(done)
    mean = total / done
    decision = mean.argmax(0)
    agreeing = votes.gather(2, decision.unsqueeze(-1)).squeeze(-1).float()
    return mean.float(), (1.0 - agreeing / done).float()


def monte_carlo_reference(net: torch.nn.Module, features: torch.Tensor, samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One plain forward pass per sample, then mean and disagreement (tests only)."""
    net.eval()
    with torch.no_grad():
        passes = torch.stack([torch.softmax(net(features)[0], dim=0) for _ in range(samples)])
    mean = passes.mean(0)
    decision = mean.argmax(0)
    disagree = (passes.argmax(1) != decision).float().mean(0)
    return mean, disagree
