"""``somnoloop status``: a one-shot view of a running loop, for scripts and logs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console

from firmware_host.control.client import ControlClient, default_socket_path
from firmware_host.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``status`` sub-command."""
    p = sub.add_parser(
        "status", help="one-shot status of a running loop (over its control socket)",
        description="Connect to a running 'somnoloop run --control-socket PATH' and print its "
        "stage, probabilities, actuators, alarms, loop latency and data time once.")
    p.add_argument("--socket", help="control socket (default: $RUNTIME_DIRECTORY/control.sock, "
                   "else ./control.sock)")
    p.add_argument("--json", action="store_true", help="print the state as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one state message."""
    path = args.socket or str(default_socket_path())
    with ControlClient(path, name="status") as client:
        try:
            state = client.status()
        except (TimeoutError, ConnectionError) as exc:
            raise UsageError(f"{path}: {exc}") from None
    state.pop("id", None)
    state.pop("type", None)
    if args.json:
        print(json.dumps(state, separators=(",", ":")))
    else:
        print_status(Console(), state)
    return 0


def _fmt_probs(probs: dict[str, float]) -> str:
    return " ".join(f"{k} {100 * v:.0f}%" for k, v in probs.items())


def print_status(console: Console, s: dict[str, Any]) -> None:
    """The human-readable form (a few lines)."""
    run = s.get("run", {})
    console.print(f"[bold]somnoloop[/bold] {run.get('config', '?')} · source {run.get('source', '?')} · "
                  f"data {s.get('data_s', 0.0):.0f} s · speed {run.get('speed', '?')} · "
                  f"{'healthy' if s.get('healthy') else '[red]not healthy[/red]'}")
    stage = s.get("stage") or "—"
    console.print(f"stage {stage}  {_fmt_probs(s.get('stage_probabilities') or {})}")
    hyp = s.get("hypnogram") or []
    if hyp:
        console.print(f"hypnogram ({len(hyp)} epochs): {' '.join(hyp[-12:])}")
    grip = s.get("grip")
    if grip:
        console.print(f"grip {grip.get('label')} force {grip.get('force')}")
    for name, a in (s.get("actuators") or {}).items():
        last = (a.get("commanded") or {}).get("last") or {}
        lost = " [red]LOST[/red]" if a.get("lost") else ""
        console.print(f"{name}{lost}: commanded {last.get('action', '—')} {last.get('sent', '')} "
                      f"[{last.get('outcome', '')}]")
    alarms = s.get("alarms") or []
    console.print("alarms: " + (", ".join(f"{a['priority']} {a['code']}" for a in alarms) or "none"))
    console.print(f"loop latency {s.get('loop_latency_ms')} ms (max {s.get('loop_latency_max_ms')} ms), "
                  f"CPU {s.get('cpu_percent')} %")
