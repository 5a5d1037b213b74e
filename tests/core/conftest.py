"""Fixtures shared by the core tests."""
from __future__ import annotations

import pytest

import gdc_core.backbone
from gdc_core.backbone import WEIGHTS_ENV


@pytest.fixture
def offline_stem(monkeypatch):
    """No weights variable and no torchvision cache or download: the untrained stem, deterministically."""
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(gdc_core.backbone, "_torchvision_state", lambda allow_download: None)
