"""``somnoloop check-config FILE``: validate a configuration file."""

from __future__ import annotations

import argparse

from rich.console import Console

from firmware_host.config import ConfigError, load_config
from firmware_host.neurofeedback.config import check_synthetic_layout
from firmware_host.runtime.build import require_eeg_for_staging


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
        if cfg.source.kind == "synthetic":  # other sources' channels are known when they open
            syn = cfg.source.synthetic
            names = syn.eeg_channels + syn.eog_channels + syn.emg_channels
            types = ("eeg",) * len(syn.eeg_channels) + ("eog",) * len(syn.eog_channels) \
                + ("emg",) * len(syn.emg_channels)
            require_eeg_for_staging(cfg, names, types)
    except ValueError as exc:  # UsageError included
        raise ConfigError(f"{args.file}: {exc}") from None
    Console().print(f"[green]ok[/green] {args.file}: config '{cfg.name}', source '{cfg.source.kind}'")
    return 0
