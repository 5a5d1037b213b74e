"""The lightweight single-image network of Fig. 3, over precomputed (frozen) stem features.

features (1, S, h, w) at half the working resolution -> 1x1 fuse (width) -> GDC module [normal 3x3 branch |
context branch] concatenated (2·width) -> pixel classifier 3x3 conv + ReLU + 1x1 conv -> logits (B, K, h, w).
The context branch is the GDC by default and can be swapped for the paper's comparison convs.
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import DeformConv2d

from .config import parse_context_conv
from .gdc import TAP_DIRECTIONS, GaussianDynamicConv2d, gather_projected, project_taps


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


@functools.lru_cache(maxsize=2)
def _neighbour_table(height: int, width: int, dilation: int, device: torch.device) -> torch.Tensor:
    """:func:`zero_padded_taps` of every position of an (height, width) map: (height * width, 9), made once per map."""
    positions = torch.arange(height * width, device=device)
    step = TAP_DIRECTIONS.to(device) * dilation
    ys = (positions // width).unsqueeze(1) + step[:, 0]
    xs = (positions % width).unsqueeze(1) + step[:, 1]
    inside = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width)
    return torch.where(inside, ys * width + xs, torch.full_like(ys, height * width))


def zero_padded_taps(positions: torch.Tensor, height: int, width: int, dilation: int = 1) -> torch.Tensor:
    """Flat indices of the 3x3 taps (row-major) around flat ``positions`` (count,): (count, 9).

    Taps outside the map get the sentinel ``height * width`` (a zero row appended to the features), which is how a
    zero-padded convolution sees them. A lookup in a table made once per map size (one op instead of a dozen per
    training step).
    """
    return _neighbour_table(height, width, dilation, positions.device).index_select(0, positions)


def unique_indices(index: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.unique(index, return_inverse=True)`` for integer values in [0, size): (sorted distinct values (U,),
    inverse of index's shape). Marks a size-long table instead of sorting: 0.3 ms against 1.2 ms for 23 000 taps
    into a 0.2 MP map on one CPU thread."""
    seen = torch.zeros(size, dtype=torch.bool, device=index.device)
    seen[index.reshape(-1)] = True
    return seen.nonzero().squeeze(1), (seen.cumsum(0) - 1)[index]


class _GatherRows(torch.autograd.Function):
    """Rows of a table for each of several index tensors; the backward pass adds every output's gradient into one
    table gradient with ``index_add_``: serial and so deterministic on a CPU, about 3x faster than
    ``F.embedding``'s sorting backward, and without the zero-filled full-size gradient that slicing one gather
    into parts would cost (two 3 MB fills a training step)."""

    @staticmethod
    def forward(ctx, table: torch.Tensor, *indices: torch.Tensor):
        ctx.save_for_backward(*indices)
        ctx.rows = table.shape[0]
        return tuple(table.index_select(0, index.reshape(-1)).view(*index.shape, table.shape[1]) for index in indices)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        table_grad = grads[0].new_zeros(ctx.rows, grads[0].shape[-1])
        for index, grad in zip(ctx.saved_tensors, grads):
            table_grad.index_add_(0, index.reshape(-1), grad.reshape(-1, grad.shape[-1]))
        return (table_grad, *(None for _ in grads))


def gather_rows(table: torch.Tensor, *indices: torch.Tensor):
    """``table[index]`` for a (N, C) table and integer indices of any shape: (*index.shape, C) per index (a tuple when
    several are given), differentiable in table."""
    rows = _GatherRows.apply(table, *indices)
    return rows if len(indices) > 1 else rows[0]


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

    @staticmethod
    def pixel_rows(features: torch.Tensor) -> torch.Tensor:
        """(1, S, h, w) features as pixel-major rows for :meth:`forward_at`: (h*w + 1, S), the last row zeros (it
        stands for zero padding)."""
        _, channels, height, width = features.shape
        return F.pad(features[0].reshape(channels, height * width).t(), (0, 0, 0, 1))

    def forward_at(self, features: torch.Tensor, positions: torch.Tensor,
                   rows: torch.Tensor | None = None) -> torch.Tensor:
        """Logits at chosen positions only: (M, K), equal to ``forward(features)[0, :, positions]`` for the same
        offset draws, at a fraction of the cost when M is much smaller than h·w.

        Args:
            features: (1, S, h, w) stem features.
            positions: (M,) flat indices y * w + x.
            rows: ``pixel_rows(features)``, when the caller keeps them across calls (training does).

        The classifier's 3x3 conv needs both branches at the 3x3 neighbourhood of each position; those
        neighbourhoods are deduplicated and the branches evaluated there alone (the GDC drawing fresh offsets
        for each of them). The 1x1 fuse runs only at the map rows those branches' taps touch, each once: at 512
        positions about half the map, since GDC taps land anywhere. Rows are fetched with :func:`gather_rows`,
        whose backward pass is deterministic on a CPU (advanced indexing's is not: two runs with the same seed
        gave different weights with 2 threads).
        """
        if not self.supports_sparse:
            raise NotImplementedError("the deformable branch is evaluated densely only")
        _, _, height, width = features.shape
        pixels = height * width
        rows = self.pixel_rows(features) if rows is None else rows
        needed, inverse = unique_indices(zero_padded_taps(positions, height, width), pixels + 1)
        real = needed < pixels
        needed = needed.clamp(max=pixels - 1)
        # both branches' taps, then the map rows they touch: the fuse runs once per touched row
        taps = torch.cat([zero_padded_taps(needed, height, width), self._context_sources(needed, height, width)], 1)
        touched, where = unique_indices(taps, pixels + 1)
        fused = torch.addmm(self.fuse.bias, rows.index_select(0, touched), self.fuse.weight[:, :, 0, 0].t()).relu_()
        if touched[-1] == pixels:  # the padding row is zero, not the fuse of zeros
            fused = fused * (touched < pixels).unsqueeze(1)
        local_taps, context_taps = gather_rows(fused, where[:, :9], where[:, 9:])
        local = self._taps_at(local_taps, self.local)
        context = self._taps_at(context_taps, self.context)
        both = torch.cat([local, context], dim=1).relu_() * real.unsqueeze(1)
        hidden = self._taps_at(gather_rows(both, inverse), self.classifier_hidden).relu_()
        return torch.addmm(self.classifier_out.bias, hidden, self.classifier_out.weight[:, :, 0, 0].t())

    @staticmethod
    def _taps_at(gathered: torch.Tensor, conv: nn.Module) -> torch.Tensor:
        """Apply a 3x3 conv's kernel to taps already gathered as (N, 9, C): (N, O)."""
        flat = gathered.reshape(gathered.shape[0], -1)
        if conv.bias is None:
            return flat @ tap_matrix(conv.weight)
        return torch.addmm(conv.bias, flat, tap_matrix(conv.weight))

    def _context_sources(self, positions: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Flat indices of the context branch's 9 taps around ``positions``: (count, 9); the sentinel height * width
        (zero padding) for a dilated conv's taps outside the map, clamped displaced taps for the GDC."""
        if isinstance(self.context, GaussianDynamicConv2d):
            return self.context.sources_at(positions, height, width)
        return zero_padded_taps(positions, height, width, self.context.dilation[0])

    @torch.no_grad()
    def sampler(self, features: torch.Tensor) -> "StochasticPasses":
        """Monte-Carlo passes over ``features`` (1, S, h, w) that share every offset-independent piece of work."""
        return StochasticPasses(self, features)


class StochasticPasses:
    """Softmax maps of stochastic passes of a :class:`LightweightSegNet` over one image, with shared work.

    Everything that does not depend on the offsets is computed once: the fuse, the normal branch, the GDC's
    per-tap projections, and the normal branch's share of the classifier's 3x3 conv (that conv is linear in its
    concatenated input, so it splits into a local part and a context part). Per pass only the gather, the context
    part of the classifier and the 1x1 output run: over the whole map (:meth:`dense`) or at chosen positions
    (:meth:`at`), each pass drawing fresh offsets everywhere it evaluates the GDC.
    """

    @torch.no_grad()
    def __init__(self, net: LightweightSegNet, features: torch.Tensor):
        net.eval()
        self.net = net
        _, _, self.height, self.width = features.shape
        fused = net.trunk(features)
        local = F.relu(net.local(fused))
        channels = local.shape[1]
        hidden_weight = net.classifier_hidden.weight
        self.context_weight = hidden_weight[:, channels:]
        self.local_part = F.conv2d(local, hidden_weight[:, :channels], net.classifier_hidden.bias, padding=1)
        if net.is_stochastic:
            self.projected = project_taps(fused, net.context.weight)  # (1, h*w, 9, width)
            self.fixed_context = None
        else:
            self.fixed_context = F.relu(net.context(fused))

    def _probabilities(self, context_hidden: torch.Tensor) -> torch.Tensor:
        """Softmax over classes of the classifier, given the context's share of its hidden layer (N, width, h, w)."""
        hidden = context_hidden.add_(self.local_part).relu_()
        return F.softmax(self.net.classifier_out(hidden), dim=1)

    @torch.no_grad()
    def dense(self, count: int) -> torch.Tensor:
        """``count`` passes over the whole map: (count, K, h, w) probabilities."""
        if self.fixed_context is not None:
            context = self.fixed_context
        else:
            gdc: GaussianDynamicConv2d = self.net.context
            sources = gdc.sample_sources(count, self.height, self.width)
            context = gather_projected(self.projected, sources, gdc.bias, self.height, self.width).relu_()
        probs = self._probabilities(F.conv2d(context, self.context_weight, None, padding=1))
        return probs.expand(count, -1, -1, -1)

    @torch.no_grad()
    def at(self, positions: torch.Tensor, count: int) -> torch.Tensor:
        """``count`` passes evaluated at flat ``positions`` (M,) only: (count, K, M) probabilities.

        The classifier's 3x3 conv needs the context branch on the 3x3 neighbourhood of each position; those
        neighbourhoods are deduplicated and the GDC evaluated there alone (taps outside the map are zero padding,
        as in the dense conv).
        """
        if self.fixed_context is not None:
            probs = self.dense(1)[0]
            return probs.reshape(probs.shape[0], -1)[:, positions].expand(count, -1, -1)
        height, width = self.height, self.width
        pixels = height * width
        gdc: GaussianDynamicConv2d = self.net.context
        needed, inverse = unique_indices(zero_padded_taps(positions, height, width), pixels + 1)
        real = needed < pixels
        needed = needed.clamp(max=pixels - 1)
        repeated = needed.repeat(count)
        sources = gdc.sources_at(repeated, height, width)
        rows = sources * 9 + torch.arange(9, device=positions.device)
        context = F.embedding_bag(rows, self.projected.reshape(pixels * 9, -1), mode="sum").add_(gdc.bias).relu_()
        context = context.view(count, len(needed), -1)
        if not real.all():
            context[:, ~real] = 0
        shift = (torch.arange(count, device=positions.device) * len(needed)).view(count, 1, 1)
        # index_select with a flat index: 6x faster on a CPU than F.embedding with the (count, M, 9) one
        gathered = context.reshape(count * len(needed), -1).index_select(0, (inverse.unsqueeze(0) + shift).view(-1))
        local = self.local_part[0].reshape(self.local_part.shape[1], pixels)[:, positions].t()  # (M, width)
        hidden = (gathered.reshape(count, len(positions), -1) @ tap_matrix(self.context_weight)).add_(local).relu_()
        out = self.net.classifier_out
        logits = torch.addmm(out.bias, hidden.view(count * len(positions), -1), out.weight[:, :, 0, 0].t())
        return F.softmax(logits.view(count, len(positions), -1), dim=2).transpose(1, 2)
