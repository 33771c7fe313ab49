"""The device's heap policy: large arrays freed after start-up leave the process's memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_host.runtime.memory import fix_mmap_threshold

REPO = Path(__file__).resolve().parents[3]

#: A fresh interpreter: a large temporary (as at start-up), then 64 arrays of 1 MiB with small
#: objects between them, all freed; prints how much of the 64 MiB stayed resident.
_CHILD = """
import sys
import numpy as np
from firmware_host.runtime.memory import fix_mmap_threshold

def rss_mib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
big = np.ones(2 << 20)  # 16 MiB: freeing it raises glibc's dynamic threshold to 16 MiB
del big
before = rss_mib()
arrays, small = [], []
for _ in range(64):
    arrays.append(np.ones(1 << 17))  # 1 MiB
    small.append(bytearray(4096))    # keeps the heap from shrinking from its top
del arrays
print(rss_mib() - before)
"""


def _kept_mib(mode: str) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    res = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True,
                         env=env, timeout=120, check=True)
    return float(res.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.environ.get("MALLOC_MMAP_THRESHOLD_"),
                    reason="glibc's malloc, with its default (dynamic) threshold")
def test_freed_large_arrays_leave_the_process_once_the_threshold_is_fixed() -> None:
    assert _kept_mib("default") > 48  # glibc's dynamic threshold: the freed MiBs stay resident
    assert _kept_mib("fixed") < 8     # each array was its own mapping, returned on free


def test_fix_mmap_threshold_is_refused_quietly_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert fix_mmap_threshold() is False
