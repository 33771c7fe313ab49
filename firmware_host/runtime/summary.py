"""What a run did: the closing table, the ``stop`` event and the service log read it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from firmware_host.events import EventSink


@dataclass
class RunSummary:
    """Counts of a run, kept up to date while it runs.

    ``events`` counts every journal event by kind (``alarm``, ``safe_state``, ``command``,
    ``ack``, ``fault``, ``action``, ``suppressed`` …), so the closing summary shows what the
    safety layer and the programme did without reading the journal back.
    """

    data_s: float = 0.0
    wall_s: float = 0.0
    n_samples: int = 0
    n_chunks: int = 0
    n_gaps: int = 0
    stop_reason: str = ""
    decisions: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    faults: int = 0
    events: Counter[str] = field(default_factory=Counter)
    #: Alarm codes raised during the run (e.g. ``device_unavailable:mattress``), in order.
    alarms: list[str] = field(default_factory=list)
    #: Configured actuators that could not be opened at start: name -> why.
    unavailable: dict[str, str] = field(default_factory=dict)
    #: Commands asked of the safety layer, by outcome (see :meth:`unacked`).
    commands_by_outcome: Counter[str] = field(default_factory=Counter)
    #: Why recording degraded during the run (disk full, read-only …), in order.
    recording_problems: list[str] = field(default_factory=list)
    #: Samples per channel that could not be written.
    samples_not_written: int = 0
    #: Programme firings by rule, and suppressions by guard.
    actions: Counter[str] = field(default_factory=Counter)
    suppressed: Counter[str] = field(default_factory=Counter)

    @property
    def unacked(self) -> int:
        """Commands that reached a device (``sent``/``clamped``/``ramp``) minus their acks.

        ``queued`` commands (the first step of a slew ramp) and ``refused`` ones never
        reach a device and so expect no ack; what remains is a device that did not answer.
        """
        reached = sum(n for k, n in self.commands_by_outcome.items() if k in ("sent", "clamped", "ramp"))
        return max(0, reached - self.events["ack"])

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "data_s": self.data_s,
            "wall_s": self.wall_s,
            "speed": self.data_s / self.wall_s if self.wall_s > 0 else None,
            "n_samples": self.n_samples,
            "n_chunks": self.n_chunks,
            "n_gaps": self.n_gaps,
            "stop_reason": self.stop_reason,
            "decisions": dict(self.decisions),
            "stages": dict(self.stages),
            "faults": self.faults,
            "events": dict(self.events),
            "alarms": list(self.alarms),
            "unavailable": dict(self.unavailable),
            "commands_by_outcome": dict(self.commands_by_outcome),
            "recording_problems": list(self.recording_problems),
            "samples_not_written": self.samples_not_written,
            "actions": dict(self.actions),
            "suppressed": dict(self.suppressed),
        }


class TallySink:
    """An :class:`EventSink` that counts what passes through it into a :class:`RunSummary`.

    Parameters
    ----------
    sink
        Where events go (the session recorder).
    summary
        Updated on every event.
    """

    def __init__(self, sink: EventSink, summary: RunSummary) -> None:
        self._sink = sink
        self._summary = summary

    def emit(self, kind: str, payload: dict[str, Any], sample: int | None = None) -> None:
        """Count, then forward."""
        s = self._summary
        s.events[kind] += 1
        if kind == "alarm" and payload.get("state") == "active":
            s.alarms.append(str(payload.get("code", "?")))
        elif kind == "command":
            s.commands_by_outcome[str(payload.get("outcome", "?"))] += 1
        elif kind == "action":
            s.actions[str(payload.get("rule", "?"))] += 1
        elif kind == "suppressed":
            s.suppressed[str(payload.get("guard", "?"))] += 1
        self._sink.emit(kind, payload, sample)
