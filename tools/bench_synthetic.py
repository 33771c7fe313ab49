"""Benchmark: how long a whole synthetic night takes to stream (prints JSON).

Run ``python tools/bench_synthetic.py [--hours 8] [--tick 0.25]``.
"""

from __future__ import annotations

import argparse
import json
import time

from firmware_host.clock import FakeClock
from firmware_host.config.schema import SourceConfig
from firmware_host.sources.factory import make_source


def bench_night(hours: float = 8.0, tick_s: float = 0.25) -> dict[str, float | int]:
    """Stream a default synthetic night through :class:`SyntheticSource` at ``tick_s`` steps.

    Returns
    -------
    dict
        Night length, channels, rate, and CPU / wall seconds taken.
    """
    clock = FakeClock()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    src = make_source(SourceConfig(), clock, hours * 3600)
    src.open()
    n = 0
    while not src.finished:
        clock.advance(tick_s)
        chunk = src.read()
        if chunk is not None:
            n += chunk.n_samples
    return {
        "night_h": hours,
        "tick_s": tick_s,
        "channels": len(src.channel_names),
        "sfreq": src.sfreq,
        "samples_per_channel": n,
        "cpu_s": round(time.process_time() - cpu0, 2),
        "wall_s": round(time.perf_counter() - wall0, 2),
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: print the benchmark as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--tick", type=float, default=0.25, help="clock step per read, seconds")
    args = parser.parse_args(argv)
    print(json.dumps(bench_night(args.hours, args.tick)))


if __name__ == "__main__":
    main()
