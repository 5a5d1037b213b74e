"""Gaussian dynamic convolution (paper Sec. III), its variant (Eq. 4) and the GDPP module (Sec. IV-B).

A 3x3 GDC keeps the centre tap in place and moves each of the 8 other taps, independently at every output
position and at every forward pass, along its direction e_i by an offset drawn from a half-normal law
|N(0, Σ)| per axis, scaled by the feature map's own size (height for y, width for x: the paper's adaptive
offset s·Δ). Positions are truncated to whole pixels (as the authors do) and clamped to the map.

Tensor shapes: feature maps are (B, C, H, W); offsets are integer pixel displacements of shape
(B, 9, 2, H, W) with axis 2 = (dy, dx) and tap index k = 3 * (ey + 1) + (ex + 1), row-major like a conv kernel.
"""
from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

# Direction basis e_i of Eq. 1, row-major over the 3x3 kernel: (ey, ex) in {-1, 0, 1}^2; index 4 is the centre.
TAP_DIRECTIONS = torch.tensor([(ey, ex) for ey in (-1, 0, 1) for ex in (-1, 0, 1)], dtype=torch.long)
CENTRE_TAP = 4
OFFSET_LAWS = ("gaussian", "uniform")


# Taps that move along y (ey != 0) and along x (ex != 0): 6 each. The centre tap never moves and the four axial
# taps move along one axis only, so a draw needs 12 magnitudes per position, not 18.
Y_TAPS = (0, 1, 2, 6, 7, 8)
X_TAPS = (0, 2, 3, 5, 6, 8)
DRAWS = len(Y_TAPS) + len(X_TAPS)


def _draw_magnitudes(shape: tuple[int, ...], sigma: float, law: str, generator, device) -> torch.Tensor:
    """(*shape, DRAWS) float32 offset magnitudes in units of the map's size: the y ones of Y_TAPS, then the x ones of
    X_TAPS. One shared draw order, so every consumer of a generator sees the same offsets."""
    if law not in OFFSET_LAWS:
        raise ValueError(f"unknown offset law {law!r}; choose one of {OFFSET_LAWS}")
    shape = (*shape, DRAWS)
    if law == "gaussian":
        return torch.randn(shape, generator=generator, device=device).abs_().mul_(sigma)
    return torch.rand(shape, generator=generator, device=device)


@functools.lru_cache(maxsize=8)
def _draw_geometry(height: int, width: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Constants that turn magnitudes (..., DRAWS) into flat source indices on an (height, width) map, made once per
    map size: the map's size on each draw's axis (DRAWS,), each draw's direction sign (DRAWS,), the largest
    coordinate on its axis (DRAWS,), and for each of the 9 taps the column of its y among (the y of Y_TAPS, the
    position's own y) and of its x among (the x of X_TAPS, the position's own x): (9,) long each."""
    sizes = torch.tensor([height] * len(Y_TAPS) + [width] * len(X_TAPS), dtype=dtype, device=device)
    signs = torch.cat([TAP_DIRECTIONS[list(Y_TAPS), 0], TAP_DIRECTIONS[list(X_TAPS), 1]]).to(dtype=dtype, device=device)
    y_columns = [Y_TAPS.index(k) if k in Y_TAPS else len(Y_TAPS) for k in range(9)]
    x_columns = [X_TAPS.index(k) if k in X_TAPS else len(X_TAPS) for k in range(9)]
    return (sizes, signs, sizes - 1, torch.tensor(y_columns, device=device), torch.tensor(x_columns, device=device))


def _pixel_steps(magnitude: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Magnitudes (..., DRAWS) -> signed whole-pixel steps (dy of Y_TAPS (..., 6), dx of X_TAPS (..., 6)), in the
    magnitudes' float dtype."""
    sizes, signs, *_ = _draw_geometry(height, width, magnitude.dtype, magnitude.device)
    steps = magnitude.mul(sizes).floor_().mul_(signs)
    return steps[..., :len(Y_TAPS)], steps[..., len(Y_TAPS):]


def _as_offsets(dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Steps of Y_TAPS and X_TAPS (..., 6) each -> LongTensor offsets (..., 9, 2), zero where a tap does not move."""
    offsets = torch.zeros(*dy.shape[:-1], 9, 2, dtype=torch.long, device=dy.device)
    offsets[..., list(Y_TAPS), 0] = dy.long()
    offsets[..., list(X_TAPS), 1] = dx.long()
    return offsets


def sample_offsets(
    batch: int,
    height: int,
    width: int,
    sigma: float,
    *,
    law: str = "gaussian",
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Draw GDC offsets for every output position: LongTensor (batch, 9, 2, height, width), in pixels.

    ``gaussian``: |N(0, sigma)| per axis (Eq. 3), times the map's size on that axis, truncated, times the tap's
    direction. ``uniform``: U(0, 1) times the map's size (the paper's "random dynamic convolution" control,
    Table VII: any position in the tap's direction, no preference for near ones). The centre tap is always 0.
    Same draws as :func:`sample_sources` for the same generator state.
    """
    dy, dx = _pixel_steps(_draw_magnitudes((batch, height, width), sigma, law, generator, device), height, width)
    return _as_offsets(dy, dx).permute(0, 3, 4, 1, 2).contiguous()


def _flat_sources(magnitude: torch.Tensor, ys: torch.Tensor, xs: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Magnitudes (..., DRAWS) drawn at positions with coordinates ys, xs (broadcastable to (..., 1), integer or
    float) -> LongTensor (..., 9) flat source indices, clamped to the map. The 12 moving coordinates are clamped,
    then each tap takes its y and x from them or, on an axis it does not move along, the position's own; float
    arithmetic is exact here (float64 past 2**24 pixels)."""
    dtype = torch.float32 if height * width < 2**24 else torch.float64
    sizes, signs, limits, y_columns, x_columns = _draw_geometry(height, width, dtype, magnitude.device)
    own_y, own_x = (c.to(dtype).expand(*magnitude.shape[:-1], 1) for c in torch.broadcast_tensors(ys, xs))
    moving = magnitude.to(dtype).mul(sizes).floor_().mul_(signs)  # (..., DRAWS) signed steps
    source_y = torch.minimum(moving[..., :len(Y_TAPS)].add_(own_y).clamp_(min=0), limits[:len(Y_TAPS)])
    source_x = torch.minimum(moving[..., len(Y_TAPS):].add_(own_x).clamp_(min=0), limits[len(Y_TAPS):])
    tap_y = torch.cat([source_y, own_y], dim=-1).index_select(-1, y_columns)  # (..., 9)
    tap_x = torch.cat([source_x, own_x], dim=-1).index_select(-1, x_columns)
    return tap_y.mul_(width).add_(tap_x).long()


def sample_sources(batch: int, height: int, width: int, sigma: float, *, law: str = "gaussian",
                   generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Fresh offsets as flat source indices, clamped to the map: LongTensor (batch, height * width, 9).

    Equal to ``tap_indices(sample_offsets(...)).transpose(1, 2)`` for the same generator state, without
    materialising the (batch, 9, 2, h, w) offsets.
    """
    magnitude = _draw_magnitudes((batch, height, width), sigma, law, generator, device)
    ys = torch.arange(height, device=magnitude.device).view(height, 1, 1)
    xs = torch.arange(width, device=magnitude.device).view(1, width, 1)
    return _flat_sources(magnitude, ys, xs, height, width).view(batch, height * width, 9)


def sample_sources_at(positions: torch.Tensor, height: int, width: int, sigma: float, *, law: str = "gaussian",
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """Fresh offsets for flat ``positions`` (count,) of an (height, width) map as flat source indices, clamped:
    LongTensor (count, 9). Equal to ``displaced_sources(positions, sample_offsets_at(...))`` for the same
    generator state, in a third of the tensor operations (training draws them at every step)."""
    magnitude = _draw_magnitudes((positions.shape[0],), sigma, law, generator, positions.device)
    ys = torch.div(positions, width, rounding_mode="floor").unsqueeze(1)
    return _flat_sources(magnitude, ys, positions.unsqueeze(1) - ys * width, height, width)


def sample_offsets_at(count: int, height: int, width: int, sigma: float, *, law: str = "gaussian",
                      generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Offsets for ``count`` positions only: LongTensor (count, 9, 2), same law as :func:`sample_offsets`. The
    readable form of :func:`sample_sources_at` (with :func:`displaced_sources`), which the tests compare it to."""
    return _as_offsets(*_pixel_steps(_draw_magnitudes((count,), sigma, law, generator, device), height, width))


def displaced_sources(positions: torch.Tensor, offsets: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Flat source index of every tap of every position, clamped to the map: (count, 9).

    ``positions``: (count,) flat indices y * width + x; ``offsets``: (count, 9, 2) integer (dy, dx).
    """
    ys = (positions // width).unsqueeze(1) + offsets[..., 0]
    xs = (positions % width).unsqueeze(1) + offsets[..., 1]
    return ys.clamp_(0, height - 1) * width + xs.clamp_(0, width - 1)


def tap_indices(offsets: torch.Tensor) -> torch.Tensor:
    """Flat source index (y * W + x) of every tap after clamping to the map: LongTensor (B, 9, H * W)."""
    batch, _, _, height, width = offsets.shape
    ys = torch.arange(height, device=offsets.device).view(1, 1, height, 1)
    xs = torch.arange(width, device=offsets.device).view(1, 1, 1, width)
    src_y = (ys + offsets[:, :, 0]).clamp_(0, height - 1)
    src_x = (xs + offsets[:, :, 1]).clamp_(0, width - 1)
    return (src_y * width + src_x).view(batch, 9, height * width)


def gdc_conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, offsets: torch.Tensor) -> torch.Tensor:
    """Apply a 3x3 kernel at displaced taps: out[b, o, p] = bias[o] + sum_k weight[o, :, k] . x[b, :, src_k(p)].

    Args:
        x: (B, C, H, W) input.
        weight: (O, C, 3, 3) kernel, tap k = (ky, kx) row-major, as in ``nn.Conv2d``.
        bias: (O,) or None.
        offsets: (B, 9, 2, H, W) integer displacements (see :func:`sample_offsets`); B may be 1 for any x batch.

    Returns:
        (B, O, H, W). The paper's form: the 9 displaced feature vectors are gathered (9·C channels) and mixed by
        one matmul, which is the fastest single pass on a CPU (see benchmarks/gdc_forms.py).
    """
    batch, channels, height, width = x.shape
    index = tap_indices(offsets).expand(batch, -1, -1)  # (B, 9, H*W)
    flat = x.reshape(batch, channels, 1, height * width).expand(-1, -1, 9, -1)
    gathered = flat.gather(3, index.unsqueeze(1).expand(-1, channels, -1, -1))  # (B, C, 9, H*W)
    mixed = torch.matmul(weight.reshape(weight.shape[0], channels * 9), gathered.reshape(batch, channels * 9, -1))
    if bias is not None:
        mixed = mixed + bias.view(1, -1, 1)
    return mixed.view(batch, -1, height, width)


def project_taps(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per-tap 1x1 projections of x, pixel-major: (B, H * W, 9, O).

    Row (b, p, k) is weight[:, :, k] applied to x[b, :, p]. Independent of the offsets, so one projection serves
    every Monte-Carlo sample.
    """
    batch, channels, height, width = x.shape
    out_channels = weight.shape[0]
    taps = weight.permute(1, 2, 3, 0).reshape(channels, 9 * out_channels)  # column k * O + o
    pixels = x.reshape(batch, channels, height * width).transpose(1, 2)
    return torch.matmul(pixels, taps).view(batch, height * width, 9, out_channels)


def gather_projected(projected: torch.Tensor, sources: torch.Tensor, bias: torch.Tensor | None,
                     height: int, width: int) -> torch.Tensor:
    """Sum the 9 projected rows fetched from their taps' displaced positions: (N, O, height, width).

    ``projected`` is (B, P, 9, O) from :func:`project_taps` (P = height * width); ``sources`` is (B', P, 9) flat
    source indices from :func:`sample_sources`. Either batch may be 1 and is then shared (one projection with many
    offset samples, or one offset draw for a batch); N = max(B, B'). ``embedding_bag`` fetches and sums the 9 rows
    of each output pixel in one pass, never materialising the (N, P, 9, O) gathered rows (6x faster than
    index_select + sum on a CPU).
    """
    batch, pixels, _, out_channels = projected.shape
    samples = sources.shape[0]
    if batch != samples and 1 not in (batch, samples):
        raise ValueError(f"batch sizes differ: features {batch}, offsets {samples}")
    count = max(batch, samples)
    rows = sources * 9 + torch.arange(9, device=sources.device)
    if batch > 1:
        rows = rows + (torch.arange(batch, device=sources.device) * pixels * 9).view(batch, 1, 1)
    rows = rows.expand(count, -1, -1).reshape(count * pixels, 9)
    out = F.embedding_bag(rows, projected.reshape(batch * pixels * 9, out_channels), mode="sum")
    out = out.view(count, pixels, out_channels)
    if bias is not None:
        out.add_(bias)
    return out.transpose(1, 2).reshape(count, out_channels, height, width)


class GaussianDynamicConv2d(nn.Module):
    """3x3 Gaussian dynamic convolution: fresh random tap offsets at every forward pass (train and eval alike).

    Args:
        in_channels, out_channels: channel counts.
        sigma: Σ of the half-normal offsets, as a fraction of the map size (paper default 0.2).
        law: ``gaussian`` (the GDC) or ``uniform`` (Table VII's random-offset control).
        bias: learn an additive bias.

    ``generator`` (attribute, default None) makes the offset draws reproducible.
    """

    def __init__(self, in_channels: int, out_channels: int, sigma: float = 0.2, law: str = "gaussian", bias: bool = True):
        super().__init__()
        if law not in OFFSET_LAWS:
            raise ValueError(f"unknown offset law {law!r}; choose one of {OFFSET_LAWS}")
        if not sigma > 0:
            raise ValueError(f"sigma must be positive (got {sigma})")
        self.in_channels, self.out_channels, self.sigma, self.law = in_channels, out_channels, sigma, law
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.generator: torch.Generator | None = None

    def sample_offsets(self, batch: int, height: int, width: int) -> torch.Tensor:
        return sample_offsets(
            batch, height, width, self.sigma, law=self.law, generator=self.generator, device=self.weight.device
        )

    def sample_sources(self, batch: int, height: int, width: int) -> torch.Tensor:
        """Fresh offsets as flat source indices (batch, height * width, 9) (see :func:`sample_sources`)."""
        return sample_sources(batch, height, width, self.sigma, law=self.law, generator=self.generator,
                              device=self.weight.device)

    def sources_at(self, positions: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Fresh offsets for chosen flat positions of an (height, width) map only, as flat source indices: (count, 9)
        (see :func:`sample_sources_at`)."""
        return sample_sources_at(positions, height, width, self.sigma, law=self.law, generator=self.generator)

    def forward(self, x: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
        if offsets is None:
            offsets = self.sample_offsets(x.shape[0], x.shape[2], x.shape[3])
        return gdc_conv2d(x, self.weight, self.bias, offsets)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, sigma={self.sigma}, law={self.law}"


class VariantGaussianDynamicConv2d(nn.Module):
    """Variant GDC of Eq. 4: all taps share one offset, base dilation plus a half-normal part (in pixels).

    While training, every forward pass draws (Δy, Δx) ~ |N(0, Σ)| and convolves with dilation
    (base + trunc(Δy), base + trunc(Δx)); in eval mode the dilation is the base one. With Δ = 0 it is exactly a
    dilated convolution. ``groups`` allows the depthwise form used in GDPP.
    """

    def __init__(self, in_channels: int, out_channels: int, base_dilation: int = 9, sigma: float = 2.0,
                 groups: int = 1, bias: bool = False):
        super().__init__()
        if base_dilation < 1 or not sigma > 0:
            raise ValueError("base_dilation must be >= 1 and sigma > 0")
        self.base_dilation, self.sigma, self.groups = base_dilation, sigma, groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.generator: torch.Generator | None = None

    def current_dilation(self) -> tuple[int, int]:
        """The (dy, dx) dilation for this pass: random while training, the base one in eval mode."""
        if not self.training:
            return self.base_dilation, self.base_dilation
        delta = torch.randn(2, generator=self.generator).abs_().mul_(self.sigma).floor_().long()
        return self.base_dilation + int(delta[0]), self.base_dilation + int(delta[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dilation = self.current_dilation()
        return F.conv2d(x, self.weight, self.bias, padding=dilation, dilation=dilation, groups=self.groups)

    def extra_repr(self) -> str:
        return f"base_dilation={self.base_dilation}, sigma={self.sigma}, groups={self.groups}"


def _separable(in_channels: int, out_channels: int, depthwise: nn.Module) -> nn.Sequential:
    """Depthwise 3x3 (given) then pointwise 1x1 + BN + ReLU, as in MobileNet's separable convs."""
    return nn.Sequential(
        depthwise,
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class GaussianDynamicPyramidPooling(nn.Module):
    """GDPP (Fig. 5, Table V): separable branches at rate 1 and rate 18 fix the smallest and largest scales, a
    separable variant GDC (base 9, Σ 2) samples the middle scales; plus DeepLabv3's image-pooling branch and a
    1x1 projection of the concatenation. Input (B, in_channels, H, W) -> (B, out_channels, H, W).
    """

    def __init__(self, in_channels: int = 320, out_channels: int = 256, small_rate: int = 1, large_rate: int = 18,
                 base_dilation: int = 9, sigma: float = 2.0):
        super().__init__()

        def depthwise_dilated(rate: int) -> nn.Conv2d:
            return nn.Conv2d(in_channels, in_channels, 3, padding=rate, dilation=rate, groups=in_channels, bias=False)

        self.small = _separable(in_channels, out_channels, depthwise_dilated(small_rate))
        self.large = _separable(in_channels, out_channels, depthwise_dilated(large_rate))
        self.dynamic = _separable(
            in_channels, out_channels,
            VariantGaussianDynamicConv2d(in_channels, in_channels, base_dilation, sigma, groups=in_channels),
        )
        self.pooling = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
        )
        self.project = nn.Sequential(
            nn.Conv2d(4 * out_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.interpolate(self.pooling(x), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.project(torch.cat([self.small(x), self.large(x), self.dynamic(x), pooled], dim=1))
