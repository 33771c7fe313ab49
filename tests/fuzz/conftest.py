"""Fuzzing budget and scratch space shared by every fuzz test.

Every parser of outside bytes gets ``SOMNOLOOP_FUZZ_EXAMPLES`` cases per test (10 000 by
default, what CI runs); tests on the "fuzz-batch" profile draw ``CASES_PER_EXAMPLE`` cases
per example, so they run as many cases in fewer examples. The long mode runs the
same tests with a bigger budget, e.g. ``SOMNOLOOP_FUZZ_EXAMPLES=1000000 pytest tests/fuzz``;
while developing, 500 is enough.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.strategies import CASES_PER_EXAMPLE

#: Cases per parser (CI runs the default; a long mode sets e.g. 1 000 000).
FUZZ_EXAMPLES = int(os.environ.get("SOMNOLOOP_FUZZ_EXAMPLES", "10000"))
#: RAM-backed scratch space when the machine has it: file-based fuzz cases write a file each.
SHM = Path("/dev/shm")

settings.register_profile(
    "fuzz", max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz-batch", settings.get_profile("fuzz"),
    max_examples=max(1, -(-FUZZ_EXAMPLES // CASES_PER_EXAMPLE)),
)


@pytest.fixture(scope="session")
def scratch(tmp_path_factory) -> Path:
    """One directory for the files fuzz cases write (in RAM when possible: 20× faster opens)."""
    if SHM.is_dir() and os.access(SHM, os.W_OK):
        path = Path(tempfile.mkdtemp(prefix="somnoloop-fuzz-", dir=SHM))
        yield path
        shutil.rmtree(path, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("fuzz")
