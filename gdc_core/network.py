"""The lightweight single-image network of Fig. 3, over precomputed (frozen) stem features.

features (1, S, h, w) at half the working resolution -> 1x1 fuse (width) -> GDC module [normal 3x3 branch |
context branch] concatenated (2·width) -> pixel classifier 3x3 conv + ReLU + 1x1 conv -> logits (B, K, h, w).
The context branch is the GDC by default and can be swapped for the paper's comparison convs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import DeformConv2d

from .config import parse_context_conv
from .gdc import GaussianDynamicConv2d, gather_projected, project_taps


class DeformableBranch(nn.Module):
    """Deformable conv (Eq. 7): a 3x3 side conv predicts the 18 tap offsets (zero-initialised, so it starts as
    a normal conv) and torchvision's ``deform_conv2d`` samples bilinearly at the displaced taps."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.offset = nn.Conv2d(in_channels, 18, 3, padding=1)
        nn.init.zeros_(self.offset.weight)
        nn.init.zeros_(self.offset.bias)
        self.conv = DeformConv2d(in_channels, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x, self.offset(x))


def make_context_branch(spec: str, channels: int, sigma: float) -> nn.Module:
    """The GDC module's second branch for a context-conv spec (see :func:`config.parse_context_conv`)."""
    kind, rate = parse_context_conv(spec)
    if kind in ("gdc", "uniform"):
        return GaussianDynamicConv2d(channels, channels, sigma=sigma, law="gaussian" if kind == "gdc" else "uniform")
    if kind == "deformable":
        return DeformableBranch(channels, channels)
    return nn.Conv2d(channels, channels, 3, padding=rate, dilation=rate)  # normal (rate 1) or dilated


class LightweightSegNet(nn.Module):
    """Fig. 3 without the stem: (B, in_channels, h, w) stem features -> (B, num_classes, h, w) logits.

    Args:
        in_channels: stem channels (40 for MobileNetV2's 16 + 24).
        num_classes: K, the classes present in the scribbles.
        width: channels after the fuse and in each module branch.
        context_conv: ``gdc``, ``normal``, ``dilated:<rate>``, ``deformable`` or ``uniform``.
        sigma: Σ of the GDC offsets (fraction of the map size).
    """

    def __init__(self, in_channels: int, num_classes: int, width: int = 32, context_conv: str = "gdc",
                 sigma: float = 0.2):
        super().__init__()
        self.fuse = nn.Conv2d(in_channels, width, 1)
        self.local = nn.Conv2d(width, width, 3, padding=1)
        self.context = make_context_branch(context_conv, width, sigma)
        self.classifier_hidden = nn.Conv2d(2 * width, width, 3, padding=1)
        self.classifier_out = nn.Conv2d(width, num_classes, 1)

    @property
    def is_stochastic(self) -> bool:
        """True when forward passes differ (random offsets), so Monte-Carlo averaging has something to average."""
        return isinstance(self.context, GaussianDynamicConv2d)

    def set_generator(self, generator: torch.Generator | None) -> None:
        """Use ``generator`` for every random offset draw (reproducible runs)."""
        if isinstance(self.context, GaussianDynamicConv2d):
            self.context.generator = generator

    def trunk(self, features: torch.Tensor) -> torch.Tensor:
        """The fused map fed to both module branches: (B, width, h, w)."""
        return F.relu(self.fuse(features))

    def head(self, local: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Pixel classifier over the concatenated branch outputs: logits (B, K, h, w)."""
        hidden = F.relu(self.classifier_hidden(torch.cat([local, context], dim=1)))
        return self.classifier_out(hidden)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        fused = self.trunk(features)
        return self.head(F.relu(self.local(fused)), F.relu(self.context(fused)))

    @torch.no_grad()
    def sample_probabilities(self, features: torch.Tensor, samples: int, chunk: int = 10):
        """Yield softmax maps of ``samples`` stochastic passes over one image, ``chunk`` at a time: (n, K, h, w).

        Everything that does not depend on the offsets (fuse, normal branch, the GDC's per-tap projections) is
        computed once; only the gather and the classifier run per sample.
        """
        fused = self.trunk(features)
        local = F.relu(self.local(fused))
        if not self.is_stochastic:
            probs = F.softmax(self.head(local, F.relu(self.context(fused))), dim=1)
            for start in range(0, samples, chunk):
                yield probs.expand(min(chunk, samples - start), -1, -1, -1)
            return
        gdc: GaussianDynamicConv2d = self.context
        projected = project_taps(fused, gdc.weight)
        height, width = fused.shape[-2:]
        for start in range(0, samples, chunk):
            n = min(chunk, samples - start)
            offsets = gdc.sample_offsets(n, height, width)
            context = F.relu(gather_projected(projected, offsets, gdc.bias))
            yield F.softmax(self.head(local.expand(n, -1, -1, -1), context), dim=1)
