"""Storage benchmark (issue 18): ``python tools/bench_storage.py [--hours 8]``.

Prints the figures of :func:`somnoloop_lab.bench_storage.bench_storage` (a default 13-channel
250-Hz night written in format 2 and in format 1 in the same run) as JSON.
"""

from __future__ import annotations

import argparse
import json

from somnoloop_lab.bench_storage import bench_storage


def main() -> None:
    """Run the benchmark and print JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=8.0, help="night length (default 8)")
    p.add_argument("--float32-hours", type=float, default=1.0,
                   help="hours of unquantised floats to write (scaled to the night)")
    p.add_argument("--journal-hours", type=float, default=0.5,
                   help="hours of the whole loop run to measure the journal (scaled)")
    args = p.parse_args()
    print(json.dumps(bench_storage(args.hours, float32_hours=args.float32_hours,
                                   journal_hours=args.journal_hours), indent=2))


if __name__ == "__main__":
    main()
