"""``somnoloop bench dsp|stager [--json]``: time the DSP core (:mod:`somnoloop_lab.bench_dsp`)
or the sleep stager (:mod:`somnoloop_lab.staging.bench`), each against its reference in the
same run."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from firmware_host.errors import UsageError

SUITES = ("dsp", "stager", "storage")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` sub-command."""
    p = sub.add_parser("bench", help="run a benchmark suite and print the figures")
    p.add_argument("suite", choices=SUITES, help="which benchmark to run")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed batches per figure (dsp: median of 200; stager: best of 3)")
    p.add_argument(
        "--night-hours", type=float, default=8.0, help="length of the night for night_features_s"
    )
    p.add_argument("--no-yasa", action="store_true", help="skip timing YASA (it takes a while)")
    p.set_defaults(func=run)


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def render_table(result: dict, console: Console | None = None, title: str = "DSP") -> None:
    """Print a benchmark result as a rich table (figures, targets, missing parts, machine)."""
    console = console or Console()
    table = Table(title=f"somnoloop {title} benchmark")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target")
    skip = {"machine", "targets", "missing"}
    for key, value in result.items():
        if key in skip:
            continue
        note = result["targets"].get(key, "") or result["missing"].get(key, "")
        table.add_row(key, _fmt(value), note)
    console.print(table)
    machine = ", ".join(f"{k}={_fmt(v)}" for k, v in result["machine"].items())
    console.print(f"[dim]{machine}[/dim]")


def run(args: argparse.Namespace) -> int:
    """Run the chosen suite; print JSON (``--json``) or a table."""
    if args.repeats is not None and args.repeats < 1:
        raise UsageError(f"--repeats must be >= 1, got {args.repeats}")
    if not args.night_hours > 0:
        raise UsageError(f"--night-hours must be > 0, got {args.night_hours}")
    if args.suite == "storage":
        from somnoloop_lab.bench_storage import bench_storage

        result = bench_storage(args.night_hours)
        print(json.dumps(result, indent=2))
        return 0
    if args.suite == "stager":
        from somnoloop_lab.staging.bench import run_stager_bench

        result = run_stager_bench(args.night_hours, yasa=not args.no_yasa,
                                  repeats=args.repeats or 3)
    else:
        from somnoloop_lab.bench_dsp import run_dsp_bench

        result = run_dsp_bench(args.repeats or 200, args.night_hours, yasa=not args.no_yasa)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        render_table(result, title=args.suite.upper() if args.suite == "dsp" else "stager")
    return 0
