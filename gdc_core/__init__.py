"""gdc_core: single-image segmentation from scribbles with Gaussian dynamic convolution (numpy in, numpy out).

Never imports Qt. The public entry point is :class:`Segmenter`.
"""
from . import cpu_runtime  # noqa: F401  (first: OpenMP and malloc settings, before torch loads)
from .config import SegmenterConfig
from .scribbles import NO_LABEL, ScribbleError
from .segmenter import Progress, SegmentationResult, Segmenter
from .training import RunCancelled

__version__ = "0.1.0"
__all__ = ["Segmenter", "SegmenterConfig", "SegmentationResult", "Progress", "RunCancelled", "ScribbleError",
           "NO_LABEL", "__version__"]
