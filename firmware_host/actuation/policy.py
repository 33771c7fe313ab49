"""The actuation policy: decisions in, commands out (before the safety layer).

Two small rule sets, each configured by its own table:

* ``[policy.stage]`` — a sleep-stage mattress programme. Every final (not provisional),
  confident (probability of the decided stage >= ``min_probability``) stage decision picks a
  mattress set-point: head raised for sleep onset (W, N1), lower in N2, flat and slightly
  cooler in deep sleep (N3), gentle vibration only inside the configured wake window and
  only in light sleep or wake (a "smart alarm"). ``unscorable`` and unconfident decisions
  hold the current set-point. The set-point changes at most every ``min_interval_s``; only
  what changed is sent.
* ``[policy.grip]`` — EMG grip intents: a confident grip label becomes a ``grip`` command
  for each configured hand target with the decoded force; ``rest`` holds the current grip
  (a hand never opens because the wearer relaxed); at most one command per
  ``min_interval_s``, and only when the grip or the force (beyond a dead band) changed.

The policy knows nothing of limits: the safety layer clamps, slews or refuses whatever it
asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actuators.base import Command
from firmware_host.config.durations import parse_duration
from firmware_host.config.fields import setting
from firmware_host.decision import Decision
from firmware_host.vocabulary import GRIP_LABELS, REST_LABELS, STAGES


def _offset(text: str) -> float:
    """Seconds of a time offset like '7h30m'; zero is allowed ('0', '0s')."""
    if text.strip().lower() in ("0", "0s", "0m", "0h"):
        return 0.0
    return parse_duration(text)


@dataclass(frozen=True)
class StagePolicyConfig:
    """``[policy.stage]``: the sleep-stage mattress programme."""

    enabled: bool = setting(True, doc="drive the mattress from sleep stages")
    min_probability: float = setting(0.6, min=0.0, max=1.0, doc="act only on this confidence")
    min_interval_s: float = setting(60.0, min=0.0, max=3600.0, doc="between set-point changes")
    head_deg: tuple[float, ...] = setting(
        (10.0, 10.0, 5.0, 0.0, 5.0), min=0.0, max=45.0,
        doc="head elevation for W, N1, N2, N3, REM (degrees)",
    )
    feet_deg: tuple[float, ...] = setting(
        (0.0, 0.0, 0.0, 0.0, 0.0), min=0.0, max=30.0, doc="feet elevation for W, N1, N2, N3, REM",
    )
    temperature_c: float = setting(28.0, min=10.0, max=40.0, doc="surface temperature")
    n3_cooling_c: float = setting(1.0, min=0.0, max=5.0, doc="cooler by this much in N3")
    wake_window: tuple[str, ...] = setting(
        ("7h", "7h30m"), doc="start and end of the wake window, measured from the run start",
    )
    wake_stages: tuple[str, ...] = setting(
        ("W", "N1", "REM"), choices=STAGES, doc="stages in which the wake vibration may run",
    )
    wake_vibration_intensity: float = setting(20.0, min=0.0, max=100.0)
    wake_vibration_pattern: str = setting("wave", choices=("continuous", "pulse", "wave"))

    def __post_init__(self) -> None:
        for key in ("head_deg", "feet_deg"):
            if len(getattr(self, key)) != len(STAGES):
                raise ValueError(
                    f"policy.stage.{key} needs {len(STAGES)} values ({', '.join(STAGES)}), "
                    f"got {len(getattr(self, key))}"
                )
        if len(self.wake_window) != 2:
            raise ValueError(f"policy.stage.wake_window needs [start, end], got {self.wake_window}")
        start, end = (_offset(t) for t in self.wake_window)
        if not start < end:
            raise ValueError(f"policy.stage.wake_window start must be before end: {self.wake_window}")

    @property
    def wake_window_s(self) -> tuple[float, float]:
        """Wake window in seconds from the run start."""
        start, end = (_offset(t) for t in self.wake_window)
        return start, end


@dataclass(frozen=True)
class GripPolicyConfig:
    """``[policy.grip]``: grip intents to hand commands."""

    enabled: bool = setting(True, doc="drive the hand(s) from grip intents")
    targets: tuple[str, ...] = setting(
        ("hand",), choices=("hand", "servo_hand"), doc="hands that receive grip commands",
    )
    min_probability: float = setting(0.7, min=0.0, max=1.0, doc="act only on this confidence")
    min_interval_s: float = setting(0.1, min=0.0, max=10.0, doc="between grip commands")
    force_deadband: float = setting(0.05, min=0.0, max=1.0, doc="ignore smaller force changes")
    default_force: float = setting(0.5, min=0.0, max=1.0, doc="when a decision carries no force")
    speed: float = setting(0.5, min=0.0, max=1.0, doc="finger speed of grip commands")


@dataclass(frozen=True)
class PolicyConfig:
    """``[policy]``: decisions to commands."""

    stage: StagePolicyConfig = setting(factory=StagePolicyConfig)
    grip: GripPolicyConfig = setting(factory=GripPolicyConfig)


def confidence(decision: Decision) -> float:
    """Probability of the decided label (0 when the decision carries no probabilities)."""
    p = decision.probabilities.get(decision.label, 0.0) if decision.probabilities else 0.0
    try:
        return float(p)
    except (TypeError, ValueError):
        return 0.0


class Policy:
    """Turns decisions into commands by the rules of :class:`PolicyConfig`.

    Parameters
    ----------
    config
        The ``[policy]`` section.
    targets
        Actuator names that exist; commands for others are not produced.
    """

    def __init__(self, config: PolicyConfig, targets: tuple[str, ...] | list[str]) -> None:
        self.config = config
        self.targets = tuple(targets)
        self.reset()

    def reset(self) -> None:
        """Forget the current set-points and the run start."""
        self._t0: float | None = None
        self._mattress: dict[str, Any] = {}
        self._last_stage_change: float | None = None
        self._grip: tuple[str, float] | None = None
        self._last_grip: float | None = None

    def forget(self, target: str | None = None) -> None:
        """Forget what was last asked of ``target`` (all when ``None``), e.g. because the
        safety layer refused it; the next confident decision asks again."""
        if target in (None, "mattress"):
            self._mattress = {}
            self._last_stage_change = None
        if target is None or target in self.config.grip.targets:
            self._grip = None
            self._last_grip = None

    @property
    def started_at(self) -> float | None:
        """Run start the wake window is measured from (``None`` before the first call)."""
        return self._t0

    def start(self, now: float) -> None:
        """Mark the run start (the wake window is measured from it)."""
        self._t0 = now

    def decide(self, decisions: list[Decision], now: float) -> list[Command]:
        """Commands for ``decisions`` observed at time ``now``."""
        if self._t0 is None:
            self._t0 = now
        out: list[Command] = []
        for d in decisions:
            if d.kind == "stage":
                out += self._stage(d, now)
            elif d.kind == "grip":
                out += self._grip_intent(d, now)
        return out

    # ------------------------------------------------------------------ sleep stages
    def setpoint(self, stage: str, elapsed_s: float) -> dict[str, Any]:
        """The mattress set-point for ``stage`` at ``elapsed_s`` into the run."""
        c = self.config.stage
        i = STAGES.index(stage)
        start, end = c.wake_window_s
        waking = start <= elapsed_s < end and stage in c.wake_stages
        return {
            "head": c.head_deg[i],
            "feet": c.feet_deg[i],
            "temperature": c.temperature_c - (c.n3_cooling_c if stage == "N3" else 0.0),
            "vibration": (c.wake_vibration_intensity, c.wake_vibration_pattern)
            if waking else (0.0, "off"),
        }

    def _stage(self, d: Decision, now: float) -> list[Command]:
        c = self.config.stage
        if (not c.enabled or "mattress" not in self.targets or d.label not in STAGES
                or d.details.get("provisional") or confidence(d) < c.min_probability):
            return []
        if self._last_stage_change is not None and now - self._last_stage_change < c.min_interval_s:
            return []
        target = self.setpoint(d.label, now - (self._t0 or 0.0))
        commands = []
        for key in ("head", "feet"):
            if self._mattress.get(key) != target[key]:
                commands.append(Command("mattress", "set_elevation",
                                        {"zone": key, "degrees": target[key]}))
        if self._mattress.get("temperature") != target["temperature"]:
            commands.append(Command("mattress", "set_temperature",
                                    {"celsius": target["temperature"]}))
        if self._mattress.get("vibration", (0.0, "off")) != target["vibration"]:
            intensity, pattern = target["vibration"]
            commands.append(Command("mattress", "set_vibration",
                                    {"intensity": intensity, "pattern": pattern}))
        if commands:
            self._mattress = target
            self._last_stage_change = now
        return commands

    # ------------------------------------------------------------------ grips
    def _grip_intent(self, d: Decision, now: float) -> list[Command]:
        c = self.config.grip
        label = d.label.lower()
        targets = [t for t in c.targets if t in self.targets]
        if not c.enabled or not targets or label in REST_LABELS or label not in GRIP_LABELS:
            return []
        if confidence(d) < c.min_probability:
            return []
        if self._last_grip is not None and now - self._last_grip < c.min_interval_s:
            return []
        force = d.details.get("force", c.default_force)
        if isinstance(force, bool) or not isinstance(force, int | float) or force != force:
            force = c.default_force
        force = min(max(float(force), 0.0), 1.0)
        pattern = GRIP_LABELS[label]
        if (self._grip is not None and self._grip[0] == pattern
                and abs(self._grip[1] - force) < c.force_deadband):
            return []
        self._grip = (pattern, force)
        self._last_grip = now
        return [Command(t, "grip", {"pattern": pattern, "force": force, "speed": c.speed})
                for t in targets]
