"""Hand-made decision sequences and an engine on a fake clock for the programme tests.

Decisions carry their time as the sample index (the engine is told 1 sample per second),
so a sequence reads as a timeline in seconds from the night's start (23:00 by default).
"""

from __future__ import annotations

from typing import Any

from firmware_host.config import parse_config
from firmware_host.decision import Decision
from firmware_host.events import ListSink
from firmware_host.programme import Engine
from firmware_host.programme.timing import clock_s

ALL_DEVICES = ("mattress", "hand", "servo_hand", "vibration")
EPOCH = 30


def rule(name: str, trigger: dict[str, Any], *actions: dict[str, Any], priority: int = 0,
         **guards: Any) -> dict[str, Any]:
    """One ``[[programme.rules]]`` table."""
    out: dict[str, Any] = {"name": name, "priority": priority, "trigger": trigger,
                           "actions": list(actions)}
    if guards:
        out["guards"] = guards
    return out


def make(*rules: dict[str, Any], devices: tuple[str, ...] = ALL_DEVICES,
         night_start: str = "23:00", **programme: Any) -> tuple[Engine, ListSink]:
    """An engine for ``rules`` (validated through the real config loader) and its journal."""
    section = {"night_start": night_start, "rules": list(rules), **programme}
    cfg = parse_config({"programme": section}).programme
    sink = ListSink()
    eng = Engine(cfg, devices, sink, night_start_s=clock_s(night_start, "test"))
    eng.set_sample_rate(1.0)
    eng.start(0.0)
    return eng, sink


def stage(t: float, label: str, p: float = 0.9, provisional: bool = False,
          **probs: float) -> Decision:
    """A stage decision at second ``t`` (probabilities: ``label`` -> p, plus ``probs``)."""
    return Decision("stage", int(t), label, {label: p, **probs}, "test@1",
                    {"provisional": provisional})


def grip(t: float, label: str, p: float = 0.9, force: float = 0.5,
         rejected: bool = False) -> Decision:
    """A grip-intent decision at second ``t``."""
    return Decision("grip", int(t), label, {label: p}, "test@1",
                    {"force": force, "confidence": p, "rejected": rejected})


def quality(t: float, ok: bool) -> Decision:
    """A signal-quality decision at second ``t``."""
    return Decision("quality", int(t), "ok" if ok else "bad", {}, "quality-1", {})


def hypnogram(*segments: tuple[str, int], start: int = 0, p: float = 0.9) -> list[Decision]:
    """Final stage decisions, one per 30-s epoch, ending at the end of each epoch."""
    out = []
    t = start
    for label, n in segments:
        for _ in range(n):
            t += EPOCH
            out.append(stage(t, label, p))
    return out


def run(eng: Engine, decisions: list[Decision], until: float | None = None) -> list:
    """Feed decisions one at a time at their own time, then let time pass to ``until``."""
    out = []
    for d in decisions:
        out += eng.decide([d], float(d.sample))
    if until is not None:
        out += eng.decide([], until)
    return out


def actions(sink: ListSink, rule_name: str | None = None) -> list[dict[str, Any]]:
    """``action`` payloads (of one rule)."""
    return [a for a in sink.of_kind("action") if rule_name in (None, a["rule"])]


def suppressed(sink: ListSink, guard: str | None = None) -> list[dict[str, Any]]:
    """``suppressed`` payloads (of one guard)."""
    return [s for s in sink.of_kind("suppressed") if guard in (None, s["guard"])]


SET_HEAD = {"kind": "set", "target": "mattress.head", "value": 20.0}
