"""``somnoloop run``: the main job — acquire, decide, act, record."""

from __future__ import annotations

import argparse
import dataclasses
import math
import signal
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from firmware_host.config import Config, load_config
from firmware_host.errors import UsageError
from firmware_host.runtime import build as assembly
from firmware_host.runtime.loop import Controller, RunSummary
from firmware_host.session import SessionRecorder
from firmware_host.sources.base import SourceError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` sub-command."""
    p = sub.add_parser(
        "run",
        help="run the closed loop (default: a synthetic 8-h night at max speed, no hardware)",
        description="Acquire signals, run the stage chain, drive the actuators through the "
        "safety layer and record a crash-safe session.",
    )
    p.add_argument("--config", help="TOML config (default: built-in, same as configs/default.toml)")
    p.add_argument("--duration", help="e.g. 30m, 8h, 1h30m, until-stopped (overrides [run])")
    p.add_argument("--speed", help="1 (real time), a factor like 60, or max (overrides [run])")
    p.add_argument("--session-dir", help="directory for this session (default: under [recorder].root)")
    p.add_argument("--quiet", action="store_true", help="no progress display (for services)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the loop to completion and print a summary."""
    console = Console(quiet=args.quiet)
    cfg = load_config(args.config)
    try:
        plan = assembly.plan_run(cfg, args.duration, args.speed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if cfg.source.kind == "brainflow" and plan.speed != 1:
        raise UsageError(
            f"--speed {args.speed or cfg.run.speed}: a BrainFlow board streams in real time; "
            "allowed: --speed 1 (use source.kind = 'replay' to replay files faster)"
        )
    session_dir = Path(args.session_dir) if args.session_dir else _new_session_dir(cfg)
    clock = assembly.make_clock(plan)
    try:
        source = assembly.build_source(cfg, clock, plan)
        source.open()
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    try:
        recorder = SessionRecorder(session_dir, clock, flush_interval_s=cfg.recorder.flush_interval_s,
                                   fsync=cfg.recorder.fsync)
    except FileExistsError as exc:
        source.close()
        raise UsageError(str(exc)) from None
    recorder.start(
        sfreq=source.sfreq, channel_names=source.channel_names, channel_types=source.channel_types,
        config=dataclasses.asdict(cfg),
        extra={"config_name": cfg.name, "source": cfg.source.kind,
               "planned_duration_s": None if math.isinf(plan.duration_s) else plan.duration_s,
               "speed": "max" if plan.as_fast_as_possible else plan.speed,
               "clock_origin_unix": getattr(clock, "origin_unix", None)},
    )
    try:
        pipeline = assembly.build_pipeline(cfg, source)
        actuation = assembly.build_actuation(cfg, clock, recorder)
    except BaseException as exc:
        recorder.emit("fault", {"where": "startup", "error": f"{type(exc).__name__}: {exc}"})
        recorder.close({"stop_reason": f"startup failed: {exc}"})
        source.close()
        raise
    console.print(f"[bold]somnoloop[/bold] config '{cfg.name}', source '{cfg.source.kind}', "
                  f"{len(source.channel_names)} channels at {source.sfreq:g} Hz → {session_dir}")
    summary = _run_with_progress(cfg, plan, source, pipeline, recorder, clock, actuation, console,
                                 quiet=args.quiet)
    _print_summary(console, summary, session_dir)
    return 0 if not summary.stop_reason.startswith("error") else 1


def _new_session_dir(cfg: Config) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = Path(cfg.recorder.root)
    path = root / f"{stamp}-{cfg.name}"
    n = 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{cfg.name}-{n}"
    return path


def _run_with_progress(cfg: Config, plan: assembly.RunPlan, source: Any, pipeline: Any,
                       recorder: SessionRecorder, clock: Any, actuation: Any, console: Console,
                       *, quiet: bool) -> RunSummary:
    total = None if math.isinf(plan.duration_s) else plan.duration_s
    progress = Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(),
        TextColumn("{task.fields[done]}"), TimeElapsedColumn(),
        console=console, disable=quiet, transient=False,
    )
    task = progress.add_task("recording", total=total, done="")
    last = [0.0]

    def on_tick(summary: RunSummary) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2:
            last[0] = now
            stages = summary.stages.most_common(1)
            progress.update(task, completed=summary.data_s,
                            done=f"{_hms(summary.data_s)} of data"
                            + (f", last stage tally {stages[0][0]}" if stages else ""))

    controller = Controller(source, pipeline, recorder, clock, duration_s=plan.duration_s,
                            tick_s=cfg.run.tick_s, stale_after_s=cfg.run.stale_after_s,
                            actuation=actuation, on_tick=on_tick)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: controller.request_stop(
            f"signal {signal.Signals(signum).name}"))
    try:
        with progress:
            summary = controller.run()
            progress.update(task, completed=summary.data_s, done=f"{_hms(summary.data_s)} of data")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return summary


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _print_summary(console: Console, summary: RunSummary, session_dir: Path) -> None:
    table = Table(title="session summary", show_header=False)
    table.add_row("data recorded", f"{_hms(summary.data_s)} ({summary.n_samples} samples/channel)")
    table.add_row("wall time", f"{summary.wall_s:.1f} s"
                  + (f"  ({summary.data_s / summary.wall_s:.0f}× real time)" if summary.wall_s else ""))
    table.add_row("stopped because", summary.stop_reason)
    table.add_row("gaps", str(summary.n_gaps))
    table.add_row("faults", str(summary.faults))
    if summary.stages:
        total = sum(summary.stages.values())
        table.add_row("sleep stages (epochs)", ", ".join(
            f"{k} {v} ({100 * v / total:.0f}%)" for k, v in sorted(summary.stages.items())))
    for kind, n in sorted(summary.decisions.items()):
        table.add_row(f"decisions: {kind}", str(n))
    table.add_row("session", str(session_dir))
    console.print(table)
    console.print(f"Inspect it with: somnoloop info {session_dir}")
    # Printed even with --quiet: scripts and the service log need the time and place.
    print(f"finished in {summary.wall_s:.1f} s: {summary.data_s / 3600:.2f} h of data → {session_dir}")
