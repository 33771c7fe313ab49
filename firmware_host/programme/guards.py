"""Guards: what holds a firing back. Each check returns the reason, or ``None`` to let it pass.

Checked in this order, the first that holds wins (and is journalled as ``suppressed``):
``manual_override`` (a manual command paused an output the rule drives), ``quiet_hours``,
``min_interval``, ``max_per_night`` (per rule, or per ``group`` of rules) and ``priority``
(an output is held by a rule of higher priority). ``hysteresis`` is applied by the trigger
itself.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from firmware_host.programme.rules import RuleConfig
from firmware_host.programme.timing import inside, local_clock


@dataclass
class GuardState:
    """What guards remember through a night (kept by the engine)."""

    night_start_s: float
    last_fired: dict[str, float] = field(default_factory=dict)
    fired: Counter[str] = field(default_factory=Counter)
    group_fired: Counter[str] = field(default_factory=Counter)
    paused_until: dict[str, float] = field(default_factory=dict)
    #: output -> (rule, priority) currently driving it
    owners: dict[str, tuple[str, int]] = field(default_factory=dict)

    def record(self, rule: RuleConfig, t: float) -> None:
        """A firing of ``rule`` at ``t``."""
        self.last_fired[rule.name] = t
        self.fired[rule.name] += 1
        if rule.guards.group:
            self.group_fired[rule.guards.group] += 1


def manual_override(state: GuardState, rule: RuleConfig, outputs: tuple[str, ...],
                    t: float) -> str | None:
    """An output paused by a manual command."""
    for out in outputs:
        until = state.paused_until.get(out)
        if until is not None and t < until:
            return (f"{out} is under manual control until "
                    f"{local_clock(state.night_start_s, until)}")
    return None


def quiet_hours(state: GuardState, rule: RuleConfig, outputs: tuple[str, ...],
                t: float) -> str | None:
    """Inside the rule's quiet hours."""
    q = rule.guards.quiet_hours
    if q and inside(state.night_start_s, q, t, "quiet_hours"):
        return f"{local_clock(state.night_start_s, t)} is inside quiet hours {q[0]}-{q[1]}"
    return None


def min_interval(state: GuardState, rule: RuleConfig, outputs: tuple[str, ...],
                 t: float) -> str | None:
    """Too soon after the rule's last firing."""
    last = state.last_fired.get(rule.name)
    gap = rule.guards.min_interval_s
    if last is not None and t - last < gap:
        return f"fired {t - last:.0f} s ago; min_interval is {gap:.0f} s"
    return None


def max_per_night(state: GuardState, rule: RuleConfig, outputs: tuple[str, ...],
                  t: float) -> str | None:
    """The rule (or its group) fired its allowed number of times tonight."""
    cap = rule.guards.max_per_night
    if not cap:
        return None
    group = rule.guards.group
    n = state.group_fired[group] if group else state.fired[rule.name]
    if n >= cap:
        who = f"group {group!r}" if group else "the rule"
        return f"{who} fired {n} of {cap} times tonight"
    return None


def priority(state: GuardState, rule: RuleConfig, outputs: tuple[str, ...],
             t: float) -> str | None:
    """An output is held by another rule of equal or higher priority."""
    for out in outputs:
        owner = state.owners.get(out)
        if owner is not None and owner[0] != rule.name and owner[1] >= rule.priority:
            return (f"{out} is held by {owner[0]!r} (priority {owner[1]} >= "
                    f"{rule.priority})")
    return None


GUARDS = (manual_override, quiet_hours, min_interval, max_per_night, priority)


def first_holding(state: GuardState, rule: RuleConfig, outputs: tuple[str, ...],
                  t: float) -> tuple[str, str] | None:
    """``(guard, reason)`` of the first guard that holds the firing back, else ``None``."""
    for guard in GUARDS:
        reason = guard(state, rule, outputs, t)
        if reason is not None:
            return guard.__name__, reason
    return None
