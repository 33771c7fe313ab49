"""``somnoloop soak --hours 24 --speed max --json``: simulated hours of the default programme
with faults from the catalogue injected at random (:mod:`somnoloop_lab.reliability.soak`)."""

from __future__ import annotations

import argparse
import json
import math

from rich.console import Console
from rich.table import Table

from firmware_host.config.durations import parse_speed
from firmware_host.errors import UsageError

#: What the soak must show (issue 17).
TARGETS = {"crashes": "0", "out_of_bounds_commands": "0", "max_safe_state_latency_s": "<= 1 s",
           "rss_growth_mb": "<= 5 MB"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``soak`` sub-command."""
    p = sub.add_parser("soak", help="run simulated hours with faults injected and measure them")
    p.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    p.add_argument("--speed", default="max", help="max (default) or a factor; 1 is real time")
    p.add_argument("--seed", type=int, default=1, help="seed of the fault schedule")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the soak; exit 1 when a target is missed."""
    if not 0 < args.hours <= 24 * 31:
        raise UsageError(f"--hours {args.hours}: allowed more than 0 and at most 744 (31 days)")
    try:
        parse_speed(args.speed)
    except ValueError as exc:
        raise UsageError(f"--speed: {exc}") from None
    from somnoloop_lab.reliability.soak import soak

    result = soak(args.hours, speed=args.speed, seed=args.seed).to_json()
    result["rss_growth_mb"] = round(result["rss_end_mb"] - result["rss_start_mb"], 1)
    ok = (result["crashes"] == 0 and result["out_of_bounds_commands"] == 0
          and result["max_safe_state_latency_s"] <= 1.0 and result["rss_growth_mb"] <= 5.0
          and not result["unrecovered"])
    if args.json:
        print(json.dumps({k: (None if isinstance(v, float) and math.isinf(v) else v)
                          for k, v in result.items()}, indent=2))
    else:
        table = Table(title=f"somnoloop soak, {args.hours:g} h")
        table.add_column("figure")
        table.add_column("value", justify="right")
        table.add_column("target")
        for key, value in result.items():
            table.add_row(key, str(value), TARGETS.get(key, ""))
        Console().print(table)
    return 0 if ok else 1
