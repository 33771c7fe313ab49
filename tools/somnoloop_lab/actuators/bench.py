"""Round-trip benchmark of the serial drivers against their simulators over real ptys.

Run ``python -m somnoloop_lab.actuators.bench [N]``; prints one JSON object with, per device,
the median and 99th-percentile command latency (send -> ACK) and the retries needed.
Optional fault probabilities show the cost of line noise:
``python -m somnoloop_lab.actuators.bench 500 --corrupt-prob 0.05``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from actuators.base import Command
from actuators.hand import HandDriver
from actuators.mattress import MattressDriver
from actuators.simulators import FaultPlan, spawn_simulator


def bench(n: int = 500, corrupt_prob: float = 0.0, drop_prob: float = 0.0) -> dict[str, Any]:
    """Latency statistics of ``n`` acknowledged commands per device."""
    cases = (
        ("mattress", MattressDriver,
         Command("mattress", "set_firmness", {"zone": "head", "level": 40})),
        ("hand", HandDriver,
         Command("hand", "grip", {"pattern": "power", "force": 0.3, "speed": 0.5})),
    )
    out: dict[str, Any] = {}
    for kind, driver_cls, command in cases:
        faults = FaultPlan(corrupt_prob=corrupt_prob, drop_prob=drop_prob, seed=1)
        sim, port = spawn_simulator(kind, faults=faults)
        drv = driver_cls(port, timeout_s=0.05, retries=5)
        try:
            lat = sorted(drv.apply(command)["latency_s"] for _ in range(n))
            retries = drv.counters["retries"]
        finally:
            drv.close()
            sim.stop()
        out[kind] = {"n": n, "median_ms": round(statistics.median(lat) * 1e3, 3),
                     "p99_ms": round(lat[min(n - 1, int(0.99 * n))] * 1e3, 3),
                     "max_ms": round(lat[-1] * 1e3, 3), "retries": retries}
    return out


def main() -> None:
    """Command-line entry: print the JSON result."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", nargs="?", type=int, default=500)
    p.add_argument("--corrupt-prob", type=float, default=0.0)
    p.add_argument("--drop-prob", type=float, default=0.0)
    a = p.parse_args()
    print(json.dumps(bench(a.n, a.corrupt_prob, a.drop_prob)))


if __name__ == "__main__":
    main()
