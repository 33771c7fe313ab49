"""``somnoloop check-config FILE``: validate a configuration file."""

from __future__ import annotations

import argparse

from rich.console import Console

from firmware_host.config import load_config


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``check-config`` sub-command."""
    p = sub.add_parser("check-config", help="validate a TOML configuration file")
    p.add_argument("file", help="TOML file to validate")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the file; exit 0 when valid (ConfigError → exit 2 via main)."""
    cfg = load_config(args.file)
    Console().print(f"[green]ok[/green] {args.file}: config '{cfg.name}', source '{cfg.source.kind}'")
    return 0
