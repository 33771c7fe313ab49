"""Closed-loop programmes: rules (trigger, actions, guards) from decisions and time to commands.

Every firing is journalled as an ``action`` with its evidence and commands, every guard
that holds one back as a ``suppressed``. See :class:`~firmware_host.programme.engine.Engine`
and the README section "Programmes".
"""

from firmware_host.programme.config import ComfortConfig, ProgrammeConfig
from firmware_host.programme.engine import Engine, night_start_of

__all__ = ["ComfortConfig", "Engine", "ProgrammeConfig", "night_start_of"]
