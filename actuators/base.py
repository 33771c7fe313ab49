"""The interface every actuator driver implements, and the errors drivers raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class ActuatorError(RuntimeError):
    """A device refused, timed out or vanished; the message names device and cause."""


@dataclass(frozen=True)
class Command:
    """A request to one actuator.

    Parameters
    ----------
    target
        Actuator name, e.g. ``"mattress"``, ``"hand"``, ``"vibration"``.
    action
        What to do, e.g. ``"set_elevation"``, ``"grip"``.
    params
        Action parameters (JSON-serialisable), e.g. ``{"zone": "head", "degrees": 12.0}``.
    """

    target: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Actuator(Protocol):
    """A device somnoloop can command. Every command has already passed the safety layer."""

    name: str

    def apply(self, command: Command) -> dict[str, Any]:
        """Send one command; return the device's acknowledgement details. Raises ActuatorError."""
        ...

    def safe_state(self) -> None:
        """Go to the documented safe state. Idempotent and never raises."""
        ...

    def status(self) -> dict[str, Any]:
        """Latest read-back (positions, temperatures, faults, heartbeat age…)."""
        ...

    def close(self) -> None:
        """Go safe first, then release the device."""
        ...


# ------------------------------------------------------------------ optional capabilities
# A driver offers these when it can; the safety layer checks them with ``isinstance`` once,
# when it is built, instead of probing attributes on every tick.


@runtime_checkable
class Heartbeating(Protocol):
    """A device with a keep-alive: silence from it means the device is lost."""

    def heartbeat(self, force: bool = False) -> bool:
        """Send a keep-alive when due (or now with ``force``); False when not answered."""
        ...


@runtime_checkable
class Pollable(Protocol):
    """A device whose state can be read back on request."""

    def poll_status(self) -> dict[str, Any]:
        """Ask the device for its state now; raises ActuatorError when it does not answer."""
        ...


@runtime_checkable
class Reconnectable(Protocol):
    """A device that can be re-opened after it was lost (unplugged, reset)."""

    def reconnect(self) -> None:
        """Close and re-open the link; raises ActuatorError when the device is still gone."""
        ...


@runtime_checkable
class Stepped(Protocol):
    """A device moved in software steps (servo ramps, PWM timing) on every loop tick."""

    def update(self, now: float) -> None:
        """Advance to time ``now``."""
        ...
