"""Whether numba compiles here: benchmarks and whole nights skip when it does not."""

from __future__ import annotations

import os

import pytest

#: ``NUMBA_DISABLE_JIT=1``: every kernel runs as plain Python.
JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT") == "1"


def needs_jit(reason: str) -> pytest.MarkDecorator:
    """Skip without JIT, saying why the test means nothing (or takes too long) there."""
    return pytest.mark.skipif(JIT_DISABLED, reason=f"{reason} (NUMBA_DISABLE_JIT=1)")
