"""``somnoloop info SESSION``: summarise a recorded session."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from firmware_host.errors import UsageError
from firmware_host.neurofeedback.summary import neurofeedback_summary
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
    nf = neurofeedback_summary(session)
    if nf is not None:
        summary["neurofeedback"] = nf
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
    table.add_row("format", str(summary["format"]))
    table.add_row("size", f"{summary['size_bytes'] / 1e6:.1f} MB")
    if len(summary["segments"]) > 1:
        table.add_row("segments", ", ".join(
            f"#{s['segment']} samples {s['first_sample']}–{s['end_sample']}"
            for s in summary["segments"]))
    table.add_row("intact", f"{summary['intact_blocks']} blocks, {summary['n_samples']} samples/channel")
    table.add_row("gaps", f"{summary['n_gaps']} ({summary['missing_samples']} samples missing)")
    for g in summary["gaps"]:
        table.add_row("", f"samples {g['start']}–{g['stop']} ({g['samples'] / summary['sfreq']:.2f} s): "
                      f"{GAP_WHY[g['cause']]}")
    if summary["lost_tail_samples"]:
        n = summary["lost_tail_samples"]
        table.add_row("", f"{n} samples ({n / summary['sfreq']:.2f} s) after the last intact block: "
                      "lost in a block cut short by a kill or power cut")
    for d in summary["damage"]:
        table.add_row("lost bytes", f"{d['bytes']} at byte {d['offset']}: {d['cause']} ({d['detail']})")
    table.add_row("events", ", ".join(f"{k} {v}" for k, v in summary["events"].items()))
    if summary["stages"]:
        table.add_row("stages", ", ".join(f"{k} {v}" for k, v in sorted(summary["stages"].items())))
    for key in ("actions", "suppressed"):
        if summary[key]:
            table.add_row(key, ", ".join(f"{k} {v}" for k, v in summary[key].items()))
    table.add_row("complete", _complete_text(summary))
    Console().print(table)
    if nf is not None:
        from firmware_host.neurofeedback.display import block_table

        Console().print(block_table(nf))
    return 0


def programme_counts(session: Session) -> dict[str, dict[str, int]]:
    """``actions`` (``action`` events by rule) and ``suppressed`` (by guard) of a session."""
    return journal_counts((e.payload for e in session.events("action")),
                          (e.payload for e in session.events("suppressed")))


#: Why a gap's samples are missing, by cause.
GAP_WHY = {
    "source": "never delivered by the source",
    "restart": "not recorded while the program was down (session continued)",
    "corrupt": "lost in damaged bytes of samples.bin",
    "torn": "lost in a block cut short by a kill or power cut",
}


def _complete_text(summary: dict) -> str:
    if summary["complete"]:
        return "yes"
    why = []
    if not summary["closed"]:
        why.append("the run was interrupted (no stop event)")
    if summary["damage"]:
        why.append(f"{summary['damaged_bytes']} bytes of samples.bin are damaged")
    if summary["lost_samples"]:
        why.append(f"{summary['lost_samples']} samples lost to damage or restarts")
    return "no: " + "; ".join(why)
