"""Dry actuation: every command passes the policy and the safety layer and is recorded, but
no device is driven — no port, no pty, no simulator thread.

Used by replay and what-if runs, where the same night must give a byte-identical command
journal every time: a simulator on a pty answers on its own thread with its own timing,
a dry actuator answers at once, on the loop thread, with what it was told.
"""

from __future__ import annotations

from typing import Any

from actuators.base import Command
from firmware_host.actuation.facade import Actuation
from firmware_host.actuation.kinds import configured_kinds
from firmware_host.clock import Clock
from firmware_host.config import Config
from firmware_host.events import EventSink


class DryActuator:
    """Stands in for one actuator: acknowledges every command and remembers it.

    Safe state: nothing moves (there is nothing to move); the request is counted.

    Parameters
    ----------
    name
        The actuator it stands in for (``"mattress"``, ``"hand"`` …).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        #: Every command applied, in order.
        self.log: list[Command] = []
        self.safe_states = 0
        self.closed = False

    def apply(self, command: Command) -> dict[str, Any]:
        """Record ``command``; the acknowledgement says it was dry."""
        self.log.append(command)
        return {"dry": True, "n": len(self.log)}

    def safe_state(self) -> None:
        """Count the request (idempotent, never raises)."""
        self.safe_states += 1

    def status(self) -> dict[str, Any]:
        """No read-back: a dry actuator reports nothing it was not told."""
        return {}

    def close(self) -> None:
        """Go safe, then mark closed."""
        self.safe_state()
        self.closed = True


def dry_actuation(cfg: Config, clock: Clock, sink: EventSink) -> Actuation:
    """An :class:`Actuation` with a :class:`DryActuator` for every configured actuator."""
    actuators = {kind.name: DryActuator(kind.name) for kind in configured_kinds(cfg.actuators)}
    act = Actuation(actuators, cfg.safety, cfg.programme, clock, sink)
    sink.emit("config", {"actuation": {"actuators": sorted(actuators), "simulated": [],
                                       "dry": True, "pin_factory": None, "estop": False}})
    return act
