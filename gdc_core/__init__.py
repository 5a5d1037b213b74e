"""gdc_core: single-image segmentation from scribbles with Gaussian dynamic convolution (numpy in, numpy out).

Never imports Qt. The public entry point is :class:`Segmenter`.
"""
import os

# OpenMP threads that wait for work by spinning turn a busy machine into a disaster: with one core taken by
# another program, a run measured 33 s with torch's 2 spinning threads against 3.3 s with passive waiting (and
# 2.6 s with one thread). Set before torch loads its OpenMP runtime; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .config import SegmenterConfig  # noqa: E402  (after the OpenMP setting)
from .scribbles import NO_LABEL, ScribbleError
from .segmenter import Progress, SegmentationResult, Segmenter
from .training import RunCancelled

__version__ = "0.1.0"
__all__ = ["Segmenter", "SegmenterConfig", "SegmentationResult", "Progress", "RunCancelled", "ScribbleError",
           "NO_LABEL", "__version__"]
