"""Where journal events go. The session recorder is the real sink; tests use :class:`ListSink`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

#: Event kinds with a fixed meaning across the project (others may be added).
EVENT_KINDS = (
    "start", "config", "stop",              # session lifecycle
    "gap", "overrun", "marker", "annotation",  # from sources
    "decision",                             # stager / decoder / policy output
    "command", "ack", "fault", "safe_state", "alarm",  # actuation and safety
    "action", "suppressed",                 # programme: a rule fired / a guard held it back
    "control",                              # a change applied from outside the loop
    "segment", "clock_jump", "retention",   # service: restart mid-night, wall-clock step, cleanup
)


class EventSink(Protocol):
    """Accepts journal events."""

    def emit(self, kind: str, payload: dict[str, Any], sample: int | None = None) -> None:
        """Record one event of ``kind`` at absolute ``sample`` (if it has one)."""
        ...


@dataclass
class ListSink:
    """Keeps events in memory: ``[(kind, sample, payload), ...]``."""

    events: list[tuple[str, int | None, dict[str, Any]]] = field(default_factory=list)

    def emit(self, kind: str, payload: dict[str, Any], sample: int | None = None) -> None:
        """Append the event."""
        self.events.append((kind, sample, dict(payload)))

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Payloads of every event of ``kind``."""
        return [p for k, _, p in self.events if k == kind]
