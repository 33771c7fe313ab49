"""The outputs a programme drives: one entry per actuator output, and the command for a value.

An *output* is the unit of ownership: one rule at a time drives it. A device with several
independent outputs (the mattress: head and feet sections, heater, vibration motor) is
several outputs, so a temperature schedule and a rocking vibration can run side by side.
A rule may name a whole device (``"mattress"``) for ``stop``, ``hold`` and ``restore``;
it then means every output of that device.
"""

from __future__ import annotations

from dataclasses import dataclass

from actuators.base import Command
from actuators.mattress_protocol import ELEVATION_MAX_DEG, TEMPERATURE_RANGE_C


@dataclass(frozen=True)
class Output:
    """One drivable output.

    Parameters
    ----------
    name
        ``device.output`` or the device name for single-output devices.
    device
        Actuator name the commands go to.
    kind
        ``"elevation"``, ``"temperature"``, ``"vibration"`` or ``"grip"``.
    resolution
        Values closer than this are the same set-point (no new command).
    comfort
        Key of :class:`~firmware_host.programme.config.ComfortConfig` holding the output's
        comfort value (``""``: the comfort value is 0, or none for a hand).
    lo, hi
        Set-points a rule may ask for (the device's own range; the ``[safety]`` bounds,
        usually narrower, are applied by the safety layer).
    """

    name: str
    device: str
    kind: str
    resolution: float
    comfort: str = ""
    lo: float = 0.0
    hi: float = 0.0

    def set(self, value: float, pattern: str = "continuous") -> Command:
        """The command that sets this output to ``value``."""
        v = round(float(value), 3)
        if self.kind == "elevation":
            return Command(self.device, "set_elevation",
                           {"zone": self.name.split(".")[1], "degrees": v})
        if self.kind == "temperature":
            return Command(self.device, "set_temperature", {"celsius": v})
        if self.kind == "vibration":
            return Command(self.device, "set_vibration",
                           {"intensity": v, "pattern": pattern if v > 0 else "off"})
        raise ValueError(f"{self.name} takes no set-point (use a grip action)")

    def stop(self) -> Command:
        """Stop: a vibration goes off, anything else holds where it is."""
        if self.kind == "vibration":
            return self.set(0.0)
        return Command(self.device, "stop", {})

    @property
    def settable(self) -> bool:
        """Does the output take a numeric set-point."""
        return self.kind != "grip"


OUTPUTS: dict[str, Output] = {o.name: o for o in (
    Output("mattress.head", "mattress", "elevation", 0.1, "head_deg", 0.0,
           ELEVATION_MAX_DEG["head"]),
    Output("mattress.feet", "mattress", "elevation", 0.1, "feet_deg", 0.0,
           ELEVATION_MAX_DEG["feet"]),
    Output("mattress.temperature", "mattress", "temperature", 0.05, "temperature_c",
           *TEMPERATURE_RANGE_C),
    Output("mattress.vibration", "mattress", "vibration", 1.0, "", 0.0, 100.0),
    Output("vibration", "vibration", "vibration", 1.0, "", 0.0, 100.0),
    Output("hand", "hand", "grip", 0.0),
    Output("servo_hand", "servo_hand", "grip", 0.0),
)}

DEVICES: tuple[str, ...] = tuple(dict.fromkeys(o.device for o in OUTPUTS.values()))

#: Every name a rule may target: outputs and whole devices.
TARGETS: tuple[str, ...] = tuple(dict.fromkeys((*OUTPUTS, *DEVICES)))


def expand(target: str) -> tuple[str, ...]:
    """Output names of ``target`` (an output, or every output of a device).

    Raises
    ------
    ValueError
        For an unknown name, listing the allowed ones.
    """
    if target in OUTPUTS:
        return (target,)
    outs = tuple(o.name for o in OUTPUTS.values() if o.device == target)
    if not outs:
        raise ValueError(f"unknown actuator {target!r}; allowed: {list(TARGETS)}")
    return outs
