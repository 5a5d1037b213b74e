"""The frozen feature stem of the lightweight network and how its weights are found.

The paper's stem is MobileNetV2's first layer (``features[0:2]``, 16 channels at 1/2 resolution) and first
linear bottleneck (``features[2:4]``, 24 channels at 1/4), ImageNet-trained and frozen. Weights are looked for
in this order: an explicit file (argument, else the ``GDC_SEG_BACKBONE_WEIGHTS`` environment variable); then
torchvision's ``MobileNet_V2_Weights.IMAGENET1K_V1`` through the torch hub cache (downloaded when online and
allowed). When neither is available, a fixed filter-bank stem stands in (see :class:`FilterBankStem`) and the
result carries a loud warning.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .weights import WEIGHTS_ENV

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
STEM_KEYS = ("features.0.", "features.1.", "features.2.", "features.3.")


class BackboneWeightsError(RuntimeError):
    """A weights file was named but cannot be used, or pretrained weights were required and are missing."""


class MobileNetV2Stem(nn.Module):
    """Frozen ``features[0:4]`` of torchvision's MobileNetV2.

    forward(image) takes (B, 3, H, W) RGB in [0, 1] and returns (B, 40, ceil(H/2), ceil(W/2)): the 16 channels of
    ``features[0:2]`` and the 24 of ``features[2:4]`` bilinearly resized to the same half resolution.
    """

    out_channels = 40

    def __init__(self, state_dict: dict[str, torch.Tensor] | None = None):
        super().__init__()
        from torchvision.models import mobilenet_v2

        features = mobilenet_v2(weights=None).features
        self.early = nn.Sequential(*features[0:2])
        self.late = nn.Sequential(*features[2:4])
        if state_dict is not None:
            self.load_stem_state(state_dict)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def load_stem_state(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Load ``features.0``-``features.3`` from a full MobileNetV2 state dict or a stem-only one."""
        own = {}
        for key, value in state_dict.items():
            if not key.startswith(STEM_KEYS):
                continue
            index = int(key.split(".")[1])
            rest = key.split(".", 2)[2]
            part = "early" if index < 2 else "late"
            own[f"{part}.{index if index < 2 else index - 2}.{rest}"] = value
        missing, _ = self.load_state_dict(own, strict=False)
        missing = [k for k in missing if not k.endswith(("mean", "std"))]
        if missing:
            raise BackboneWeightsError(f"weights lack {len(missing)} stem tensors (first: {missing[0]})")

    def train(self, mode: bool = True) -> "MobileNetV2Stem":
        return super().train(False)  # frozen: batch norm always uses its ImageNet statistics

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = (image - self.mean) / self.std
        early = self.early(x)
        late = F.interpolate(self.late(early), size=early.shape[-2:], mode="bilinear", align_corners=False)
        return torch.cat([early, late], dim=1)


class FilterBankStem(nn.Module):
    """Offline stand-in for the ImageNet stem: fixed, hand-designed multi-scale filters (ilastik-style).

    For each CIE-Lab channel: Gaussian smoothing at σ = 1, 2, 4, 8 px, gradient magnitude at σ = 1, 2, 4 and
    Laplacian of Gaussian at σ = 1, 2, 4 (30 channels), plus the smoothed colour at σ = 16 (3) and local colour
    contrast (σ=1 minus σ=8 smoothing, 3): 36 channels, each standardised to zero mean and unit variance over the
    image. Same interface as :class:`MobileNetV2Stem`: (B, 3, H, W) in [0, 1] -> (B, 36, ceil(H/2), ceil(W/2)).

    Why: a randomly initialised MobileNetV2 stem collapses colours into a few ReLU-clipped directions (measured
    41 mIoU on GrabCut photos); these filters keep colour, edge and blob information at several scales, which is
    what scribble-trained pixel classifiers (ilastik, random forests) rely on.
    """

    out_channels = 36

    def __init__(self) -> None:
        super().__init__()
        self.requires_grad_(False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        from skimage.color import rgb2lab
        from scipy import ndimage

        outputs = []
        for rgb in image.detach().cpu().permute(0, 2, 3, 1).numpy():
            lab = rgb2lab(np.clip(rgb, 0, 1)).astype(np.float32)
            channels = []
            for c in range(3):
                plane = lab[..., c]
                smooth = {s: ndimage.gaussian_filter(plane, s) for s in (1, 2, 4, 8, 16)}
                channels += [smooth[s] for s in (1, 2, 4, 8)]
                channels += [ndimage.gaussian_gradient_magnitude(plane, s) for s in (1, 2, 4)]
                channels += [ndimage.gaussian_laplace(plane, s) for s in (1, 2, 4)]
                channels += [smooth[16], smooth[1] - smooth[8]]
            stack = np.stack(channels)
            stack = (stack - stack.mean(axis=(1, 2), keepdims=True)) / (stack.std(axis=(1, 2), keepdims=True) + 1e-6)
            outputs.append(torch.from_numpy(stack[:, ::2, ::2].copy()))
        return torch.stack(outputs).to(image.device)


@dataclass(frozen=True)
class StemChoice:
    """The stem a run uses and where it came from; ``warning`` is set when it is not ImageNet-trained."""

    stem: nn.Module
    pretrained: bool
    source: str
    warning: str | None = None


def read_weights_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a MobileNetV2 state dict (full, or ``features.0``-``features.3`` only) from a ``.pt``/``.pth`` file."""
    path = Path(path)
    if not path.is_file():
        raise BackboneWeightsError(f"{path}: backbone weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise BackboneWeightsError(f"{path}: not a readable PyTorch weights file ({exc.__class__.__name__})") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not any(str(k).startswith("features.0.") for k in state):
        raise BackboneWeightsError(f"{path}: not a MobileNetV2 state dict (no features.0.* tensors)")
    return state


def torchvision_weights_url() -> str:
    """Where torchvision downloads its ImageNet MobileNetV2 weights from."""
    from torchvision.models import MobileNet_V2_Weights

    return MobileNet_V2_Weights.IMAGENET1K_V1.url


def torchvision_weights_file() -> Path:
    """Where torch hub keeps torchvision's ImageNet MobileNetV2 weights (it may not exist yet)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / torchvision_weights_url().rsplit("/", 1)[1]


def _torchvision_state(allow_download: bool) -> dict[str, torch.Tensor] | None:
    from torchvision.models import MobileNet_V2_Weights

    cached = torchvision_weights_file()
    if not cached.is_file() and not allow_download:
        return None
    announced = io.StringIO()  # torch prints "Downloading: ..." (on stdout) before it knows whether it can
    try:
        with contextlib.redirect_stdout(announced), contextlib.redirect_stderr(announced):
            state = MobileNet_V2_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    except Exception:  # offline, proxy, corrupt download: fall through to the untrained stem, without that line
        return None
    sys.stderr.write(announced.getvalue())  # a download that happened keeps its line, on stderr (stdout: results)
    return state


def choose_stem(weights_path: str | os.PathLike | None = None, *, allow_download: bool = True,
                require_pretrained: bool = False) -> StemChoice:
    """Find the stem's weights in the documented order and build the stem.

    Args:
        weights_path: explicit weights file; when None the ``GDC_SEG_BACKBONE_WEIGHTS`` variable is consulted.
        allow_download: let torchvision download the ImageNet weights into the hub cache when not cached.
        require_pretrained: raise :class:`BackboneWeightsError` instead of falling back to the filter bank.

    A named file that cannot be used is always an error (a typo must not silently degrade the masks).
    """
    explicit = weights_path or os.environ.get(WEIGHTS_ENV) or None
    if explicit:
        return StemChoice(MobileNetV2Stem(read_weights_file(explicit)), True, str(explicit))
    state = _torchvision_state(allow_download)
    if state is not None:
        return StemChoice(MobileNetV2Stem(state), True, str(torchvision_weights_file()))
    message = (
        "No ImageNet MobileNetV2 weights found (no --backbone-weights file, no "
        f"{WEIGHTS_ENV}, nothing in {torchvision_weights_file().parent} and no download): using the offline "
        "filter-bank stem instead. Masks will be less accurate."
    )
    if require_pretrained:
        raise BackboneWeightsError(message)
    return StemChoice(FilterBankStem(), False, "filter-bank", message)
