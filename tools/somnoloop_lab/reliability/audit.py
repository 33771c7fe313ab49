"""The frame audit: was any frame a device received outside the safety bounds or slew limits?

Reads the simulators' own logs of what arrived on their end of the pty — the last word on
what left the process — and checks every value against the ``[safety]`` section, and every
pair of consecutive values on a slew-limited channel against its rate.

A heater switched off (``heater_off``, ``safe_state``) or a device that rebooted while
receiving ends the temperature's set-point sequence: the pad then drifts toward the room,
and the safety layer restarts its ramp from the surface temperature the device reads back
(:meth:`~firmware_host.safety.SafetyLayer.safe_state`), which is what the sleeper feels. The
next set-point is therefore not compared with the one before the heater went off. Elevation
and firmness hold where they are on a stop, so their sequence goes on (stricter: the last
commanded value, not the position reached, is the reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from firmware_host.safety.config import SafetyConfig

_EPS = 1e-6
#: Mattress frames after which the heater is off.
HEATER_OFF = ("heater_off", "safe_state")


@dataclass
class FrameAudit:
    """Bounds and slew violations found in device frame logs.

    Parameters
    ----------
    safety
        The limits the run enforced.
    slack_s
        Timing slack allowed on a slew check (frames are stamped on the device's thread).
    """

    safety: SafetyConfig
    slack_s: float = 0.05
    violations: list[str] = field(default_factory=list)
    checked: int = 0

    def check(self, device: str, frames: list[Any]) -> None:
        """Audit the frames of one device (``FrameRecord`` list, in arrival order)."""
        last: dict[str, tuple[float, float]] = {}
        for f in frames:
            if f.action in HEATER_OFF or (f.error or "").startswith("device reset"):
                last.pop("mattress.temperature", None)
            if not f.accepted:
                continue
            self.checked += 1
            for problem in self._bounds(device, f.action, f.values):
                self.violations.append(f"{device} t={f.t:.3f} {f.action}: {problem}")
            channel = _channel(f.action, f.values)
            if channel is None:
                continue
            name, value, rate = channel[0], channel[1], self._rate(channel[0])
            if name in last:
                t0, v0 = last[name]
                allowed = rate * (f.t - t0 + self.slack_s) + _EPS
                if abs(value - v0) > allowed:
                    self.violations.append(
                        f"{device} t={f.t:.3f} {name}: step {value - v0:+.3f} in {f.t - t0:.3f} s "
                        f"exceeds the slew limit {rate:g}/s")
            last[name] = (f.t, value)

    def _rate(self, channel: str) -> float:
        m = self.safety.mattress
        if ".elevation." in channel:
            return m.elevation_slew_deg_s
        if ".firmness." in channel:
            return m.firmness_slew_per_s
        return m.temperature_slew_c_min / 60.0

    def _bounds(self, device: str, action: str, v: dict[str, Any]) -> list[str]:
        m = self.safety.mattress
        h = self.safety.hand if device == "hand" else self.safety.servo_hand
        out = []

        def need(ok: bool, what: str) -> None:
            if not ok:
                out.append(what)

        if action == "set_elevation":
            hi = m.head_elevation_max_deg if v["zone"] == "head" else m.feet_elevation_max_deg
            need(-_EPS <= v["degrees"] <= hi + _EPS, f"degrees {v['degrees']} outside [0, {hi}]")
        elif action == "set_firmness":
            need(m.firmness_min - _EPS <= v["level"] <= m.firmness_max + _EPS, f"level {v['level']}")
        elif action == "set_temperature":
            need(m.temperature_min_c - _EPS <= v["celsius"] <= m.temperature_max_c + _EPS,
                 f"celsius {v['celsius']}")
        elif action == "set_vibration":
            need(0 <= v["intensity"] <= m.vibration_max_intensity + _EPS, f"intensity {v['intensity']}")
        elif action == "grip":
            need(v["force"] <= h.force_max + _EPS, f"force {v['force']} > {h.force_max}")
            need(v["speed"] <= h.speed_max + _EPS, f"speed {v['speed']} > {h.speed_max}")
        elif action == "set_fingers":
            need(max(v["positions"]) <= h.position_max + _EPS, f"positions {v['positions']}")
            need(v["force"] <= h.force_max + _EPS and v["speed"] <= h.speed_max + _EPS,
                 f"force/speed {v['force']}/{v['speed']}")
        return out


def _channel(action: str, values: dict[str, Any]) -> tuple[str, float] | None:
    if action == "set_elevation":
        return f"mattress.elevation.{values['zone']}", float(values["degrees"])
    if action == "set_firmness":
        return f"mattress.firmness.{values['zone']}", float(values["level"])
    if action == "set_temperature":
        return "mattress.temperature", float(values["celsius"])
    return None
