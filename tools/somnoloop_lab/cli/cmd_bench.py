"""``somnoloop bench [dsp|stager|storage|loop|all] [--json]``: every figure users quote.

``dsp`` times the DSP core (:mod:`somnoloop_lab.bench_dsp`) and ``stager`` the sleep stager
(:mod:`somnoloop_lab.staging.bench`), each against its reference in the same run;
``storage`` the session format against the old one (:mod:`somnoloop_lab.bench_storage`);
``loop`` the whole loop — latency, grip and feedback delays, a night's run, memory, cold
start, CPU at speed 1 (:mod:`somnoloop_lab.bench_loop`); ``replay`` what-if replay per kind
of edit (:mod:`somnoloop_lab.bench_replay`). Without a suite (``all``), every
figure runs in one process and prints as one JSON object."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from firmware_host.errors import UsageError

SUITES = ("all", "dsp", "stager", "storage", "loop", "replay")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``bench`` sub-command."""
    p = sub.add_parser("bench", help="run a benchmark suite and print the figures")
    p.add_argument("suite", nargs="?", default="all", choices=SUITES,
                   help="which benchmark to run (default: all, in one process)")
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
    result = _suite(args.suite, args)
    if args.json or args.suite in ("storage", "loop", "replay", "all"):
        print(json.dumps(result, indent=2))
    else:
        render_table(result, title=args.suite.upper() if args.suite == "dsp" else "stager")
    return 0


def _suite(name: str, args: argparse.Namespace) -> dict:
    """The figures of one suite, or of every suite merged (``all``)."""
    if name == "all":
        merged: dict = {"targets": {}, "missing": {}}
        for suite in SUITES[1:]:
            part = _suite(suite, args)
            for key in ("targets", "missing"):
                merged[key].update(part.pop(key, {}) or {})
            merged.update(part)
        return merged
    if name == "storage":
        from somnoloop_lab.bench_storage import bench_storage

        return bench_storage(args.night_hours)
    if name == "replay":
        from somnoloop_lab.bench_replay import run_replay_bench

        return run_replay_bench(args.night_hours, repeats=args.repeats or 3)
    if name == "loop":
        from somnoloop_lab.bench_loop import run_loop_bench

        return run_loop_bench(night_hours=args.night_hours)
    if name == "stager":
        from somnoloop_lab.staging.bench import run_stager_bench

        return run_stager_bench(args.night_hours, yasa=not args.no_yasa, repeats=args.repeats or 3)
    from somnoloop_lab.bench_dsp import run_dsp_bench

    return run_dsp_bench(args.repeats or 200, args.night_hours, yasa=not args.no_yasa)
