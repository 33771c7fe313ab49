"""``somnoloop sim mattress|hand``: run one device simulator stand-alone on a pty.

The first line printed on stdout is the pty path (connect a driver, or
``python -m serial.tools.miniterm`` to it); the simulator runs until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from actuators.simulators import SIMULATOR_KINDS, FaultPlan, spawn_simulator
from firmware_host.errors import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sim`` sub-command."""
    p = sub.add_parser("sim", help="run a mattress or hand simulator on a pty (prints its path)")
    p.add_argument("kind", choices=SIMULATOR_KINDS, help="which device to simulate")
    p.add_argument("--heartbeat-timeout", type=float, default=None, metavar="S",
                   help="host silence before the device goes safe "
                        "(mattress default 2.0 s, hand watchdog default 0.3 s)")
    p.add_argument("--object", type=float, default=None, metavar="PCT",
                   help="hand only: a ball touched by every finger at PCT %% closed")
    p.add_argument("--drop-prob", type=float, default=0.0, help="drop a reply byte (0..1)")
    p.add_argument("--corrupt-prob", type=float, default=0.0, help="flip a reply bit (0..1)")
    p.add_argument("--delay", type=float, default=0.0, metavar="S", help="delay every reply")
    p.add_argument("--status-every", type=float, default=0.0, metavar="S",
                   help="print the device state as JSON on stderr every S seconds")
    p.set_defaults(func=run)


#: The longest delay, status period or heartbeat timeout a simulator takes (an hour).
MAX_SECONDS = 3600.0


def _kwargs(args: argparse.Namespace) -> dict[str, Any]:
    for name in ("drop_prob", "corrupt_prob"):
        v = getattr(args, name)
        if not 0.0 <= v <= 1.0:
            raise UsageError(f"--{name.replace('_', '-')} must be within 0..1, got {v}")
    for name in ("delay", "status_every"):
        v = getattr(args, name)
        if not 0.0 <= v <= MAX_SECONDS:  # NaN fails too
            raise UsageError(f"--{name.replace('_', '-')} must be within 0..{MAX_SECONDS:g} s, got {v}")
    kw: dict[str, Any] = {"faults": FaultPlan(drop_prob=args.drop_prob,
                                              corrupt_prob=args.corrupt_prob,
                                              delay_s=args.delay, seed=None)}
    if args.heartbeat_timeout is not None:
        if not 0.0 < args.heartbeat_timeout <= MAX_SECONDS:
            raise UsageError(f"--heartbeat-timeout must be more than 0 and at most {MAX_SECONDS:g} s, "
                             f"got {args.heartbeat_timeout}")
        key = "watchdog_s" if args.kind == "hand" else "heartbeat_timeout_s"
        kw[key] = args.heartbeat_timeout
    if args.object is not None:
        if args.kind != "hand":
            raise UsageError("--object applies to the hand simulator only")
        if not 0 < args.object <= 100:
            raise UsageError(f"--object must be within (0, 100] %, got {args.object}")
        from actuators.simulators.hand import GraspObject

        kw["obj"] = GraspObject.ball(args.object)
    return kw


def run(args: argparse.Namespace) -> int:
    """Start the simulator, print its pty path, serve until interrupted."""
    kw = _kwargs(args)
    sim, path = spawn_simulator(args.kind, **kw)
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(path, flush=True)
    print(f"{args.kind} simulator on {path}; Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        while not done.wait(args.status_every or 0.5):
            if args.status_every:
                print(json.dumps(sim.state, default=str), file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sim.stop()
        print(f"{args.kind} simulator stopped ({len(sim.frames)} command frames received)",
              file=sys.stderr, flush=True)
    return 0
