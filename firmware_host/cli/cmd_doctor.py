"""``somnoloop doctor [--config FILE] [--json]``: is this machine ready to be the bedside device?"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape

from firmware_host.config import load_config
from firmware_host.service.doctor import Probes, run_checks

_STYLE = {"ok": "green", "FAIL": "bold red", "n/a": "yellow"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``doctor`` sub-command."""
    p = sub.add_parser(
        "doctor", help="check what a bedside install needs and say how to fix each failure",
        description="Checks BrainFlow's native library, the board on its port, serial port "
        "access, the GPIO pin factory, the numba cache, the data directory and its free space, "
        "clock synchronisation and the systemd service. Exit code 1 when any check fails. Run it "
        "as the service user: sudo -u somnoloop somnoloop doctor --config /etc/somnoloop/bedside.toml",
    )
    p.add_argument("--config", help="TOML config to check against (default: built-in)")
    p.add_argument("--json", action="store_true", help='print {"checks": [{"name", "ok", "fix", ...}]}')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run every check; one line each (with the fix when it fails); 1 if any failed."""
    cfg = load_config(args.config)
    checks = run_checks(cfg, Probes())
    failed = any(c.ok is False for c in checks)
    if args.json:
        print(json.dumps({"checks": [c.to_json() for c in checks], "ok": not failed}, indent=2))
        return 1 if failed else 0
    console = Console(highlight=False, emoji=False)  # "serial_port:hand:" is no emoji
    for c in checks:
        line = f"[{_STYLE[c.status]}]{c.status:>4}[/] {c.name}: {escape(c.detail)}"
        if c.ok is not True and c.fix:
            line += f" [dim]→[/dim] {escape(c.fix)}"
        console.print(line, soft_wrap=True)
    return 1 if failed else 0
