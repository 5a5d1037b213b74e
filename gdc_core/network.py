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
from .gdc import TAP_DIRECTIONS, GaussianDynamicConv2d, displaced_sources, gather_projected, project_taps


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


def zero_padded_taps(positions: torch.Tensor, height: int, width: int, dilation: int = 1) -> torch.Tensor:
    """Flat indices of the 3x3 taps (row-major) around flat ``positions`` (count,): (count, 9).

    Taps outside the map get the sentinel ``height * width`` (a zero row appended to the features), which is how a
    zero-padded convolution sees them.
    """
    step = TAP_DIRECTIONS.to(positions.device) * dilation
    ys = (positions // width).unsqueeze(1) + step[:, 0]
    xs = (positions % width).unsqueeze(1) + step[:, 1]
    inside = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width)
    return torch.where(inside, ys * width + xs, torch.full_like(ys, height * width))


def tap_matrix(weight: torch.Tensor) -> torch.Tensor:
    """A (O, C, 3, 3) kernel as a (9 * C, O) matrix whose row k * C + c matches taps gathered as (.., 9, C)."""
    return weight.permute(2, 3, 1, 0).reshape(-1, weight.shape[0])


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
    def supports_sparse(self) -> bool:
        """True when :meth:`forward_at` can evaluate the context branch at chosen positions only."""
        return not isinstance(self.context, DeformableBranch)

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

    def forward_at(self, features: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Logits at chosen positions only: (M, K), equal to ``forward(features)[0, :, positions]`` for the same
        offset draws, at a fraction of the cost when M is much smaller than h·w.

        Args:
            features: (1, S, h, w) stem features.
            positions: (M,) flat indices y * w + x.

        The classifier's 3x3 conv needs both branches at the 3x3 neighbourhood of each position; those
        neighbourhoods are deduplicated and the branches evaluated there alone (the GDC drawing fresh offsets
        for each of them). Only the 1x1 fuse runs over the whole map, since GDC taps may land anywhere.
        Rows are fetched with ``F.embedding``, whose backward pass is deterministic on a CPU (advanced indexing's
        is not: two runs with the same seed gave different weights with 2 threads).
        """
        if not self.supports_sparse:
            raise NotImplementedError("the deformable branch is evaluated densely only")
        _, _, height, width = features.shape
        pixels = height * width
        fused = F.relu(self.fuse(features))[0].reshape(self.fuse.out_channels, pixels).t()  # (h*w, width)
        fused_padded = F.pad(fused, (0, 0, 0, 1))  # sentinel row h*w = zero padding
        hidden_taps = zero_padded_taps(positions, height, width)
        needed, inverse = torch.unique(hidden_taps, return_inverse=True)
        real = needed < pixels
        needed = needed.clamp(max=pixels - 1)
        local = self._taps_at(F.embedding(zero_padded_taps(needed, height, width), fused_padded), self.local)
        context = self._context_at(fused, fused_padded, needed, height, width)
        both = torch.cat([F.relu(local), F.relu(context)], dim=1) * real.unsqueeze(1)
        hidden = F.relu(self._taps_at(F.embedding(inverse, both), self.classifier_hidden))
        return hidden @ self.classifier_out.weight[:, :, 0, 0].t() + self.classifier_out.bias

    @staticmethod
    def _taps_at(gathered: torch.Tensor, conv: nn.Module) -> torch.Tensor:
        """Apply a 3x3 conv's kernel to taps already gathered as (N, 9, C): (N, O)."""
        out = gathered.reshape(gathered.shape[0], -1) @ tap_matrix(conv.weight)
        return out + conv.bias if conv.bias is not None else out

    def _context_at(self, fused, fused_padded, positions, height, width) -> torch.Tensor:
        if isinstance(self.context, GaussianDynamicConv2d):
            offsets = self.context.offsets_at(positions, height, width)
            return self._taps_at(F.embedding(displaced_sources(positions, offsets, height, width), fused), self.context)
        dilation = self.context.dilation[0]
        return self._taps_at(F.embedding(zero_padded_taps(positions, height, width, dilation), fused_padded), self.context)

    @torch.no_grad()
    def sample_probabilities(self, features: torch.Tensor, samples: int, chunk: int = 10):
        """Yield softmax maps of ``samples`` stochastic passes over one image, ``chunk`` at a time: (n, K, h, w).

        Everything that does not depend on the offsets is computed once: the fuse, the normal branch, the GDC's
        per-tap projections, and the normal branch's share of the classifier's 3x3 conv (that conv is linear
        in its concatenated input, so it splits into a local part and a context part). Per sample only the
        gather, the context part of the classifier and the 1x1 output run.
        """
        fused = self.trunk(features)
        local = F.relu(self.local(fused))
        width = local.shape[1]
        hidden_weight = self.classifier_hidden.weight
        local_part = F.conv2d(local, hidden_weight[:, :width], self.classifier_hidden.bias, padding=1)

        def probabilities(context: torch.Tensor) -> torch.Tensor:
            hidden = F.relu(local_part + F.conv2d(F.relu(context), hidden_weight[:, width:], None, padding=1))
            return F.softmax(self.classifier_out(hidden), dim=1)

        if not self.is_stochastic:
            probs = probabilities(self.context(fused))
            for start in range(0, samples, chunk):
                yield probs.expand(min(chunk, samples - start), -1, -1, -1)
            return
        gdc: GaussianDynamicConv2d = self.context
        projected = project_taps(fused, gdc.weight)
        height, width_px = fused.shape[-2:]
        for start in range(0, samples, chunk):
            n = min(chunk, samples - start)
            yield probabilities(gather_projected(projected, gdc.sample_offsets(n, height, width_px), gdc.bias))
