"""Shared fixtures: where the optional shared weights and data live (tests needing them skip without them)."""
from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
STEM_WEIGHTS = SHARED / "weights" / "mobilenet_v2_imagenet_stem.pt"
FULL_WEIGHTS = SHARED / "weights" / "mobilenet_v2_imagenet_full.pt"
DATA = SHARED / "data"


@pytest.fixture
def stem_weights() -> Path:
    if not STEM_WEIGHTS.is_file():
        pytest.skip("ImageNet stem weights not available (../shared/weights)")
    return STEM_WEIGHTS
