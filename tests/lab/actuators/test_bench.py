"""The serial round-trip benchmark runs against the simulators and reports its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from somnoloop_lab.actuators.bench import bench

REPO = Path(__file__).resolve().parents[3]


def test_bench_reports_latency_per_device() -> None:
    res = bench(n=5)
    assert set(res) == {"mattress", "hand"}
    for figures in res.values():
        assert figures["n"] == 5 and figures["retries"] == 0
        assert 0 < figures["median_ms"] <= figures["p99_ms"] <= figures["max_ms"]


def test_bench_runs_as_a_module() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}
    out = subprocess.run([sys.executable, "-m", "somnoloop_lab.actuators.bench", "3"],
                         capture_output=True, text=True, timeout=120, check=True, env=env)
    assert json.loads(out.stdout)["hand"]["n"] == 3
