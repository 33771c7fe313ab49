"""What ``somnoloop run`` shows: a progress bar while it runs and a summary table at the end."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from firmware_host.runtime.hooks import IterationInfo, RunObserver
from firmware_host.runtime.summary import RunSummary
from firmware_host.session import Session


def hms(seconds: float) -> str:
    """``H:MM:SS`` of a number of seconds."""
    s = int(seconds)
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class ProgressObserver(RunObserver):
    """A rich progress bar fed by the run's ``on_iteration`` hook (at most 5 updates/s)."""

    name = "progress"

    def __init__(self, console: Console, duration_s: float, *, disable: bool = False) -> None:
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(),
            TextColumn("{task.fields[done]}"), TimeElapsedColumn(),
            console=console, disable=disable, transient=False,
        )
        total = None if math.isinf(duration_s) else duration_s
        self._task = self._progress.add_task("recording", total=total, done="")
        self._last = 0.0

    def __enter__(self) -> ProgressObserver:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def on_iteration(self, run: Any, info: IterationInfo) -> None:
        """Update the bar with the data time and the most frequent stage so far."""
        now = time.monotonic()
        if now - self._last < 0.2:
            return
        self._last = now
        stages = run.summary.stages.most_common(1)
        self._progress.update(self._task, completed=info.data_s,
                              done=f"{hms(info.data_s)} of data"
                              + (f", last stage tally {stages[0][0]}" if stages else ""))

    def on_closed(self, run: Any, summary: RunSummary) -> None:
        """Show the final data time."""
        self._progress.update(self._task, completed=summary.data_s,
                              done=f"{hms(summary.data_s)} of data")


def print_summary(console: Console, summary: RunSummary, session_dir: Path) -> None:
    """The closing table, then one plain line that even ``--quiet`` prints."""
    ev = summary.events
    table = Table(title="session summary", show_header=False)
    table.add_row("data recorded", f"{hms(summary.data_s)} ({summary.n_samples} samples/channel)")
    table.add_row("wall time", f"{summary.wall_s:.1f} s"
                  + (f"  ({summary.data_s / summary.wall_s:.0f}× real time)" if summary.wall_s else ""))
    table.add_row("stopped because", summary.stop_reason)
    table.add_row("gaps", str(summary.n_gaps))
    if summary.recording_problems:
        table.add_row("[red]recording degraded[/red]",
                      f"{'; '.join(summary.recording_problems[:3])}; "
                      f"{summary.samples_not_written} samples/channel not written")
    table.add_row("faults", f"{ev['fault']} (loop {summary.faults}, devices {ev['fault'] - summary.faults})")
    for name, why in summary.unavailable.items():
        table.add_row(f"[red]unavailable: {name}[/red]", why)
    table.add_row("alarms raised", _alarms(summary))
    table.add_row("safe states", str(ev["safe_state"]))
    table.add_row("programme actions", _counts(summary.actions))
    table.add_row("suppressed (by guard)", _counts(summary.suppressed))
    table.add_row("commands / acks", _commands(summary))
    if summary.stages:
        total = sum(summary.stages.values())
        table.add_row("sleep stages (epochs)", ", ".join(
            f"{k} {v} ({100 * v / total:.0f}%)" for k, v in sorted(summary.stages.items())))
    for kind, n in sorted(summary.decisions.items()):
        table.add_row(f"decisions: {kind}", str(n))
    size = _size_mb(session_dir)
    table.add_row("session", f"{session_dir} ({size})")
    console.print(table)
    console.print(f"Inspect it with: somnoloop info {session_dir}")
    # Printed even with --quiet: scripts and the service log need the time and place.
    trouble = ""
    if summary.recording_problems:
        print(f"somnoloop run: WARNING: recording degraded ({summary.recording_problems[-1]}); "
              f"{summary.samples_not_written} samples/channel not written", file=sys.stderr)
    if summary.alarms or summary.unavailable:
        trouble = f" ({len(summary.alarms)} alarms" + (
            f"; unavailable: {', '.join(summary.unavailable)}" if summary.unavailable else "") + ")"
    print(f"finished in {summary.wall_s:.1f} s: {summary.data_s / 3600:.2f} h of data → {session_dir} "
          f"({size})" + trouble)


def _size_mb(session_dir: Path) -> str:
    try:
        return f"{Session(session_dir).size_bytes() / 1e6:.1f} MB"
    except Exception as exc:  # noqa: BLE001 - the summary never fails on a damaged session
        return f"size unknown: {exc}"


def _alarms(summary: RunSummary) -> str:
    if not summary.alarms:
        return "0"
    counts: dict[str, int] = {}
    for code in summary.alarms:
        counts[code] = counts.get(code, 0) + 1
    return f"{len(summary.alarms)}: " + ", ".join(f"{c} ×{n}" for c, n in counts.items())


def _counts(counts: dict[str, int]) -> str:
    if not counts:
        return "0"
    return f"{sum(counts.values())}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _commands(summary: RunSummary) -> str:
    by = summary.commands_by_outcome
    text = f"{sum(by.values())} asked, {summary.events['ack']} acknowledged"
    detail = ", ".join(f"{k} {v}" for k, v in sorted(by.items()))
    if detail:
        text += f" ({detail})"
    if by.get("queued"):
        text += f"; {by['queued']} queued = first step of a slew ramp, sent later as 'ramp'"
    if by.get("refused"):
        text += f"; {by['refused']} refused by the safety layer (never sent)"
    if summary.unacked:
        text += f"; [red]{summary.unacked} sent without an ack (device did not answer)[/red]"
    return text
