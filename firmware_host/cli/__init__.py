"""The ``somnoloop`` command line. Each sub-command lives in its own module with
``register(subparsers)``; add a module's name to :data:`COMMANDS` to install it.

Lab sub-commands (training, evaluation, benchmarks) live in :mod:`somnoloop_lab.cli` and are
added only when that package imports; without it ``--help`` says why they are missing.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from firmware_host import __version__
from firmware_host.errors import UsageError

#: Sub-command modules under ``firmware_host.cli``, in help order.
COMMANDS: tuple[str, ...] = (
    "cmd_run",
    "cmd_info",
    "cmd_sessions",
    "cmd_check_config",
    "cmd_sim",
    "cmd_calibrate_emg",
    "cmd_doctor",
    "cmd_report",
    "cmd_export",
    "cmd_status",
    "cmd_tune",
    "cmd_replay",
)


def _register_lab(sub: argparse._SubParsersAction) -> str:
    """Add the lab sub-commands when :mod:`somnoloop_lab` imports; else say why not (epilog)."""
    try:
        from somnoloop_lab.cli import register
    except ImportError as exc:
        return f"Lab commands are not installed (cannot import {exc.name or 'somnoloop_lab'}: {exc})."
    register(sub)
    return ""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (argparse adds the usage; ``--help`` has it)."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE`` and where the usage is, then exit with code 2."""
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = _Parser(
        prog="somnoloop",
        description="Closed-loop sleep and neurofeedback controller.",
    )
    parser.add_argument("--version", action="version", version=f"somnoloop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"firmware_host.cli.{name}").register(sub)
    parser.epilog = _register_lab(sub) or None
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``somnoloop`` console script; returns the exit code.

    Bad input (config errors, bad arguments, missing files) prints one clear line and
    exits with code 2, without a traceback.
    """
    # a Ctrl-C while the sub-commands import (seconds on a Pi) is held until they are in:
    # an import cut short leaves half-initialised modules and a traceback
    interrupted: list[int] = []
    held = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, lambda signum, _f: interrupted.append(signum)) if held else None
    try:
        from firmware_host.config import ConfigError

        parser = build_parser()
    finally:
        if held:
            signal.signal(signal.SIGINT, previous)
    if interrupted:
        return _interrupted("somnoloop", "before it started; nothing was recorded")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ConfigError, UsageError) as exc:
        print(f"somnoloop {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside a run's own signal handling (which ends it cleanly)
        return _interrupted(f"somnoloop {args.command}", "")


def _interrupted(who: str, detail: str) -> int:
    """One line for a Ctrl-C that no command handled; exit code 130."""
    print(f"{who}: interrupted (Ctrl-C){' ' + detail if detail else ''}", file=sys.stderr)
    return 130
