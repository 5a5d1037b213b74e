"""gdc_core: single-image segmentation from scribbles with Gaussian dynamic convolution (numpy in, numpy out).

Never imports Qt. The public entry point is :class:`Segmenter`. The public names are imported when first used
(PEP 562), so ``import gdc_core`` (for ``__version__``, or ``gdc_core.cli``'s argument parser) does not load torch.
Importing changes nothing in the process; a program tunes the CPU runtime where it starts
(:func:`gdc_core.cpu_runtime.tune_process`).
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"
# public name -> the module of this package that owns it
_PUBLIC = {"Segmenter": "segmenter", "SegmentationResult": "segmenter", "Progress": "segmenter",
           "SegmenterConfig": "config", "RunCancelled": "training", "ScribbleError": "scribbles",
           "NO_LABEL": "scribbles"}
__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
