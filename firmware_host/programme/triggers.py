"""Triggers: decide from the decision stream and time when a rule fires.

Every trigger is edge-triggered: it *fires* when its condition becomes true (after its
dwell) and is *active* while the condition lasts; a rule keeps the outputs it drives while
its trigger is active or its profile runs. A condition sustained for a dwell counts from
the end of the last decision that did not match (the start of the first matching epoch).

Only final stage decisions count (``details.provisional`` ones are previews). Times are
engine times (seconds since the night started), given by the engine.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from firmware_host.decision import Decision
from firmware_host.programme.journal import decision_evidence, when
from firmware_host.programme.rules import SLEEP_STAGES, TriggerConfig
from firmware_host.programme.timing import inside, local_clock, night_s, offset_after_start, window_s
from firmware_host.vocabulary import GRIP_LABELS, REST_LABELS

EVIDENCE_KEPT = 8


@dataclass
class Fire:
    """A trigger's verdict on one decision or instant.

    ``fire``: the rule should fire now, with ``evidence``; ``held``: a firing held back
    (journalled as ``suppressed``): by hysteresis, or by the trigger itself when ``reason``
    gives ``(guard, text)``.
    """

    fire: bool = False
    held: bool = False
    evidence: dict[str, Any] = field(default_factory=dict)
    decision: Decision | None = None
    reason: tuple[str, str] | None = None


@dataclass
class NightContext:
    """Facts of the night shared by all triggers (kept by the engine)."""

    night_start_s: float
    persistent_sleep_s: float
    onset_t: float | None = None
    onset_sample: int | None = None
    onset_fresh: bool = False
    _run_start: float | None = None
    _run_sample: int | None = None
    _prev_t: float | None = None

    def update(self, d: Decision, t: float) -> None:
        """Track sleep onset: the first epoch of ``persistent_sleep_s`` uninterrupted sleep."""
        self.onset_fresh = False
        if not is_final_stage(d):
            return
        if self.onset_t is None:
            if d.label in SLEEP_STAGES:
                if self._run_start is None:
                    self._run_start = self._prev_t if self._prev_t is not None else t
                    self._run_sample = d.sample
                if t - self._run_start >= self.persistent_sleep_s - 1e-9:
                    self.onset_t, self.onset_sample = self._run_start, self._run_sample
                    self.onset_fresh = True
            else:
                self._run_start = self._run_sample = None
        self._prev_t = t


def is_final_stage(d: Decision) -> bool:
    """A stage decision that is not provisional."""
    return d.kind == "stage" and not d.details.get("provisional", False)


def probability(d: Decision, label: str | None = None) -> float:
    """Probability of ``label`` (default: the decided one); for its own label a grip
    decision's ``details.confidence`` (the decoder's post-processed confidence) wins."""
    lab = d.label if label is None else label
    p = d.probabilities.get(lab) if d.probabilities else None
    if d.kind == "grip" and lab == d.label and "confidence" in d.details:
        p = d.details["confidence"]
    try:
        v = float(p) if p is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


class Sustain:
    """A condition held for a dwell, with optional hysteresis (an easier exit condition)."""

    def __init__(self, dwell_s: float) -> None:
        self.dwell_s = dwell_s
        self.active = False
        self._start: float | None = None
        self._prev_t: float | None = None
        self._slipped = False
        self._kept: deque[dict[str, Any]] = deque(maxlen=EVIDENCE_KEPT)
        self._n = 0

    def rearm(self) -> None:
        """Back to not matched; the dwell counts again from the next match."""
        self.active = self._slipped = False
        self._start = None

    def update(self, match: bool, hold: bool, d: Decision, t: float) -> Fire | None:
        """Feed one relevant decision: ``match`` = entry condition, ``hold`` = stays matched."""
        prev, self._prev_t = self._prev_t, t
        if self.active:
            if match:
                if self._slipped:
                    self._slipped = False
                    return Fire(held=True, decision=d, evidence=self._evidence(d, t))
                return None
            if hold:
                self._slipped = True
                return None
            self.active = self._slipped = False
            self._start = None
            return None
        if not match:
            self._start = None
            return None
        if self._start is None:
            self._start = prev if prev is not None else t
            self._kept.clear()
            self._n = 0
        self._kept.append(decision_evidence(d, t))
        self._n += 1
        if t - self._start >= self.dwell_s - 1e-9:
            self.active = True
            return Fire(fire=True, decision=d, evidence=self._evidence(d, t))
        return None

    def _evidence(self, d: Decision, t: float) -> dict[str, Any]:
        kept = list(self._kept) if self._kept else [decision_evidence(d, t)]
        return {"decisions": kept, "matched": self._n,
                "since": when(self._start if self._start is not None else t)}


class Trigger:
    """Base: a trigger sees decisions (:meth:`observe`) and time (:meth:`at_time`)."""

    kind = ""

    def __init__(self, cfg: TriggerConfig, exit_probability: float | None,
                 ctx: NightContext) -> None:
        self.cfg = cfg
        self.exit_p = exit_probability
        self.ctx = ctx

    @property
    def active(self) -> bool:
        """The condition holds now (the rule keeps its outputs)."""
        return False

    def rearm(self) -> None:
        """Forget that the condition holds, so its next match fires again (after the
        safety layer refused what the last firing asked for)."""

    def in_window(self, t: float) -> bool:
        """Inside the trigger's local-time ``window`` (always, without one)."""
        return not self.cfg.window or inside(self.ctx.night_start_s, self.cfg.window, t, "window")

    def observe(self, d: Decision, t: float) -> Fire | None:
        """Verdict on one decision at engine time ``t``."""
        return None

    def next_due(self) -> float | None:
        """Next engine time at which :meth:`at_time` has something to do."""
        return None

    def at_time(self, t: float) -> Fire | None:
        """Verdict at a due time."""
        return None


class StageTrigger(Trigger):
    """``stage``: a stage in ``stages`` decided with ``min_probability``, for ``dwell``."""

    kind = "stage"

    def __init__(self, cfg: TriggerConfig, exit_probability: float | None,
                 ctx: NightContext) -> None:
        super().__init__(cfg, exit_probability, ctx)
        self.sustain = Sustain(cfg.dwell_s)

    @property
    def active(self) -> bool:  # noqa: D102
        return self.sustain.active

    def rearm(self) -> None:  # noqa: D102
        self.sustain.rearm()

    def _relevant(self, d: Decision) -> bool:
        return is_final_stage(d)

    def observe(self, d: Decision, t: float) -> Fire | None:  # noqa: D102
        if not self._relevant(d):
            return None
        here = self.in_window(t)
        match = here and d.label in self.cfg.stages and probability(d) >= self.cfg.min_probability
        hold = match
        if self.exit_p is not None and here and not match:
            hold = sum(probability(d, s) for s in self.cfg.stages) >= self.exit_p
        return self.sustain.update(match, hold, d, t)


class ArousalTrigger(StageTrigger):
    """``arousal``: wake (or ``stages``) after sleep onset, for ``dwell``."""

    kind = "arousal"

    def _relevant(self, d: Decision) -> bool:
        return is_final_stage(d) and self.ctx.onset_t is not None

    def observe(self, d: Decision, t: float) -> Fire | None:  # noqa: D102
        out = super().observe(d, t)
        if out is not None and out.fire:
            out.evidence["sleep_onset_sample"] = self.ctx.onset_sample
        return out


class TransitionTrigger(Trigger):
    """``transition``: the scored stage goes from ``from_stages`` to ``to_stages``."""

    kind = "transition"

    def __init__(self, cfg: TriggerConfig, exit_probability: float | None,
                 ctx: NightContext) -> None:
        super().__init__(cfg, exit_probability, ctx)
        self._last: tuple[str, dict[str, Any]] | None = None

    def observe(self, d: Decision, t: float) -> Fire | None:  # noqa: D102
        if not is_final_stage(d) or d.label == "unscorable":
            return None
        last, self._last = self._last, (d.label, decision_evidence(d, t))
        if (last is not None and last[0] in self.cfg.from_stages and last[0] != d.label
                and d.label in self.cfg.to_stages and self.in_window(t)
                and probability(d) >= self.cfg.min_probability):
            return Fire(fire=True, decision=d,
                        evidence={"decisions": [last[1], decision_evidence(d, t)]})
        return None


class SleepOnsetTrigger(Trigger):
    """``sleep_onset``: once, when the first epoch of persistent sleep is known."""

    kind = "sleep_onset"

    def observe(self, d: Decision, t: float) -> Fire | None:  # noqa: D102
        if not self.ctx.onset_fresh:
            return None
        return Fire(fire=True, decision=d, evidence={
            "decisions": [decision_evidence(d, t)],
            "onset_sample": self.ctx.onset_sample,
            "onset_t": when(self.ctx.onset_t if self.ctx.onset_t is not None else t),
            "persistent_sleep_s": self.ctx.persistent_sleep_s,
        })


class SignalTrigger(Trigger):
    """``signal``: quality decisions ``bad`` for ``dwell`` (lost), then ``ok`` for ``dwell``
    (restored)."""

    kind = "signal"

    def __init__(self, cfg: TriggerConfig, exit_probability: float | None,
                 ctx: NightContext) -> None:
        super().__init__(cfg, exit_probability, ctx)
        self.lost = Sustain(cfg.dwell_s)
        self.back = Sustain(cfg.dwell_s)
        self._was_lost = False

    @property
    def active(self) -> bool:  # noqa: D102
        return self.lost.active if self.cfg.state == "lost" else False

    def observe(self, d: Decision, t: float) -> Fire | None:  # noqa: D102
        if d.kind != "quality":
            return None
        bad = d.label != "ok"
        lost = self.lost.update(bad, bad, d, t)
        if self.cfg.state == "lost":
            return lost
        if lost is not None and lost.fire:
            self._was_lost = True
            self.back = Sustain(self.cfg.dwell_s)
            return None
        if not self._was_lost:
            return None
        back = self.back.update(not bad, not bad, d, t)
        if back is not None and back.fire:
            self._was_lost = False
            return back
        return None


class ClockTrigger(Trigger):
    """``clock``: at a local time (``at``), or active inside a ``window`` (fires at its start)."""

    kind = "clock"

    def __init__(self, cfg: TriggerConfig, exit_probability: float | None,
                 ctx: NightContext) -> None:
        super().__init__(cfg, exit_probability, ctx)
        if cfg.at:
            pos = night_s(cfg.at, "at")
            self._start, self._end = pos, pos
        else:
            self._start, self._end = window_s(cfg.window, "window")
        self._start = offset_after_start(ctx.night_start_s, self._start)
        self._end = offset_after_start(ctx.night_start_s, self._end)
        self._fired = False
        self._inside = False
        if self._end < 0 or (cfg.at and self._start < 0):
            self._fired = True  # that time of the night was over before the night began

    @property
    def active(self) -> bool:  # noqa: D102
        return self._inside

    def next_due(self) -> float | None:  # noqa: D102
        if not self._fired:
            return max(self._start, 0.0)
        if self._inside:
            return self._end
        return None

    def at_time(self, t: float) -> Fire | None:  # noqa: D102
        if not self._fired and t >= self._start:
            self._fired = True
            self._inside = not self.cfg.at
            what = self.cfg.at or f"{self.cfg.window[0]}-{self.cfg.window[1]}"
            return Fire(fire=True, evidence={
                "clock": what, "local_time": local_clock(self.ctx.night_start_s, t)})
        if self._inside and t >= self._end:
            self._inside = False
        return None


class IntentTrigger(Trigger):
    """``intent``: an EMG grip intent in ``labels`` (``"rejected"`` matches rejected windows)."""

    kind = "intent"

    def __init__(self, cfg: TriggerConfig, exit_probability: float | None,
                 ctx: NightContext) -> None:
        super().__init__(cfg, exit_probability, ctx)
        self._active = False
        self._label: str | None = None
        self._force = 0.0
        self._slipped = False

    @property
    def active(self) -> bool:  # noqa: D102
        return self._active

    def rearm(self) -> None:  # noqa: D102
        self._active = self._slipped = False
        self._label = None

    def observe(self, d: Decision, t: float) -> Fire | None:  # noqa: D102
        if d.kind != "grip":
            return None
        rejected = bool(d.details.get("rejected", False))
        label = "rejected" if rejected else intent_of(d.label)
        p = probability(d)
        match = label in self.cfg.labels and (rejected or p >= self.cfg.min_probability)
        force = _number(d.details.get("force"))
        ev = {"decisions": [decision_evidence(d, t)], "force": force}
        if not match:
            hold = (self._active and self.exit_p is not None and label == self._label
                    and p >= self.exit_p)
            self._slipped = self._slipped or hold
            self._active = hold
            return None
        if self._active and label == self._label:
            if self._slipped:
                self._slipped = False
                return Fire(held=True, decision=d, evidence=ev)
            step = self.cfg.force_step
            if step > 0 and force is not None and abs(force - self._force) >= step:
                self._force = force
                return Fire(fire=True, decision=d, evidence=ev)
            return None
        self._active, self._label, self._slipped = True, label, False
        self._force = force if force is not None else 0.0
        return Fire(fire=True, decision=d, evidence=ev)


class FeatureTrigger(Trigger):
    """``feature``: a number a stage publishes in ``details`` above/below a threshold."""

    kind = "feature"

    def __init__(self, cfg: TriggerConfig, exit_probability: float | None,
                 ctx: NightContext) -> None:
        super().__init__(cfg, exit_probability, ctx)
        self.sustain = Sustain(cfg.dwell_s)
        self._path = cfg.feature.split(".")

    @property
    def active(self) -> bool:  # noqa: D102
        return self.sustain.active

    def rearm(self) -> None:  # noqa: D102
        self.sustain.rearm()

    def observe(self, d: Decision, t: float) -> Fire | None:  # noqa: D102
        if d.kind != self.cfg.decision or d.details.get("provisional", False):
            return None
        node: Any = d.details
        for part in self._path:
            node = node.get(part) if isinstance(node, dict) else None
        v = _number(node)
        match = (v is not None and self.in_window(t)
                 and (self.cfg.above is None or v > self.cfg.above)
                 and (self.cfg.below is None or v < self.cfg.below))
        out = self.sustain.update(match, match, d, t)
        if out is not None and out.fire:
            out.evidence["feature"] = {"name": self.cfg.feature, "value": v}
        return out


class EventTrigger(Trigger):
    """``event``: a stimulus timed by a microstructure decision, in stable sleep only.

    A ``slow_oscillation`` decision (``on_time``) schedules the firing at its stimulus time
    (``details.stimulus_delay_s`` after it); a ``spindle`` onset fires at once. Only while
    the final stage has been in ``stages`` for ``dwell`` and inside ``window``; one stimulus
    pending at a time. A final stage outside ``stages`` (an arousal, lighter sleep) cancels
    the pending stimulus (``suppressed``, guard ``arousal``) and stability must build up
    again. With ``blocks = [ON, OFF]`` (alternating from the night's start) a stimulus due in
    an OFF block is journalled as ``suppressed`` with guard ``sham`` — the within-night sham
    comparison. The evidence carries the decision's predicted phase fields.
    """

    kind = "event"
    PHASE_KEYS = ("target_phase_deg", "predicted_upstate_sample", "stimulus_sample",
                  "period_s", "trough_uv", "method", "onset_sample", "latency_s")

    def __init__(self, cfg: TriggerConfig, exit_probability: float | None,
                 ctx: NightContext) -> None:
        super().__init__(cfg, exit_probability, ctx)
        self.stable = Sustain(cfg.dwell_s)
        self.blocks = cfg.blocks_s
        self._pending: tuple[float, Decision, dict[str, Any]] | None = None

    def rearm(self) -> None:  # noqa: D102
        self._pending = None

    def next_due(self) -> float | None:  # noqa: D102
        return self._pending[0] if self._pending is not None else None

    def observe(self, d: Decision, t: float) -> Fire | None:  # noqa: D102
        if is_final_stage(d):
            match = d.label in self.cfg.stages
            self.stable.update(match, match, d, t)
            if match or self._pending is None:
                return None
            due, _, ev = self._pending
            self._pending = None
            return Fire(held=True, decision=d, evidence=ev, reason=(
                "arousal", f"{d.label} at {when(t)} s cancelled the stimulus due at "
                f"{when(due)} s (stimulation only in {list(self.cfg.stages)})"))
        if d.kind != self.cfg.decision or self._pending is not None:
            return None
        if d.kind == "spindle":
            if d.label != "onset":
                return None
            delay = 0.0
        else:
            delay = _number(d.details.get("stimulus_delay_s"))
            if not d.details.get("on_time", False) or delay is None or delay < 0:
                return None
        if not (self.stable.active and self.in_window(t)):
            return None
        ev = {"decisions": [decision_evidence(d, t)],
              **{k: d.details[k] for k in self.PHASE_KEYS if k in d.details}}
        if delay == 0.0:
            return self._deliver(d, t, ev)
        self._pending = (t + delay, d, ev)
        return None

    def at_time(self, t: float) -> Fire | None:  # noqa: D102
        if self._pending is None:
            return None
        _, d, ev = self._pending
        self._pending = None
        return self._deliver(d, t, ev)

    def _deliver(self, d: Decision, t: float, ev: dict[str, Any]) -> Fire:
        ev["stimulus_t"] = when(t)
        if self.blocks is not None:
            on, off = self.blocks
            if t % (on + off) >= on:
                return Fire(held=True, decision=d, evidence=ev, reason=(
                    "sham", f"stimulus at {when(t)} s falls in an OFF block "
                    f"(blocks {on:g} s ON / {off:g} s OFF): sham, not delivered"))
        return Fire(fire=True, decision=d, evidence=ev)


def intent_of(label: str) -> str:
    """A decoder's label in the loop's vocabulary: ``"rest"``, a grip pattern, or itself
    (labels of other datasets such as ``"chuck_grip"`` are mapped)."""
    if label in REST_LABELS:
        return "rest"
    return GRIP_LABELS.get(label, label)


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


TRIGGERS: dict[str, type[Trigger]] = {c.kind: c for c in (
    StageTrigger, ArousalTrigger, TransitionTrigger, SleepOnsetTrigger, SignalTrigger,
    ClockTrigger, IntentTrigger, FeatureTrigger, EventTrigger)}


def make_trigger(cfg: TriggerConfig, exit_probability: float | None,
                 ctx: NightContext) -> Trigger:
    """The trigger of ``cfg.kind``."""
    return TRIGGERS[cfg.kind](cfg, exit_probability, ctx)

