"""Bounds and slew-rate limits: every command is checked here before a driver sees it.

:class:`CommandLimiter` turns an asked :class:`~actuators.base.Command` into a
:class:`Verdict`: sent as asked, clamped (to a bound or to the slew limit), queued (the
first step of a slew ramp) or refused, with the reason.

Slew rule. A slew-limited quantity (an elevation, firmness or temperature *target*) moves
like a set-point on a ramp: when a new value is asked while the channel is at rest, the
ramp starts *at that moment* (so a long idle period never buys a large jump), and
:meth:`CommandLimiter.due` releases a step every ``ramp_interval_s``. Two consecutive
values ``v0`` at ``t0`` and ``v1`` at ``t1`` on a channel always satisfy
``|v1 - v0| <= rate * (t1 - t0)``. Values are quantised to the wire resolution
(:data:`RESOLUTION`), rounding toward the previous value and inside the bounds, so the
device's own rounding never adds to a step or crosses a bound.

After a safe stop the device holds wherever it physically is, which may differ from the
last target; :meth:`CommandLimiter.seed` restarts the channel from the read-back value
(clamped into the bounds), so the next ramp starts from where the bed really is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from actuators.base import Command
from actuators.params import ParamError, choice, number
from actuators.vocabulary import ELEVATION_ZONES, FINGERS, FIRMNESS_ZONES, GRIP_PATTERNS, VIBRATION_PATTERNS
from firmware_host.safety.config import HandLimits, SafetyConfig

N_FINGERS = len(FINGERS)
#: Force of a ``set_fingers`` command that gives none (capped by the hand's force limit).
DEFAULT_FINGER_FORCE = 0.5

#: Resolution of each slew-limited quantity on the wire (the mattress protocol sends
#: elevation and temperature in hundredths, firmness in whole levels). Values are
#: quantised to it, rounding toward the previous value, so the device never receives a
#: step larger than the slew limit or a value beyond a bound after the device's rounding.
RESOLUTION = {"elevation": 0.01, "firmness": 1.0, "temperature": 0.01}
#: Smallest ramp step worth a frame (fewer frames and journal lines on slow ramps: a
#: 0.5 °C/min temperature ramp steps 0.1 °C every 12 s instead of 0.01 °C every 1.2 s).
MIN_STEP = {"elevation": 0.1, "firmness": 1.0, "temperature": 0.1}


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
        ``"sent"`` (unchanged), ``"clamped"`` (bounded or slew-limited), ``"queued"``
        (nothing sent yet: a slew ramp starts), ``"ramp"`` (a further step toward an
        earlier asked value) or ``"refused"``.
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
    template: Command
    key: str


@dataclass(frozen=True)
class _Channel:
    lo: float
    hi: float
    rate: float  # units per second
    res: float
    min_step: float


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
        el = (RESOLUTION["elevation"], MIN_STEP["elevation"])
        fi = (RESOLUTION["firmness"], MIN_STEP["firmness"])
        te = (RESOLUTION["temperature"], MIN_STEP["temperature"])
        self._channels: dict[str, _Channel] = {
            "mattress.elevation.head": _Channel(0.0, m.head_elevation_max_deg,
                                                m.elevation_slew_deg_s, *el),
            "mattress.elevation.feet": _Channel(0.0, m.feet_elevation_max_deg,
                                                m.elevation_slew_deg_s, *el),
            **{f"mattress.firmness.{z}": _Channel(m.firmness_min, m.firmness_max,
                                                  m.firmness_slew_per_s, *fi)
               for z in FIRMNESS_ZONES},
            "mattress.temperature": _Channel(m.temperature_min_c, m.temperature_max_c,
                                             m.temperature_slew_c_min / 60.0, *te),
        }
        starts = {"elevation": m.start_elevation_deg, "firmness": m.start_firmness,
                  "temperature": m.start_temperature_c}
        self._last: dict[str, tuple[float, float]] = {}
        for name, ch in self._channels.items():
            start = starts[name.split(".")[1]]
            self._last[name] = (_grid(min(max(start, ch.lo), ch.hi), ch), now)
        self._ramps: dict[str, _Ramp] = {}

    # ------------------------------------------------------------------ public
    @property
    def config(self) -> SafetyConfig:
        """The (frozen) safety configuration enforced."""
        return self._cfg

    @property
    def channels(self) -> tuple[str, ...]:
        """Names of the slew-limited channels."""
        return tuple(self._channels)

    def rate(self, channel: str) -> float:
        """Slew rate of ``channel`` in units per second."""
        return self._channels[channel].rate

    def check(self, command: Command, now: float) -> Verdict:
        """Decide what to send for ``command`` at ``now``.

        A slew-limited request replaces the channel's pending ramp; the value sent is
        recorded only by :meth:`record`.
        """
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
            if now - t_last < self._cfg.ramp_interval_s - 1e-9:
                continue
            ch = self._channels[channel]
            allowed = ch.rate * (now - t_last)
            if allowed < ch.min_step - 1e-9 and abs(ramp.desired - last) > allowed:
                continue  # wait until a worthwhile step (or the rest of the way) is allowed
            value = _toward(last, ramp.desired, allowed, ch.res)
            if value == last:
                continue
            sent = Command(ramp.template.target, ramp.template.action,
                           {**ramp.template.params, ramp.key: value})
            reason = (f"ramp {channel} {last:g} -> {value:g} toward asked {ramp.desired:g} "
                      f"(slew {ch.rate:.4g}/s)")
            out.append(Verdict(ramp.template, sent, "ramp", reason, {channel: value}))
        return out

    def drop_ramps(self, target: str | None = None) -> None:
        """Forget pending ramps of ``target`` (all when ``None``): safe means stop moving."""
        for channel in list(self._ramps):
            if target is None or channel.startswith(f"{target}."):
                del self._ramps[channel]

    def seed(self, channel: str, value: Any, now: float) -> float | None:
        """Restart ``channel`` from a read-back value (clamped into bounds, on the grid).

        Returns the value used, or ``None`` when ``value`` is not a finite number.

        Raises
        ------
        KeyError
            For a channel that is not slew-limited, naming the known channels.
        """
        if channel not in self._channels:
            raise KeyError(f"unknown channel {channel!r}; known: {sorted(self._channels)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return None
        ch = self._channels[channel]
        v = _grid(min(max(float(value), ch.lo), ch.hi), ch)
        self._last[channel] = (v, now)
        self._ramps.pop(channel, None)
        return v

    def seed_from_status(self, target: str, status: dict[str, Any], now: float) -> dict[str, float]:
        """Seed every channel of ``target`` that a driver's ``status()`` reports.

        Understands the mattress read-back (``elevation``: {zone: deg}, ``firmness``:
        {zone: level}, ``temperature``: surface °C). Returns channel -> value used.
        """
        used: dict[str, float] = {}
        if target != "mattress" or not isinstance(status, dict):
            return used
        found: dict[str, Any] = {}
        for key, zones in (("elevation", ELEVATION_ZONES), ("firmness", FIRMNESS_ZONES)):
            block = status.get(key)
            if isinstance(block, dict):
                for zone in zones:
                    found[f"mattress.{key}.{zone}"] = block.get(zone)
        found["mattress.temperature"] = status.get("temperature")
        for channel, value in found.items():
            v = self.seed(channel, value, now)
            if v is not None:
                used[channel] = v
        return used

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

    def _slewed(self, command: Command, base: dict[str, Any], key: str, channel: str,
                value: float, what: str, now: float) -> Verdict:
        """Bound ``value``, then send it now or start / redirect a ramp toward it."""
        ch = self._channels[channel]
        notes: list[str] = []
        desired = _grid(self._bound(value, ch.lo, ch.hi, what, notes), ch)
        last, t_last = self._last[channel]
        moving = channel in self._ramps
        self._ramps.pop(channel, None)
        if desired == last:
            return _verdict(command, {**base, key: desired}, notes, {channel: desired})
        if not moving:
            # at rest: the ramp starts now, so idle time never allows a bigger step
            self._last[channel] = (last, now)
            t_last = now
        step = _toward(last, desired, ch.rate * max(0.0, now - t_last), ch.res)
        if step != desired:
            template = Command(command.target, command.action, {**base, key: desired})
            self._ramps[channel] = _Ramp(desired, template, key)
            notes.append(f"slew limit {ch.rate:.4g}/s: ramping {channel} from {last:g} "
                         f"toward {desired:g}")
        if step == last:
            reason = "; ".join(notes)
            return Verdict(command, None, "queued", reason, {})
        return _verdict(command, {**base, key: step}, notes, {channel: step})

    # ------------------------------------------------------------------ rules
    def _elevation(self, command: Command, now: float) -> Verdict:
        zone = _choice(command.params, "zone", ELEVATION_ZONES)
        return self._slewed(command, {"zone": zone}, "degrees", f"mattress.elevation.{zone}",
                            _num(command.params, "degrees"), f"{zone} elevation", now)

    def _firmness(self, command: Command, now: float) -> Verdict:
        zone = _choice(command.params, "zone", FIRMNESS_ZONES)
        return self._slewed(command, {"zone": zone}, "level", f"mattress.firmness.{zone}",
                            _num(command.params, "level"), f"{zone} firmness", now)

    def _temperature(self, command: Command, now: float) -> Verdict:
        return self._slewed(command, {}, "celsius", "mattress.temperature",
                            _num(command.params, "celsius"), "temperature", now)

    def _vibration(self, command: Command, hi: float) -> Verdict:
        pattern = _choice(command.params, "pattern", VIBRATION_PATTERNS)
        notes: list[str] = []
        intensity = self._bound(_num(command.params, "intensity"), 0.0, hi,
                                "vibration intensity", notes)
        intensity = float(min(round(intensity), math.floor(hi)))  # the wire sends whole levels
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
        return _verdict(command, {"pattern": pattern, "force": _on_grid(force, lim.force_max, 255),
                                  "speed": _on_grid(speed, lim.speed_max, 255)}, notes, {})

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
        asked_force = command.params.get("force", min(DEFAULT_FINGER_FORCE, lim.force_max))
        force = self._bound(_num({"force": asked_force}, "force"), 0.0, lim.force_max,
                            "finger force", notes)
        return _verdict(command, {
            "positions": [_on_grid(p, lim.position_max, 100) for p in sent_pos],
            "speed": _on_grid(speed, lim.speed_max, 255),
            "force": _on_grid(force, lim.force_max, 255),
        }, notes, {})


def _grid(value: float, ch: _Channel) -> float:
    """``value`` on the channel's resolution grid, never outside its bounds."""
    q = round(value / ch.res) * ch.res
    if q > ch.hi + 1e-12:
        q = math.floor(ch.hi / ch.res + 1e-9) * ch.res
    if q < ch.lo - 1e-12:
        q = math.ceil(ch.lo / ch.res - 1e-9) * ch.res
    return round(q, 6)


def _on_grid(value: float, hi: float, per_unit: int) -> float:
    """``value`` (>= 0) rounded to the wire's 1/``per_unit`` grid, never above ``hi``."""
    q = round(value * per_unit)
    if q / per_unit > hi + 1e-12:
        q = math.floor(hi * per_unit + 1e-9)
    return q / per_unit


def _toward(last: float, desired: float, max_step: float, res: float) -> float:
    """Move from ``last`` toward ``desired`` by at most ``max_step``, in whole ``res`` steps."""
    if abs(desired - last) <= max_step + 1e-12:
        return desired
    steps = math.floor(max_step / res + 1e-9)
    return round(last + math.copysign(steps * res, desired - last), 6)


def _num(params: dict[str, Any], key: str, what: str | None = None) -> float:
    try:
        return number(params, key, what=what)
    except ParamError as exc:
        raise Refused(str(exc)) from None


def _choice(params: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    try:
        return choice(params, key, allowed)
    except ParamError as exc:
        raise Refused(str(exc)) from None


def _verdict(
    command: Command, params: dict[str, Any], notes: list[str], updates: dict[str, float]
) -> Verdict:
    sent = Command(command.target, command.action, params)
    outcome = "clamped" if notes else "sent"
    return Verdict(command, sent, outcome, "; ".join(notes), updates)
