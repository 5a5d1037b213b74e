"""Process settings applied by gdc_core.cpu_runtime.tune_process, checked in fresh interpreters.

Their speed effect is measured by benchmarks/speed.py, not here."""
import os
import platform
import subprocess
import sys

import pytest

REPORT = "import os, gdc_core.cpu_runtime as r; tuned = r.tune_process(); print(os.environ['OMP_WAIT_POLICY'], tuned)"


def _report(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", REPORT], env={**clean, **env}, capture_output=True, text=True,
                         check=True)
    return out.stdout.split()


def test_openmp_waits_passively_unless_the_user_says_otherwise():
    assert _report()[0] == "PASSIVE"
    assert _report(OMP_WAIT_POLICY="ACTIVE")[0] == "ACTIVE"


@pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"),
                    reason="malloc tuning applies to glibc only")
def test_glibc_accepts_the_malloc_thresholds_unless_the_user_tunes_malloc():
    assert _report()[1] == "True"  # mallopt returned success for both thresholds
    assert _report(MALLOC_ARENA_MAX="4")[1] == "False"
    assert _report(GLIBC_TUNABLES="glibc.malloc.trim_threshold=0")[1] == "False"
