"""The programme engine: decisions and time in, commands out, every one with its reason.

:meth:`Engine.decide` has the shape of the old ``Policy.decide``. Each decision is handled
at its own time (``sample / sfreq`` once :meth:`Engine.set_sample_rate` is known, else the
``now`` of the call), and time-driven work (profile steps, clock triggers) at its scheduled
time, all in time order — so the same decisions give the same journal however they are
batched, provided a decision arrives no later than the first call whose ``now`` passes it.

Every firing journals an ``action`` with the trigger's evidence and the commands it asked
for; every later profile step journals an ``action`` with ``trigger = "profile"``; every
guard that holds a firing back (or takes an output away from a running rule) journals a
``suppressed``. No command leaves the engine without an ``action`` that lists it.
"""

from __future__ import annotations

import time as _time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from actuators.base import Command
from actuators.vocabulary import GRIP_PATTERNS
from firmware_host.decision import Decision
from firmware_host.events import EventSink
from firmware_host.programme.config import ProgrammeConfig
from firmware_host.programme.guards import GuardState, first_holding
from firmware_host.programme.journal import (
    ACTION,
    SUPPRESSED,
    action_payload,
    suppressed_payload,
    when,
)
from firmware_host.programme.outputs import OUTPUTS, expand
from firmware_host.programme.profiles import Profile, ramp
from firmware_host.programme.rules import ActionConfig, RuleConfig
from firmware_host.programme.timing import clock_s, local_clock
from firmware_host.programme.triggers import (
    Fire,
    NightContext,
    Trigger,
    intent_of,
    make_trigger,
)

DEFAULT_GRIP_FORCE = 0.5


@dataclass
class _Rule:
    cfg: RuleConfig
    trigger: Trigger
    outputs: tuple[str, ...]  # the outputs it drives that exist on this device


def night_start_of(config: ProgrammeConfig, clock: Any) -> float:
    """Seconds after local midnight at which this run's night starts.

    A configured ``night_start`` wins; ``"auto"`` takes the real local time when ``clock``
    runs in real time (speed 1, with an ``origin_unix``), else ``simulated_night_start``
    (synthetic, replayed and sped-up nights).
    """
    if config.night_start != "auto":
        return clock_s(config.night_start, "programme.night_start")
    origin = getattr(clock, "origin_unix", None)
    if origin is not None and getattr(clock, "speed", None) == 1.0:
        lt = _time.localtime(origin)
        return lt.tm_hour * 3600.0 + lt.tm_min * 60.0 + lt.tm_sec
    return clock_s(config.simulated_night_start, "programme.simulated_night_start")


class Engine:
    """Runs a :class:`ProgrammeConfig` over the night's decisions.

    Parameters
    ----------
    config
        The ``[programme]`` section.
    targets
        Actuator (device) names that exist; outputs of other devices are left out.
    sink
        The session journal (``action`` and ``suppressed`` events).
    night_start_s
        Local time the night starts at, in seconds after midnight (see
        :func:`night_start_of`).
    """

    def __init__(self, config: ProgrammeConfig, targets: tuple[str, ...] | list[str],
                 sink: EventSink, *, night_start_s: float) -> None:
        self.config = config
        self.targets = tuple(targets)
        self.sink = sink
        self.night_start_s = float(night_start_s)
        self.ctx = NightContext(self.night_start_s, config.persistent_sleep_s)
        self.guards = GuardState(self.night_start_s)
        self.sfreq: float | None = None
        self._start: float | None = None
        self._t = 0.0
        self._profiles: dict[str, Profile] = {}
        self._sent: dict[str, Any] = {}
        #: device -> rules whose commands to it the last :meth:`decide` returned
        self._asked: dict[str, set[str]] = {}
        #: ``action`` events by rule and ``suppressed`` events by guard, for summaries.
        self.counts: dict[str, Counter[str]] = {"actions": Counter(), "suppressed": Counter()}
        self._rules = self._make_rules(config)

    # ----------------------------------------------------------------- set-up
    def _make_rules(self, config: ProgrammeConfig) -> list[_Rule]:
        rules = []
        for cfg in config.rules if config.enabled else ():
            outs = tuple(o for o in cfg.outputs if OUTPUTS[o].device in self.targets)
            if cfg.enabled and outs:
                trig = make_trigger(cfg.trigger, cfg.guards.exit_probability, self.ctx)
                rules.append(_Rule(cfg, trig, outs))
        rules.sort(key=lambda r: (-r.cfg.priority, r.cfg.name))
        return rules

    def reconfigure(self, config: ProgrammeConfig) -> None:
        """Replace the rules (tuning console). Firings so far, manual pauses, sleep onset
        and what was sent are kept; triggers start afresh; profiles and outputs of rules
        that are gone stop."""
        self.config = config
        self.ctx.persistent_sleep_s = config.persistent_sleep_s
        self._rules = self._make_rules(config)
        names = {r.cfg.name for r in self._rules}
        self._profiles = {o: p for o, p in self._profiles.items() if p.rule in names}
        self.guards.owners = {o: w for o, w in self.guards.owners.items() if w[0] in names}
        self._release()

    def set_sample_rate(self, sfreq: float) -> None:
        """Time decisions by their sample (``sample / sfreq`` seconds into the night)."""
        if not sfreq > 0:
            raise ValueError(f"sample rate must be > 0, got {sfreq}")
        self.sfreq = float(sfreq)

    def start(self, now: float) -> None:
        """Mark the night's start on the run's clock (engine time 0)."""
        self._start = now

    @property
    def started_at(self) -> float | None:
        """Clock time of the night's start (``None`` before :meth:`start` or a decision)."""
        return self._start

    # ----------------------------------------------------------------- loop interface
    def decide(self, decisions: list[Decision], now: float) -> list[Command]:
        """Commands for ``decisions`` observed at clock time ``now`` (and for time passing)."""
        if self._start is None:
            self._start = now
        self._asked = {}
        out: list[Command] = []
        t_now = now - self._start
        if self.sfreq is not None:  # a batch is in stage order; the night is in sample order
            decisions = sorted(decisions, key=lambda d: d.sample)
        for d in decisions:
            t = t_now if self.sfreq is None else d.sample / self.sfreq
            t = max(t, self._t)
            self._advance(t, out)
            self._observe(d, t, out)
        self._advance(max(t_now, self._t), out)
        return out

    def forget(self, target: str | None = None) -> None:
        """Forget what was sent to device ``target`` (all when ``None``) because the safety
        layer refused it: the next profile step sends its set-point again, and the rules
        whose commands the last :meth:`decide` returned for it fire again on their next
        matching decision (guards still apply)."""
        for out in [o for o in self._sent if target in (None, OUTPUTS[o].device)]:
            del self._sent[out]
        asked = set().union(*self._asked.values()) if target is None else \
            self._asked.get(target, set())
        for rule in self._rules:
            if rule.cfg.name in asked:
                rule.trigger.rearm()
        self._release()

    def manual_override(self, actuator: str, now: float) -> None:
        """A manual command reached ``actuator`` (a device or one output): pause its
        automation for ``manual_pause``; running profiles on it stop (journalled).

        Raises
        ------
        ValueError
            For an unknown actuator name, listing the allowed ones.
        """
        outs = expand(actuator)
        if self._start is None:
            self._start = now
        t = max(now - self._start, self._t)
        until = t + self.config.manual_pause_s
        for out in outs:
            self.guards.paused_until[out] = until
            self._sent.pop(out, None)
            prof = self._profiles.pop(out, None)
            if prof is not None:
                self._suppress(prof.rule, "manual_override",
                               f"profile on {out} stopped: manual control until "
                               f"{local_clock(self.night_start_s, until)}", t)
            self.guards.owners.pop(out, None)
        self._release()

    def status(self) -> dict[str, Any]:
        """Snapshot for the console: owners, running profiles, pauses and counts."""
        return {
            "t": when(self._t),
            "local_time": local_clock(self.night_start_s, self._t),
            "sleep_onset_sample": self.ctx.onset_sample,
            "owners": {o: w[0] for o, w in sorted(self.guards.owners.items())},
            "profiles": {o: p.rule for o, p in sorted(self._profiles.items())},
            "paused_until": {o: when(u) for o, u in sorted(self.guards.paused_until.items())
                             if u > self._t},
            "actions": dict(self.counts["actions"]),
            "suppressed": dict(self.counts["suppressed"]),
        }

    # ----------------------------------------------------------------- time
    def _advance(self, t: float, out: list[Command]) -> None:
        """Do every time-driven step due up to ``t``, in time order."""
        while True:
            due: tuple[float, int, Any] | None = None
            for i, r in enumerate(self._rules):
                d = r.trigger.next_due()
                if d is not None and d <= t and (due is None or (d, 0, i) < due):
                    due = (d, 0, i)
            for o in sorted(self._profiles):
                d = self._profiles[o].next_due()
                if d is not None and d <= t and (due is None or (d, 1, o) < due):
                    due = (d, 1, o)
            if due is None:
                break
            when_t, what, key = due
            self._t = max(self._t, when_t)
            if what == 0:
                rule = self._rules[key]
                fire = rule.trigger.at_time(self._t)
                if fire is not None and fire.fire:
                    self._fire(rule, fire, self._t, out, None)
                elif fire is not None and fire.held and fire.reason is not None:
                    self._suppress(rule.cfg.name, *fire.reason, self._t)
            else:
                self._step(key, out)
            self._release()
        self._t = max(self._t, t)
        self._release()

    def _step(self, output: str, out: list[Command]) -> None:
        prof = self._profiles[output]
        t, value, k = prof.take()
        if prof.done:
            del self._profiles[output]
        cmd = self._set(output, value, prof.pattern)
        if cmd is None:
            return
        evidence = {"started": when(prof.started), "step": k, "steps": len(prof.schedule),
                    "output": output}
        self._emit_action(prof.rule, "profile", evidence, [cmd], t, None)
        out.append(cmd)

    # ----------------------------------------------------------------- decisions
    def _observe(self, d: Decision, t: float, out: list[Command]) -> None:
        self.ctx.update(d, t)
        fires = [(rule, rule.trigger.observe(d, t)) for rule in self._rules]
        self._release()  # what this decision ended lets go before anything fires
        for rule, fire in fires:
            if fire is None:
                continue
            if fire.held and fire.reason is not None:
                self._suppress(rule.cfg.name, *fire.reason, t, d.sample)
            elif fire.held:
                self._suppress(rule.cfg.name, "hysteresis",
                               f"{d.label} matched again before falling below "
                               f"exit_probability {rule.cfg.guards.exit_probability}", t,
                               d.sample)
            elif fire.fire:
                self._fire(rule, fire, t, out, d.sample)
        self._release()

    # ----------------------------------------------------------------- firing
    def _fire(self, rule: _Rule, fire: Fire, t: float, out: list[Command],
              sample: int | None) -> None:
        name = rule.cfg.name
        held = first_holding(self.guards, rule.cfg, rule.outputs, t)
        if held is not None:
            self._suppress(name, held[0], held[1], t, sample)
            return
        for o in rule.outputs:
            owner = self.guards.owners.get(o)
            if owner is not None and owner[0] != name:
                prof = self._profiles.get(o)
                if prof is not None and prof.rule == owner[0]:
                    del self._profiles[o]
                self._suppress(owner[0], "priority",
                               f"{o} taken over by {name!r} (priority {rule.cfg.priority} > "
                               f"{owner[1]})", t, sample)
            self.guards.owners[o] = (name, rule.cfg.priority)
        self.guards.record(rule.cfg, t)
        commands: list[Command] = []
        for action in rule.cfg.actions:
            for cmd in self._act(rule, action, fire, t):
                if cmd not in commands:
                    commands.append(cmd)
        self._emit_action(name, rule.cfg.trigger.kind, fire.evidence, commands, t, sample)
        out.extend(commands)

    def _act(self, rule: _Rule, a: ActionConfig, fire: Fire, t: float) -> list[Command]:
        outs = [o for o in a.outputs if o in rule.outputs]
        cmds: list[Command] = []
        for o in outs:
            if self._profiles.get(o) is not None:
                del self._profiles[o]
            cmd: Command | None = None
            if a.kind == "set" and a.value is not None:
                cmd = self._set(o, a.value, a.pattern)
            elif a.kind == "ramp" and a.to is not None:
                cmd = self._run(ramp(rule.cfg.name, o, t, self._current(o), a.to, a.over_s,
                                     a.step_s, a.pattern))
            elif a.kind == "restore":
                cmd = self._run(ramp(rule.cfg.name, o, t, self._current(o), self._comfort(o),
                                     a.over_s, a.step_s, self._pattern(o)))
            elif a.kind == "profile":
                pts = tuple((t + dt, v) for dt, v in a.points_s)
                cmd = self._run(Profile(rule.cfg.name, o, pts, a.step_s, a.pattern))
            elif a.kind == "stop":
                cmd = OUTPUTS[o].stop()
                self._sent[o] = (0.0, "off") if OUTPUTS[o].kind == "vibration" else None
            elif a.kind == "grip":
                cmd = self._grip(o, a, fire)
            if cmd is not None:
                cmds.append(cmd)
        return cmds

    def _run(self, prof: Profile) -> Command | None:
        self._profiles[prof.output] = prof
        _, value, _ = prof.take()
        if prof.done:
            del self._profiles[prof.output]
        return self._set(prof.output, value, prof.pattern)

    def _grip(self, output: str, a: ActionConfig, fire: Fire) -> Command | None:
        d = fire.decision
        pattern = a.grip
        if pattern == "intent":
            pattern = intent_of(d.label) if d is not None else ""
        if pattern not in GRIP_PATTERNS:
            return None
        force = a.force
        if force is None:
            raw = d.details.get("force") if d is not None else None
            ok = isinstance(raw, int | float) and not isinstance(raw, bool) and raw == raw
            force = min(max(float(raw), 0.0), 1.0) if ok else DEFAULT_GRIP_FORCE
        if self._sent.get(output) == (pattern, force):
            return None
        self._sent[output] = (pattern, force)
        return Command(OUTPUTS[output].device, "grip",
                       {"pattern": pattern, "force": round(force, 4), "speed": a.speed})

    def _set(self, output: str, value: float, pattern: str) -> Command | None:
        o = OUTPUTS[output]
        q = round(round(value / o.resolution) * o.resolution, 6)
        state = (q, pattern if q > 0 else "off") if o.kind == "vibration" else q
        if self._sent.get(output) == state:
            return None
        self._sent[output] = state
        return o.set(q, pattern)

    def _current(self, output: str) -> float:
        sent = self._sent.get(output)
        if isinstance(sent, tuple):
            sent = sent[0]
        return float(sent) if isinstance(sent, int | float) else self._comfort(output)

    def _pattern(self, output: str) -> str:
        """The vibration pattern running on ``output`` (a restore keeps it)."""
        sent = self._sent.get(output)
        on = isinstance(sent, tuple) and sent[1] != "off"
        return str(sent[1]) if on else "continuous"

    def _comfort(self, output: str) -> float:
        key = OUTPUTS[output].comfort
        return float(getattr(self.config.comfort, key)) if key else 0.0

    def _release(self) -> None:
        """Outputs whose rule is no longer engaged (trigger inactive, no profile) go free."""
        by_name = {r.cfg.name: r for r in self._rules}
        for o, (name, _) in list(self.guards.owners.items()):
            rule = by_name.get(name)
            prof = self._profiles.get(o)
            engaged = rule is not None and (rule.trigger.active
                                            or (prof is not None and prof.rule == name))
            if not engaged:
                del self.guards.owners[o]

    # ----------------------------------------------------------------- journal
    def _emit_action(self, rule: str, trigger: str, evidence: dict[str, Any],
                     commands: list[Command], t: float, sample: int | None) -> None:
        self.counts["actions"][rule] += 1
        for c in commands:
            self._asked.setdefault(c.target, set()).add(rule)
        self.sink.emit(ACTION, action_payload(rule, trigger, evidence, commands, t), sample)

    def _suppress(self, rule: str, guard: str, reason: str, t: float,
                  sample: int | None = None) -> None:
        self.counts["suppressed"][guard] += 1
        self.sink.emit(SUPPRESSED, suppressed_payload(rule, guard, reason, t), sample)
