"""Rules as data: trigger, actions and guards of one ``[[programme.rules]]`` table.

Every error names the rule (the loader prefixes ``programme.rules[NAME]``), the key, the bad
value and what is allowed. Keys that do not apply to a trigger or action kind are refused
too, so a typo never silently does nothing.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from actuators.vocabulary import GRIP_PATTERNS, VIBRATION_PATTERNS
from firmware_host.config.fields import setting
from firmware_host.programme.outputs import OUTPUTS, TARGETS, expand
from firmware_host.programme.timing import clock_s, duration_s, window_s
from firmware_host.vocabulary import GRIP_INTENTS, STAGES

SLEEP_STAGES = tuple(s for s in STAGES if s != "W")
#: Intent labels a trigger may name: the decoder's classes, and rejected windows.
INTENT_LABELS = (*GRIP_INTENTS, "rejected")
#: Vibration patterns a rule may ask for ("off" is what 0 means).
RUNNING_PATTERNS = tuple(p for p in VIBRATION_PATTERNS if p != "off")

#: Trigger kind -> the trigger keys it uses (besides ``kind``).
TRIGGER_KEYS: dict[str, tuple[str, ...]] = {
    "stage": ("stages", "min_probability", "dwell", "window"),
    "transition": ("from_stages", "to_stages", "min_probability", "window"),
    "sleep_onset": (),
    "arousal": ("stages", "min_probability", "dwell", "window"),
    "signal": ("state", "dwell"),
    "clock": ("at", "window"),
    "intent": ("labels", "min_probability", "force_step"),
    "feature": ("decision", "feature", "above", "below", "dwell", "window"),
    "event": ("decision", "stages", "dwell", "window", "blocks"),
}
#: Decision kinds an ``event`` trigger may time a stimulus on (``firmware_host.microstructure``).
EVENT_DECISIONS = ("slow_oscillation", "spindle")
TRIGGER_KINDS = tuple(TRIGGER_KEYS)

#: Action kind -> the action keys it uses (besides ``kind`` and ``target``).
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "set": ("value", "pattern"),
    "ramp": ("to", "over", "step", "pattern"),
    "profile": ("points", "step", "pattern"),
    "stop": (),
    "hold": (),
    "restore": ("over", "step"),
    "grip": ("grip", "force", "speed"),
}
ACTION_KINDS = tuple(ACTION_KEYS)


def _extra_keys(obj: Any, used: tuple[str, ...], what: str) -> None:
    """Refuse keys set away from their default that ``what`` does not use."""
    for f in dataclasses.fields(obj):
        if f.name in ("kind", "target", *used):
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        value = getattr(obj, f.name)
        if value != default:
            shown = list(value) if isinstance(value, tuple) else value
            raise ValueError(
                f"{f.name} = {shown!r} does not apply to {what}; "
                f"allowed keys: {['kind', *used]}"
            )


@dataclass(frozen=True)
class TriggerConfig:
    """``trigger``: what makes a rule fire. ``kind`` picks the keys that apply."""

    kind: str = setting("", choices=TRIGGER_KINDS, doc="what the rule watches")
    stages: tuple[str, ...] = setting((), choices=STAGES, doc="stage/arousal: stages that match")
    from_stages: tuple[str, ...] = setting((), choices=STAGES, doc="transition: from these")
    to_stages: tuple[str, ...] = setting((), choices=STAGES, doc="transition: to these")
    min_probability: float = setting(0.0, min=0.0, max=1.0,
                                     doc="probability of the decided label needed to match")
    dwell: str | float = setting("0", doc="how long the condition must hold before firing")
    state: str = setting("lost", choices=("lost", "restored"), doc="signal: lost or restored")
    at: str = setting("", doc="clock: fire once at this local time 'HH:MM'")
    window: tuple[str, ...] = setting(
        (), doc="local times ['HH:MM', 'HH:MM']: clock triggers are active inside, others "
        "match only inside")
    labels: tuple[str, ...] = setting((), choices=INTENT_LABELS, doc="intent: labels that match")
    force_step: float = setting(0.0, min=0.0, max=1.0,
                                doc="intent: fire again when the force moves this much (0: never)")
    decision: str = setting("stage", doc="feature: kind of decision publishing the feature")
    feature: str = setting("", doc="feature: key in the decision's details (dots for nesting)")
    above: float | None = setting(None, doc="feature: matches above this value")
    below: float | None = setting(None, doc="feature: matches below this value")
    blocks: tuple[str, ...] = setting(
        (), doc="event: ['ON', 'OFF'] durations alternating from the night's start; stimuli "
        "due in an OFF block are journalled as sham (suppressed), not delivered")

    def __post_init__(self) -> None:
        if not self.kind:
            return  # no trigger given; the rule says so
        _extra_keys(self, TRIGGER_KEYS[self.kind], f"a {self.kind!r} trigger")
        duration_s(self.dwell, "dwell")
        need = {"stage": "stages", "arousal": "stages", "intent": "labels",
                "feature": "feature", "event": "stages"}.get(self.kind)
        if need and not getattr(self, need):
            raise ValueError(f"{need} is missing; a {self.kind!r} trigger needs it")
        if self.kind == "transition" and not (self.from_stages and self.to_stages):
            raise ValueError("a 'transition' trigger needs from_stages and to_stages")
        if self.kind == "clock":
            if bool(self.at) == bool(self.window):
                raise ValueError("a 'clock' trigger needs exactly one of at = 'HH:MM' or "
                                 "window = ['HH:MM', 'HH:MM']")
            if self.at:
                clock_s(self.at, "at")
        if self.window:
            window_s(self.window, "window")
        if self.kind == "feature" and self.above is None and self.below is None:
            raise ValueError("a 'feature' trigger needs above and/or below")
        if self.kind == "event":
            if self.decision not in EVENT_DECISIONS:
                raise ValueError(f"decision = {self.decision!r}: an 'event' trigger times "
                                 f"stimuli on {list(EVENT_DECISIONS)}")
            _ = self.blocks_s  # validates

    @property
    def blocks_s(self) -> tuple[float, float] | None:
        """``blocks`` as (ON, OFF) seconds, or ``None`` without blocks."""
        if not self.blocks:
            return None
        if len(self.blocks) != 2:
            raise ValueError(f"blocks = {list(self.blocks)!r} needs exactly two durations "
                             "['ON', 'OFF'], e.g. ['6m', '6m']")
        on, off = (duration_s(b, "blocks") for b in self.blocks)
        if on <= 0 or off <= 0:
            raise ValueError(f"blocks = {list(self.blocks)!r}: both durations must be > 0")
        return on, off

    @property
    def dwell_s(self) -> float:
        """Dwell in seconds."""
        return duration_s(self.dwell, "dwell")


@dataclass(frozen=True)
class ActionConfig:
    """``actions``: what a firing does to one target."""

    kind: str = setting("set", choices=ACTION_KINDS, doc="what to do")
    target: str = setting("", choices=TARGETS, doc="actuator output or device")
    value: float | None = setting(None, doc="set: the set-point")
    to: float | None = setting(None, doc="ramp: the final set-point")
    over: str | float = setting("0", doc="ramp/restore: duration of the change")
    step: str | float = setting("1m", doc="ramp/profile/restore: time between set-point updates")
    points: tuple[tuple[str, float], ...] = setting(
        (), doc="profile: [[offset, value], ...] after the firing, offsets increasing")
    pattern: str = setting("continuous", choices=RUNNING_PATTERNS, doc="vibration pattern")
    grip: str = setting("intent", choices=("intent", *GRIP_PATTERNS),
                        doc="grip: the pattern, or 'intent' for the decoded one")
    force: float | None = setting(None, doc="grip: fixed force (default: the decoded force)")
    speed: float = setting(0.5, min=0.0, max=1.0, doc="grip: finger speed")

    def __post_init__(self) -> None:
        _extra_keys(self, ACTION_KEYS[self.kind], f"a {self.kind!r} action")
        if not self.target:
            raise ValueError(f"target is missing; allowed: {list(TARGETS)}")
        outs = expand(self.target)
        settable = [n for n, o in OUTPUTS.items() if o.settable]
        if self.kind in ("set", "ramp", "profile") and self.target not in settable:
            raise ValueError(f"target = {self.target!r} takes no {self.kind!r}; "
                             f"allowed: {settable}")
        if self.kind == "grip" and any(OUTPUTS[o].kind != "grip" for o in outs):
            hands = [n for n, o in OUTPUTS.items() if o.kind == "grip"]
            raise ValueError(f"target = {self.target!r} cannot grip; allowed: {hands}")
        if self.kind == "set" and self.value is None:
            raise ValueError("value is missing; a 'set' action needs the set-point")
        if self.kind == "ramp" and self.to is None:
            raise ValueError("to is missing; a 'ramp' action needs the final set-point")
        for key in ("over", "step"):
            duration_s(getattr(self, key), key)
        if self.kind == "restore" and not all(OUTPUTS[o].settable for o in outs):
            raise ValueError(f"target = {self.target!r} has no comfort value to restore; "
                             f"allowed: {[n for n, o in OUTPUTS.items() if o.settable]}")
        if self.kind in ("ramp", "profile", "restore") and self.step_s <= 0:
            raise ValueError(f"step = {self.step!r} must be longer than 0 s")
        if self.kind == "profile":
            if not self.points:
                raise ValueError("points is missing; a 'profile' needs [[offset, value], ...]")
            offsets = [duration_s(o, f"points[{i}][0]") for i, (o, _) in enumerate(self.points)]
            if offsets != sorted(set(offsets)):
                raise ValueError(f"points = {[list(p) for p in self.points]!r}: offsets must "
                                 "increase strictly")
        if self.target in settable:
            out = OUTPUTS[self.target]
            values = [("value", self.value), ("to", self.to)]
            values += [(f"points[{i}][1]", v) for i, (_, v) in enumerate(self.points)]
            for key, v in values:
                if v is not None and not out.lo <= v <= out.hi:
                    raise ValueError(f"{key} = {v!r} is outside what {self.target} takes; "
                                     f"allowed: {out.lo:g} to {out.hi:g}")
        if self.force is not None and not 0.0 <= self.force <= 1.0:
            raise ValueError(f"force = {self.force!r} is outside 0 to 1")

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output names this action drives."""
        return expand(self.target)

    @property
    def over_s(self) -> float:
        """``over`` in seconds."""
        return duration_s(self.over, "over")

    @property
    def step_s(self) -> float:
        """``step`` in seconds."""
        return duration_s(self.step, "step")

    @property
    def points_s(self) -> tuple[tuple[float, float], ...]:
        """Profile points as (seconds after the firing, value)."""
        return tuple((duration_s(o, "points"), float(v)) for o, v in self.points)


@dataclass(frozen=True)
class GuardsConfig:
    """``guards``: what may hold a firing back (each is journalled as ``suppressed``)."""

    min_interval: str | float = setting("0", doc="minimum time between two firings")
    max_per_night: int = setting(0, min=0, doc="most firings per night (0: no limit)")
    group: str = setting("", doc="max_per_night counts every rule of this group")
    quiet_hours: tuple[str, ...] = setting((), doc="never fire inside ['HH:MM', 'HH:MM']")
    exit_probability: float | None = setting(
        None, doc="hysteresis: stay matched until the probability falls below this")

    def __post_init__(self) -> None:
        duration_s(self.min_interval, "min_interval")
        if self.quiet_hours:
            window_s(self.quiet_hours, "quiet_hours")
        if self.exit_probability is not None and not 0.0 <= self.exit_probability <= 1.0:
            raise ValueError(f"exit_probability = {self.exit_probability!r} is outside 0 to 1")

    @property
    def min_interval_s(self) -> float:
        """``min_interval`` in seconds."""
        return duration_s(self.min_interval, "min_interval")


_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class RuleConfig:
    """One rule: a trigger, the actions of a firing, and guards."""

    name: str = setting("", doc="unique rule name (letters, digits, _ and -)")
    enabled: bool = setting(True, doc="a disabled rule never fires")
    priority: int = setting(0, min=0, max=1000,
                            doc="higher wins an actuator output another rule holds")
    trigger: TriggerConfig = setting(factory=TriggerConfig)
    actions: tuple[ActionConfig, ...] = setting((), doc="what a firing does")
    guards: GuardsConfig = setting(factory=GuardsConfig)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"name = {self.name!r} is not allowed; allowed: a non-empty name "
                             "of letters, digits, '_' and '-'")
        if not self.trigger.kind:
            raise ValueError(f"rule {self.name!r}: trigger is missing; a rule needs "
                             f"trigger = {{ kind = ... }}, kinds: {list(TRIGGER_KINDS)}")
        if not self.actions:
            raise ValueError(f"rule {self.name!r}: actions is missing; a rule needs at least "
                             "one [[programme.rules.actions]]")
        ex = self.guards.exit_probability
        if ex is not None:
            if self.trigger.kind not in ("stage", "arousal", "intent"):
                raise ValueError(f"rule {self.name!r}: guards.exit_probability (hysteresis) "
                                 "applies to stage, arousal and intent triggers only")
            if ex > self.trigger.min_probability:
                raise ValueError(
                    f"rule {self.name!r}: guards.exit_probability = {ex} is above "
                    f"trigger.min_probability = {self.trigger.min_probability}; allowed: "
                    "an exit probability at or below the entry probability")
        seen: set[str] = set()
        for a in self.actions:
            for out in a.outputs:
                if out in seen:
                    raise ValueError(f"rule {self.name!r}: two actions drive {out!r}")
                seen.add(out)

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every output this rule drives (it owns them while engaged)."""
        return tuple(o for a in self.actions for o in a.outputs)
