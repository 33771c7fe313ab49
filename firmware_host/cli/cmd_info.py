"""``somnoloop info SESSION``: summarise a recorded session."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from firmware_host.errors import UsageError
from firmware_host.programme.journal import journal_counts
from firmware_host.session import Session, SessionError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``info`` sub-command."""
    p = sub.add_parser("info", help="summarise a recorded session")
    p.add_argument("session", help="session directory")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the session summary."""
    try:
        session = Session(args.session)
        summary = session.summary() | programme_counts(session)
    except SessionError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    table = Table(title=f"session {summary['path']}", show_header=False)
    hours = summary["duration_s"] / 3600
    table.add_row("duration", f"{summary['duration_s']:.1f} s ({hours:.2f} h)")
    table.add_row("sampling rate", f"{summary['sfreq']:g} Hz")
    table.add_row("channels", ", ".join(
        f"{n} ({t})" for n, t in zip(summary["channels"], summary["channel_types"], strict=True)))
    table.add_row("samples/channel", str(summary["n_samples"]))
    table.add_row("gaps", f"{summary['n_gaps']} ({summary['missing_samples']} samples missing)")
    table.add_row("events", ", ".join(f"{k} {v}" for k, v in summary["events"].items()))
    if summary["stages"]:
        table.add_row("stages", ", ".join(f"{k} {v}" for k, v in sorted(summary["stages"].items())))
    for key in ("actions", "suppressed"):
        if summary[key]:
            table.add_row(key, ", ".join(f"{k} {v}" for k, v in summary[key].items()))
    table.add_row("complete", "yes" if summary["complete"] else "no (run was interrupted)")
    if summary["torn_tail"]:
        table.add_row("tail", summary["torn_tail"] + " (ignored; earlier data intact)")
    Console().print(table)
    return 0


def programme_counts(session: Session) -> dict[str, dict[str, int]]:
    """``actions`` (``action`` events by rule) and ``suppressed`` (by guard) of a session."""
    return journal_counts((e.payload for e in session.events("action")),
                          (e.payload for e in session.events("suppressed")))
