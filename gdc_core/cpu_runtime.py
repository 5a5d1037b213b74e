"""Process-wide settings that decide how fast torch runs on a CPU: :func:`tune_process`, called where a process
starts (``gdc-seg``'s launcher, ``python -m gdc_core.cli``, the benchmarks, the test session), before torch loads,
which is why this module imports nothing of torch. A user's own setting always wins. Importing it changes nothing.

OpenMP waiting: threads that wait for work by spinning turn a busy machine into a disaster: with one core taken
by another program, a run measured 33 s with torch's 2 spinning threads against 3.3 s with passive waiting (and
2.6 s with one thread). ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it.

glibc malloc: a training step allocates and frees a dozen map-sized buffers (3-4 MB at 0.2 MP). With glibc's
defaults many of them are fresh ``mmap`` or trimmed heap pages, and every first touch of a page is a page fault.
Keeping up to 256 MB of freed heap mapped, and serving blocks up to 32 MB (glibc's ceiling) from the heap, removes
them (figures: docs/performance.md). Skipped when the environment sets any ``MALLOC_*`` variable or
``GLIBC_TUNABLES`` itself, and off glibc.
"""
from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's largest accepted value on 64-bit
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024


def _user_tunes_malloc() -> bool:
    return "GLIBC_TUNABLES" in os.environ or any(name.startswith("MALLOC_") for name in os.environ)


def _tune_glibc_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds; True when both took effect."""
    if not sys.platform.startswith("linux") or _user_tunes_malloc():
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl without mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


def tune_process() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it, and raise glibc's malloc thresholds unless
    the environment tunes malloc itself. Call it first thing where a process starts: the wait policy only takes
    effect when set before torch loads. Returns whether malloc was tuned."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return _tune_glibc_malloc()
