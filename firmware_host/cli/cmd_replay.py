"""``somnoloop replay``: what recorded nights would have done with edited parameters."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from firmware_host.config import ConfigError, load_config
from firmware_host.control.params import ParamError
from firmware_host.errors import UsageError
from firmware_host.session import SessionError
from firmware_host.whatif.redecide import RedecideError
from firmware_host.whatif.replay import MODES, parse_edits, replay_sessions


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``replay`` sub-command."""
    p = sub.add_parser(
        "replay", help="what-if: re-run recorded sessions with edited parameters and diff them",
        description="Replay sessions with their recorded config and with the edits, re-running "
        "only what the edits touch (a programme edit: the recorded decisions through the rule "
        "engine; a stager, EMG, microstructure or neurofeedback edit: that stage over the "
        "recorded samples; anything else: the whole loop, dry actuation, as fast as possible); "
        "print stage agreement and the actions added, removed and shifted, suppressions by "
        "guard, aggregated over the sessions.")
    p.add_argument("sessions", nargs="+", metavar="SESSION", help="recorded session directories")
    p.add_argument("--config", help="replay with this config instead of each session's recorded one")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="an edit, e.g. programme.rules.onset_rocking_fade.trigger.dwell=2m (repeatable)")
    p.add_argument("--mode", choices=MODES, default="auto",
                   help="auto: re-run only what the edits touch (default); full: the whole loop")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replay and print the diff."""
    for s in args.sessions:
        if not Path(s).is_dir():
            raise UsageError(f"{s}: not a session directory")
    config = load_config(args.config) if args.config else None
    try:
        result = replay_sessions(args.sessions, parse_edits(args.set), config, args.mode)
    except (ParamError, SessionError, ConfigError, RedecideError) as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
        return 0
    console = Console()
    diff = result["actions_diff"]
    agree = result["stage_agreement"]
    console.print(f"[bold]replay[/bold] {len(result['nights'])} night(s), {result['epochs']} epochs, "
                  f"{result['speed_x_realtime'] or 0:.0f}× real time; edits {result['edits'] or 'none'}; "
                  f"re-ran: {', '.join(result['scope'])}")
    console.print(f"stage agreement with the original: "
                  f"{'—' if agree is None else f'{100 * agree:.1f} %'}")
    for night in result["nights"]:
        if night["recorded_config_retired_keys"]:
            console.print(f"[yellow]note:[/yellow] {escape(night['session'])} was recorded with keys "
                          "this version retired, left out: "
                          f"{', '.join(night['recorded_config_retired_keys'])}")
    if not result["baseline_matches_recording"]:
        console.print(f"[yellow]note:[/yellow] the original replayed gives {result['actions_original']} "
                      f"actions where the journal has {result['actions_recorded']}; the diff "
                      "compares two replays, so it shows the edits' effect alone")
    console.print(f"actions {result['actions_original']} → {result['actions_replayed']}: "
                  f"{len(diff['added'])} added, {len(diff['removed'])} removed, "
                  f"{len(diff['shifted'])} shifted")
    for kind in ("added", "removed", "shifted"):
        for d in diff[kind][:20]:
            shifted = kind == "shifted"
            when = f"{d['t_original']:.0f}s → {d['t_replayed']:.0f}s" if shifted else f"{d['t']:.0f}s"
            console.print(f"  {kind:<8} {d['rule']:<24} {when}")
    console.print(f"suppressed by guard: {result['suppressed_original']} → {result['suppressed_replayed']}")
    if "rewards_original" in result:
        console.print(f"neurofeedback rewards: {result['rewards_original']} → {result['rewards_replayed']}")
    return 0
