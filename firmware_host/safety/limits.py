"""Bounds and slew-rate limits: every command is checked here before a driver sees it.

:class:`CommandLimiter` turns an asked :class:`~actuators.base.Command` into a
:class:`Verdict`: sent as asked, clamped (to a bound or to the slew limit) or refused, with
the reason. A slew-limited target is approached in steps: the rest of the way is kept as a
pending ramp and :meth:`CommandLimiter.due` releases the next step every
``ramp_interval_s``, so the decision layer can ask once and the bed still moves no faster
than allowed.

Slew rule (what the invariant tests check): on every channel (e.g. the head elevation
target), two consecutive values ``v0`` at ``t0`` and ``v1`` at ``t1`` satisfy
``|v1 - v0| <= rate * (t1 - t0)``; a channel starts at its configured start value at the
time the limiter is built (or at a read-back value given to :meth:`CommandLimiter.seed`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from actuators.base import Command
from firmware_host.safety.config import HandLimits, SafetyConfig

GRIP_PATTERNS = ("open", "power", "pinch", "tripod", "key", "point")
VIBRATION_PATTERNS = ("off", "continuous", "pulse", "wave")
ELEVATION_ZONES = ("head", "feet")
FIRMNESS_ZONES = ("head", "torso", "legs")
N_FINGERS = 6


@dataclass(frozen=True)
class Verdict:
    """What the limiter made of one asked command.

    Parameters
    ----------
    asked
        The command as the decision layer asked it.
    sent
        The command to send (``None`` when refused).
    outcome
        ``"sent"`` (unchanged), ``"clamped"`` (bounded or slew-limited), ``"ramp"`` (a
        further step toward an earlier asked value) or ``"refused"``.
    reason
        Why, in words (empty when sent unchanged).
    updates
        Channel -> value this command sets (recorded by :meth:`CommandLimiter.record`).
    """

    asked: Command
    sent: Command | None
    outcome: str
    reason: str = ""
    updates: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Journal payload of a ``command`` event."""
        return {
            "target": self.asked.target,
            "action": self.asked.action,
            "asked": dict(self.asked.params),
            "sent": None if self.sent is None else dict(self.sent.params),
            "outcome": self.outcome,
            "reason": self.reason,
        }


class Refused(Exception):
    """Internal: a command cannot be sent; the message is the reason."""


@dataclass
class _Ramp:
    desired: float
    rate: float
    template: Command
    key: str


class CommandLimiter:
    """Checks commands against ``[safety]`` bounds and slew limits.

    Parameters
    ----------
    config
        The safety section (kept as is; it is frozen).
    targets
        Actuator names that exist (commands to others are refused).
    now
        Time at which every slew-limited channel is at its start value.
    """

    def __init__(self, config: SafetyConfig, targets: Iterable[str], now: float) -> None:
        self._cfg = config
        self._targets = frozenset(targets)
        m = config.mattress
        self._rules: dict[tuple[str, str], Callable[[Command, float], Verdict]] = {
            ("mattress", "set_elevation"): self._elevation,
            ("mattress", "set_firmness"): self._firmness,
            ("mattress", "set_temperature"): self._temperature,
            ("mattress", "set_vibration"): self._mattress_vibration,
            ("mattress", "stop"): self._stop,
            ("hand", "grip"): self._grip,
            ("hand", "set_fingers"): self._fingers,
            ("hand", "stop"): self._stop,
            ("servo_hand", "grip"): self._grip,
            ("servo_hand", "set_fingers"): self._fingers,
            ("servo_hand", "stop"): self._stop,
            ("vibration", "set_vibration"): self._gpio_vibration,
            ("vibration", "stop"): self._stop,
        }
        self._last: dict[str, tuple[float, float]] = {}
        for zone in ELEVATION_ZONES:
            self._last[f"mattress.elevation.{zone}"] = (m.start_elevation_deg, now)
        for zone in FIRMNESS_ZONES:
            self._last[f"mattress.firmness.{zone}"] = (m.start_firmness, now)
        self._last["mattress.temperature"] = (m.start_temperature_c, now)
        self._ramps: dict[str, _Ramp] = {}

    # ------------------------------------------------------------------ public
    @property
    def config(self) -> SafetyConfig:
        """The (frozen) safety configuration enforced."""
        return self._cfg

    def check(self, command: Command, now: float) -> Verdict:
        """Decide what to send for ``command`` at time ``now`` (nothing is recorded yet)."""
        if not isinstance(command, Command):
            return Verdict(Command("?", "?"), None, "refused", f"not a Command: {command!r}")
        if command.target not in self._targets:
            return Verdict(
                command, None, "refused",
                f"unknown actuator {command.target!r}; configured: {sorted(self._targets)}",
            )
        rule = self._rules.get((command.target, command.action))
        if rule is None:
            allowed = sorted(a for t, a in self._rules if t == command.target)
            return Verdict(
                command, None, "refused",
                f"unknown action {command.action!r} for {command.target}; allowed: {allowed}",
            )
        if not isinstance(command.params, dict):
            return Verdict(command, None, "refused", "params must be a mapping")
        try:
            return rule(command, now)
        except Refused as exc:
            return Verdict(command, None, "refused", str(exc))

    def record(self, verdict: Verdict, now: float) -> None:
        """Note that ``verdict.sent`` went to the driver at ``now`` (slew state moves on)."""
        for channel, value in verdict.updates.items():
            self._last[channel] = (value, now)
            ramp = self._ramps.get(channel)
            if ramp is not None and abs(ramp.desired - value) <= 1e-9:
                del self._ramps[channel]

    def due(self, now: float) -> list[Verdict]:
        """Next ramp steps whose interval has passed (each still to be :meth:`record`-ed)."""
        out = []
        for channel, ramp in list(self._ramps.items()):
            last, t_last = self._last[channel]
            if now - t_last < self._cfg.ramp_interval_s:
                continue
            value = _toward(last, ramp.desired, ramp.rate * (now - t_last))
            params = dict(ramp.template.params)
            params[ramp.key] = value
            sent = replace(ramp.template, params=params)
            reason = (
                f"ramp {channel} {last:.3f} -> {value:.3f} toward asked {ramp.desired:.3f} "
                f"(slew {ramp.rate:.4g}/s)"
            )
            out.append(Verdict(ramp.template, sent, "ramp", reason, {channel: value}))
        return out

    def drop_ramps(self, target: str | None = None) -> None:
        """Forget pending ramps of ``target`` (all when ``None``): safe means stop moving."""
        for channel in list(self._ramps):
            if target is None or channel.startswith(f"{target}."):
                del self._ramps[channel]

    def seed(self, channel: str, value: float, now: float) -> None:
        """Set a channel's current value from device read-back (e.g. after a safe stop).

        Raises
        ------
        KeyError
            For a channel that is not slew-limited, naming the known channels.
        """
        if channel not in self._last:
            raise KeyError(f"unknown channel {channel!r}; known: {sorted(self._last)}")
        if isinstance(value, int | float) and math.isfinite(value):
            self._last[channel] = (float(value), now)

    def last(self, channel: str) -> float:
        """Last value sent (or seeded) on a slew-limited channel."""
        return self._last[channel][0]

    @property
    def pending(self) -> dict[str, float]:
        """Channel -> asked value still being ramped toward."""
        return {c: r.desired for c, r in self._ramps.items()}

    # ------------------------------------------------------------------ helpers
    def _bound(self, value: float, lo: float, hi: float, what: str, notes: list[str]) -> float:
        if lo <= value <= hi:
            return value
        if self._cfg.on_violation == "refuse":
            raise Refused(f"{what} {value:g} outside [{lo:g}, {hi:g}] (on_violation = refuse)")
        clamped = min(max(value, lo), hi)
        notes.append(f"{what} {value:g} clamped to {clamped:g} (allowed [{lo:g}, {hi:g}])")
        return clamped

    def _slewed(
        self, command: Command, base: dict[str, Any], key: str, channel: str, desired: float,
        rate: float, now: float, notes: list[str],
    ) -> Verdict:
        """Limit ``base[key] = desired`` on ``channel``; only the keys of ``base`` are sent."""
        last, t_last = self._last[channel]
        value = _toward(last, desired, rate * max(0.0, now - t_last))
        self._ramps.pop(channel, None)
        if value != desired:
            template = Command(command.target, command.action, {**base, key: desired})
            self._ramps[channel] = _Ramp(desired, rate, template, key)
            notes.append(
                f"slew limit {rate:.4g}/s: {channel} {last:.3f} -> {value:.3f}, "
                f"ramping toward {desired:g}"
            )
        return _verdict(command, {**base, key: value}, notes, {channel: value})

    # ------------------------------------------------------------------ rules
    def _elevation(self, command: Command, now: float) -> Verdict:
        m = self._cfg.mattress
        zone = _choice(command.params, "zone", ELEVATION_ZONES)
        hi = m.head_elevation_max_deg if zone == "head" else m.feet_elevation_max_deg
        notes: list[str] = []
        degrees = self._bound(_num(command.params, "degrees"), 0.0, hi, f"{zone} elevation", notes)
        return self._slewed(command, {"zone": zone}, "degrees", f"mattress.elevation.{zone}", degrees,
                            m.elevation_slew_deg_s, now, notes)

    def _firmness(self, command: Command, now: float) -> Verdict:
        m = self._cfg.mattress
        zone = _choice(command.params, "zone", FIRMNESS_ZONES)
        notes: list[str] = []
        level = self._bound(_num(command.params, "level"), m.firmness_min, m.firmness_max,
                            f"{zone} firmness", notes)
        return self._slewed(command, {"zone": zone}, "level", f"mattress.firmness.{zone}", level,
                            m.firmness_slew_per_s, now, notes)

    def _temperature(self, command: Command, now: float) -> Verdict:
        m = self._cfg.mattress
        notes: list[str] = []
        celsius = self._bound(_num(command.params, "celsius"), m.temperature_min_c,
                              m.temperature_max_c, "temperature", notes)
        return self._slewed(command, {}, "celsius", "mattress.temperature", celsius,
                            m.temperature_slew_c_min / 60.0, now, notes)

    def _vibration(self, command: Command, hi: float) -> Verdict:
        pattern = _choice(command.params, "pattern", VIBRATION_PATTERNS)
        notes: list[str] = []
        intensity = self._bound(_num(command.params, "intensity"), 0.0, hi,
                                "vibration intensity", notes)
        return _verdict(command, {"intensity": intensity, "pattern": pattern}, notes, {})

    def _mattress_vibration(self, command: Command, now: float) -> Verdict:
        return self._vibration(command, self._cfg.mattress.vibration_max_intensity)

    def _gpio_vibration(self, command: Command, now: float) -> Verdict:
        return self._vibration(command, self._cfg.vibration.max_intensity)

    def _stop(self, command: Command, now: float) -> Verdict:
        self.drop_ramps(command.target)
        return Verdict(command, Command(command.target, "stop", {}), "sent", "", {})

    def _hand_limits(self, target: str) -> HandLimits:
        return self._cfg.servo_hand if target == "servo_hand" else self._cfg.hand

    def _grip(self, command: Command, now: float) -> Verdict:
        lim = self._hand_limits(command.target)
        pattern = _choice(command.params, "pattern", GRIP_PATTERNS)
        notes: list[str] = []
        force = self._bound(_num(command.params, "force"), 0.0, lim.force_max, "grip force", notes)
        speed = self._bound(_num(command.params, "speed"), 0.0, lim.speed_max, "grip speed", notes)
        return _verdict(command, {"pattern": pattern, "force": force, "speed": speed}, notes, {})

    def _fingers(self, command: Command, now: float) -> Verdict:
        lim = self._hand_limits(command.target)
        positions = command.params.get("positions")
        if not isinstance(positions, list | tuple) or not 1 <= len(positions) <= N_FINGERS:
            raise Refused(f"positions must be a list of 1..{N_FINGERS} numbers, got {positions!r}")
        notes: list[str] = []
        sent_pos = [
            self._bound(_num({"p": p}, "p", f"finger {i} position"), 0.0, lim.position_max,
                        f"finger {i} position", notes)
            for i, p in enumerate(positions)
        ]
        speed = self._bound(_num(command.params, "speed"), 0.0, lim.speed_max, "finger speed",
                            notes)
        return _verdict(command, {"positions": sent_pos, "speed": speed}, notes, {})


def _toward(last: float, desired: float, max_step: float) -> float:
    if abs(desired - last) <= max_step:
        return desired
    return last + math.copysign(max_step, desired - last)


def _num(params: dict[str, Any], key: str, what: str | None = None) -> float:
    if key not in params:
        raise Refused(f"missing parameter {key!r}")
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused(f"{what or key} must be a finite number, got {value!r}")
    return float(value)


def _choice(params: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = params.get(key)
    if value not in allowed:
        raise Refused(f"{key} {value!r} is not allowed; allowed: {list(allowed)}")
    return value


def _verdict(
    command: Command, params: dict[str, Any], notes: list[str], updates: dict[str, float]
) -> Verdict:
    sent = Command(command.target, command.action, params)
    outcome = "clamped" if notes else "sent"
    return Verdict(command, sent, outcome, "; ".join(notes), updates)
