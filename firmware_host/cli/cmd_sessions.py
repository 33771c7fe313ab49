"""``somnoloop sessions [ROOT] [--json]``: list the recorded sessions under a root."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from firmware_host.config import load_config
from firmware_host.errors import UsageError
from firmware_host.service.inventory import EXPORT_MARKER, REPORT_DIR
from firmware_host.session import Session, SessionError
from firmware_host.session.paths import default_root
from firmware_host.session.recorder import META


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sessions`` sub-command."""
    p = sub.add_parser("sessions", help="list recorded sessions (date, duration, size, complete, report)")
    p.add_argument("root", nargs="?", help="folder of sessions (default: where `run` writes them)")
    p.add_argument("--config", help="config whose [recorder] root to list (default: built-in)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def describe(path: Path) -> dict[str, Any]:
    """One session's row: date, duration, size, complete, report; ``error`` if unreadable.

    ``report`` is the session's ``report/`` folder (or its export marker) as the service's
    inventory defines them, ``None`` when the night was not reported yet.
    """
    row: dict[str, Any] = {"path": str(path), "name": path.name}
    try:
        s = Session(path)
        row["created_unix"] = s.meta.get("created_unix")
        row["size_bytes"] = s.size_bytes()
        summary = s.summary()
    except SessionError as exc:
        row.update(error=str(exc), complete=False, duration_s=None)
        row.setdefault("size_bytes", sum(p.stat().st_size for p in path.iterdir() if p.is_file()))
    else:
        row.update(duration_s=summary["duration_s"], complete=summary["complete"],
                   closed=summary["closed"], lost_samples=summary["lost_samples"],
                   segments=len(summary["segments"]), config_name=summary["config_name"])
    report = path / REPORT_DIR
    row["report"] = str(report) if report.is_dir() else (
        str(path / EXPORT_MARKER) if (path / EXPORT_MARKER).exists() else None)
    return row


def list_sessions(root: Path) -> list[dict[str, Any]]:
    """Every session directory directly under ``root`` (those with a ``meta.json``), oldest first."""
    rows = [describe(p) for p in sorted(root.iterdir()) if p.is_dir() and (p / META).exists()]
    return sorted(rows, key=lambda r: (r.get("created_unix") or 0, r["name"]))


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON) of sessions."""
    root = Path(args.root) if args.root else default_root(load_config(args.config))
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder of sessions (give ROOT, or set [recorder] root)")
    rows = list_sessions(root)
    if args.json:
        print(json.dumps({"root": str(root), "sessions": rows}, indent=2))
        return 0
    table = Table(title=f"sessions in {root}")
    for col in ("date", "session", "duration", "size", "complete", "report"):
        table.add_column(col)
    for r in rows:
        date = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created_unix"])) \
            if r.get("created_unix") else "?"
        dur = f"{r['duration_s'] / 3600:.2f} h" if r.get("duration_s") is not None else "?"
        complete = "yes" if r["complete"] else ("unreadable" if "error" in r else "no")
        table.add_row(date, r["name"], dur, f"{r['size_bytes'] / 1e6:.1f} MB", complete,
                      "yes" if r["report"] else "no")
    Console().print(table)
    if not rows:
        print(f"no sessions in {root}")
    return 0
