"""``somnoloop status``: a one-shot view of a running loop, for scripts and logs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.markup import escape

from firmware_host.control.client import ControlClient, ControlError, default_socket_path
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
    try:
        with ControlClient(path, name="status") as client:
            state = client.status()
    except (TimeoutError, ConnectionError, ControlError) as exc:  # BadReply included
        raise UsageError(f"{path}: {exc}") from None
    state.pop("id", None)
    state.pop("type", None)
    if args.json:
        print(json.dumps(state, separators=(",", ":")))
    else:
        print_status(Console(), state)
    return 0


def _fmt_probs(probs: dict[str, float]) -> str:
    return " ".join(f"{escape(k)} {100 * v:.0f}%" for k, v in probs.items())


def _e(value: Any) -> str:
    """A server value as console text (its ``[`` never read as markup)."""
    return escape(str(value))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def print_status(console: Console, s: dict[str, Any]) -> None:
    """The human-readable form (a few lines) of a state checked by
    :func:`~firmware_host.control.client.check_state`."""
    run = s.get("run", {})
    console.print(f"[bold]somnoloop[/bold] {_e(run.get('config', '?'))} · source "
                  f"{_e(run.get('source', '?'))} · data {s.get('data_s', 0.0):.0f} s · speed "
                  f"{_e(run.get('speed', '?'))} · "
                  f"{'healthy' if s.get('healthy') else '[red]not healthy[/red]'}")
    stage = s.get("stage") or "—"
    console.print(f"stage {_e(stage)}  {_fmt_probs(s.get('stage_probabilities') or {})}")
    hyp = s.get("hypnogram") or []
    if hyp:
        console.print(f"hypnogram ({len(hyp)} epochs): {_e(' '.join(hyp[-12:]))}")
    grip = s.get("grip")
    if grip:
        console.print(f"grip {_e(grip.get('label'))} force {_e(grip.get('force'))}")
    for name, a in (s.get("actuators") or {}).items():
        last = _dict(_dict(a.get("commanded")).get("last"))
        lost = " [red]LOST[/red]" if a.get("lost") else ""
        outcome = escape(f"[{last.get('outcome', '')}]")
        console.print(f"{_e(name)}{lost}: commanded {_e(last.get('action', '—'))} "
                      f"{_e(last.get('sent', ''))} {outcome}")
    alarms = s.get("alarms") or []
    console.print("alarms: " + (", ".join(f"{_e(a.get('priority'))} {_e(a.get('code'))}" for a in alarms)
                                or "none"))
    console.print(f"loop latency {s.get('loop_latency_ms')} ms (max {s.get('loop_latency_max_ms')} ms), "
                  f"CPU {s.get('cpu_percent')} %")
