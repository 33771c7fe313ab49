"""The lab sub-commands of ``somnoloop``; :func:`register` adds them to the parser.

``firmware_host.cli`` calls :func:`register` only when this package (and its imports)
import, so a device install without lab code simply has no lab commands.
"""

from __future__ import annotations

import argparse
import importlib

#: Lab sub-command modules under ``somnoloop_lab.cli``, in help order.
COMMANDS: tuple[str, ...] = (
    "cmd_emg_eval",
    "cmd_stage_eval",
    "cmd_stage",
    "cmd_bench",
    "cmd_soak",
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add every lab sub-command to ``sub``."""
    for name in COMMANDS:
        importlib.import_module(f"somnoloop_lab.cli.{name}").register(sub)
