"""A night's decisions through the programme engine alone, as the loop would have fed them.

Decisions reach :class:`~firmware_host.programme.Engine` in batches, each at the loop-clock
time the journal says it arrived (see :meth:`RecordedNight.arrival`), time-driven steps run
up to the end of the data, and every command the engine asks for meets the night's
recorded safety holds: while
the E-stop was latched, the signal stale, the system held safe or a device lost, the
command is refused and the engine asks again, as in the loop (:meth:`Engine.forget`).
Programme changes made live from the console are applied at their time, unless an edit
being replayed sets the same key (the edit wins for the whole night).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from firmware_host.clock import FakeClock
from firmware_host.config import Config
from firmware_host.control.params import ParamError, with_value
from firmware_host.decision import Decision
from firmware_host.programme import Engine, night_start_of
from firmware_host.programme.journal import ACTION, SUPPRESSED
from firmware_host.whatif.recorded import LiveChange, RecordedNight


@dataclass
class ProgrammeOutcome:
    """What the engine did over a night."""

    actions: list[tuple[str, float]]
    suppressed: Counter[str]
    commands: int


class _Capture:
    """An event sink keeping the engine's ``action`` and ``suppressed`` payloads."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, float]] = []
        self.suppressed: Counter[str] = Counter()

    def emit(self, kind: str, payload: dict[str, Any], sample: int | None = None) -> None:
        if kind == ACTION:
            self.actions.append((str(payload["rule"]), float(payload["t"])))
        elif kind == SUPPRESSED:
            self.suppressed[str(payload["guard"])] += 1


def _held(holds: dict[str, list[tuple[float, float]]], target: str, t: float) -> bool:
    return any(a <= t < b for key in ("*", target) for a, b in holds.get(key, ()))


def replay_programme(night: RecordedNight, cfg: Config, decisions: list[Decision],
                     edited_keys: frozenset[str] = frozenset()) -> ProgrammeOutcome:
    """Run ``cfg.programme`` over ``decisions`` (sample order) with ``night``'s holds and changes.

    Parameters
    ----------
    night
        The recorded night (sample rate, devices, holds, live changes, length).
    cfg
        The config whose ``[programme]`` runs (the recorded one, or with edits).
    decisions
        Every decision the engine sees, in sample order.
    edited_keys
        Keys the replay edits; recorded live changes of these keys are not applied.
    """
    sink = _Capture()
    engine = Engine(cfg.programme, night.targets, sink,
                    night_start_s=night_start_of(cfg.programme, FakeClock()))
    engine.set_sample_rate(night.sfreq)
    engine.start(0.0)
    changes = [c for c in night.live_changes
               if c.key.startswith("programme.") and c.key not in edited_keys]
    current = cfg
    commands = 0

    def submit(t: float, batch: list[Decision]) -> None:
        nonlocal commands
        for command in engine.decide(batch, t):
            commands += 1
            if _held(night.holds, command.target, t):
                engine.forget(command.target)

    timed = sorted(((night.arrival(d), d) for d in decisions), key=lambda x: x[0])  # stable
    i = 0
    while i < len(timed):
        t = timed[i][0]
        j = i
        while j < len(timed) and timed[j][0] == t:
            j += 1
        while changes and changes[0].t <= t:
            current = _apply(engine, current, changes.pop(0), submit)
        submit(t, [d for _, d in timed[i:j]])
        i = j
    for change in changes:
        current = _apply(engine, current, change, submit)
    submit(night.data_s, [])
    return ProgrammeOutcome(sink.actions, sink.suppressed, commands)


def _apply(engine: Engine, cfg: Config, change: LiveChange, submit: Any) -> Config:
    """Bring the engine to ``change.t`` and reconfigure it as the console did."""
    submit(change.t, [])
    try:
        cfg = with_value(cfg, change.key, change.value)
    except ParamError:
        return cfg  # a change this version no longer accepts: the night goes on without it
    engine.reconfigure(cfg.programme)
    return cfg
