"""Payloads of the programme's journal events; their keys are fixed (report and replay read them).

* ``action``: ``{"rule", "trigger", "evidence", "commands", "t"}`` — a rule fired (or a
  running profile took its next step, ``trigger = "profile"``) and asked for ``commands``.
* ``suppressed``: ``{"rule", "guard", "reason", "t"}`` — a guard held a firing back, or
  took away what a rule was driving.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from actuators.base import Command
from firmware_host.decision import Decision

ACTION = "action"
SUPPRESSED = "suppressed"


def when(t: float) -> float:
    """Engine time as journalled (millisecond resolution, stable across platforms)."""
    return round(float(t), 3)


def decision_evidence(d: Decision, t: float) -> dict[str, Any]:
    """What a trigger used of one decision: kind, sample, label, its probability, time."""
    p = d.probabilities.get(d.label) if d.probabilities else None
    out: dict[str, Any] = {"kind": d.kind, "sample": d.sample, "label": d.label,
                           "p": None if p is None else round(float(p), 4), "t": when(t)}
    return out


def command_json(c: Command) -> dict[str, Any]:
    """``{"target", "action", "params"}`` of a command."""
    return {"target": c.target, "action": c.action, "params": dict(c.params)}


def action_payload(rule: str, trigger: str, evidence: dict[str, Any],
                   commands: list[Command], t: float) -> dict[str, Any]:
    """Payload of an ``action`` event."""
    return {"rule": rule, "trigger": trigger, "evidence": evidence,
            "commands": [command_json(c) for c in commands], "t": when(t)}


def suppressed_payload(rule: str, guard: str, reason: str, t: float) -> dict[str, Any]:
    """Payload of a ``suppressed`` event."""
    return {"rule": rule, "guard": guard, "reason": reason, "t": when(t)}


def journal_counts(actions: Iterable[dict[str, Any]],
                   suppressed: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """``{"actions": {rule: n}, "suppressed": {guard: n}}`` from the two events' payloads."""
    return {"actions": dict(sorted(Counter(a.get("rule", "?") for a in actions).items())),
            "suppressed": dict(sorted(Counter(s.get("guard", "?") for s in suppressed).items()))}
