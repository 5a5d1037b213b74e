"""How a user names the stem's ImageNet weights, importable without torch (the launcher, the frozen build's
set-up and the command line's help read it before torch loads). Finding and reading the weights is
:mod:`gdc_core.backbone`'s job.
"""
from __future__ import annotations

WEIGHTS_ENV = "GDC_SEG_BACKBONE_WEIGHTS"  # environment variable naming a weights file
