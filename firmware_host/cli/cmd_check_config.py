"""``somnoloop check-config FILE``: validate a configuration file."""

from __future__ import annotations

import argparse

from rich.console import Console

from firmware_host.config import ConfigError, load_config
from firmware_host.neurofeedback.config import check_synthetic_layout


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``check-config`` sub-command."""
    p = sub.add_parser("check-config", help="validate a TOML configuration file")
    p.add_argument("file", help="TOML file to validate")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the file; exit 0 when valid (ConfigError → exit 2 via main)."""
    cfg = load_config(args.file)
    try:
        check_synthetic_layout(cfg)
    except ValueError as exc:
        raise ConfigError(f"{args.file}: {exc}") from None
    Console().print(f"[green]ok[/green] {args.file}: config '{cfg.name}', source '{cfg.source.kind}'")
    return 0
