"""``somnoloop run``: the main job — acquire, decide, act, record."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from rich.console import Console

from firmware_host.cli.run_display import ProgressObserver, print_summary
from firmware_host.config import Config
from firmware_host.control.setup import ControlSetup, prepare_control
from firmware_host.errors import UsageError
from firmware_host.neurofeedback.display import attach_neurofeedback_display
from firmware_host.report.hook import ReportObserver
from firmware_host.runtime.build import ACTUATION_MODES, plan_run
from firmware_host.runtime.memory import fix_mmap_threshold
from firmware_host.runtime.run import Run
from firmware_host.runtime.signals import stop_on_signals
from firmware_host.runtime.summary import RunSummary
from firmware_host.service.nights import ROLLOVER_PREFIX
from firmware_host.service.wiring import service_observers, session_at_start
from firmware_host.session.paths import default_root


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
    p.add_argument("--actuation", choices=ACTUATION_MODES, default="devices",
                   help="devices: drivers (simulators on ptys when no port is set); "
                   "dry: commands pass the safety layer and are recorded, no device is driven")
    p.add_argument("--control-socket", metavar="PATH",
                   help="listen for 'somnoloop tune/status' on this Unix socket (default under "
                   "systemd: $RUNTIME_DIRECTORY/control.sock)")
    p.add_argument("--overrides", metavar="FILE", help="parameter overrides saved by the console "
                   "(default: $STATE_DIRECTORY/overrides.toml, else beside the config)")
    p.add_argument("--quiet", action="store_true", help="no progress display (for services)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the loop to completion and print a summary.

    An open-ended run (``until-stopped``, the device) rolls over into a new night at the
    configured time: the loop stops with a ``night ended`` reason and starts again.
    """
    fix_mmap_threshold()  # before start-up's large temporaries (see firmware_host.runtime.memory)
    console = Console(quiet=args.quiet)
    control = prepare_control(args.config, args.control_socket, args.overrides)
    for line in control.report():  # on stderr even with --quiet: the service log says it
        print(f"somnoloop run: {line}", file=sys.stderr)
    cfg = control.config
    try:
        open_ended = math.isinf(plan_run(cfg, args.duration, args.speed).duration_s)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    session_dir = args.session_dir
    while True:
        summary = _one_night(args, cfg, console, session_dir, open_ended, control)
        if not (open_ended and summary.stop_reason.startswith(ROLLOVER_PREFIX)):
            return 0 if not summary.stop_reason.startswith("error") else 1
        session_dir = None  # the next night gets its own session
        console.print(f"[bold]night rolled over[/bold] ({summary.stop_reason}); starting the next")


def _one_night(args: argparse.Namespace, cfg: Config, console: Console, session_dir: str | None,
               open_ended: bool, control: ControlSetup) -> RunSummary:
    resume, meta = False, {}
    if open_ended and session_dir is None:  # the device: this night's session, or a new one
        night = session_at_start(cfg)
        meta = {"night": {"date": night.night, "trigger": night.trigger}}
        if night.action == "continue" and night.session:
            session_dir, resume = str(default_root(cfg) / night.session), True
            console.print(f"continuing this night's session as a new segment: {night.reason}")
    observers = [*service_observers(cfg, nights=open_ended), *control.night_observers()]
    the_run = Run(cfg, duration=args.duration, speed=args.speed, session_dir=session_dir,
                  actuation=args.actuation, observers=observers,
                  resume=resume, meta=meta)
    with stop_on_signals(the_run.request_stop):
        the_run.open()
        info = the_run.describe()
        console.print(f"[bold]somnoloop[/bold] config '{info['config']}', source '{info['source']}', "
                      f"{info['channels']} channels at {info['sfreq']:g} Hz → {info['session']}")
        for name, why in info["unavailable"].items():
            # Loud even with --quiet: the service log must say a configured device is missing.
            print(f"somnoloop run: WARNING: actuator '{name}' is configured but unavailable "
                  f"({why}); the night is recorded without it (high-priority alarm "
                  f"device_unavailable:{name})", file=sys.stderr)
        for warning in info["warnings"]:
            print(f"somnoloop run: WARNING: {warning}", file=sys.stderr)
        progress = ProgressObserver(console, the_run.plan.duration_s, disable=args.quiet)
        the_run.attach(progress)
        reports: list[list[Path]] = []
        the_run.attach(ReportObserver(reports.append))
        with progress, attach_neurofeedback_display(the_run, console, quiet=args.quiet):
            summary = the_run.run()
    print_summary(console, summary, the_run.session_dir)
    if reports:  # printed even with --quiet, like the closing line: where the report is
        print(f"report: {', '.join(map(str, reports[0]))}" if reports[0]
              else "report: not written (see the fault in the session journal)")
    return summary
