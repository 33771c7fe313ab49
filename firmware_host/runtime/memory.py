"""The device process's heap: large buffers go back to the system when they are freed.

glibc serves an allocation above its mmap threshold (128 KiB at start) with a mapping of
its own, unmapped on free. But each time such a block is freed it raises the threshold to
that block's size (up to 32 MiB), so after start-up's large temporaries (the EMG
calibration's recordings and features, the first epochs' arrays) later arrays of that size
come from the heap, where freed space stays resident. Fixing the threshold keeps every
large array in its own mapping: the default night at speed 1 holds ≈ 7 MiB less at steady
state, for one mapping per large array (a few per 30-s epoch).
"""

from __future__ import annotations

import ctypes
import sys

#: ``mallopt`` parameter number of ``M_MMAP_THRESHOLD`` (``<malloc.h>``).
M_MMAP_THRESHOLD = -3
#: glibc's initial threshold: arrays of 128 KiB and more get their own mapping.
MMAP_THRESHOLD_BYTES = 128 * 1024


def fix_mmap_threshold(nbytes: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix the C library's mmap threshold at ``nbytes`` (glibc's dynamic raising off).

    The same as starting the process with ``MALLOC_MMAP_THRESHOLD_=<nbytes>``. Applies to
    allocations from now on; call it once, early in the device process.

    Returns
    -------
    bool
        Whether the C library accepted it (False off Linux/glibc, where nothing changes).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - a C library without mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, int(nbytes)) == 1
