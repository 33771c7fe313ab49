"""Fuzzing budget: 10 000 cases per parser in CI; ``SOMNOLOOP_FUZZ_EXAMPLES`` sets a longer run."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Cases per parser (CI runs the default; a long mode sets e.g. 1 000 000).
FUZZ_EXAMPLES = int(os.environ.get("SOMNOLOOP_FUZZ_EXAMPLES", "10000"))

settings.register_profile(
    "fuzz", max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
