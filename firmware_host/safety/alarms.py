"""Alarm conditions with priorities, in the spirit of IEC 60601-1-8.

Priorities (IEC 60601-1-8 §6.1): **high** — immediate response needed (E-stop, a device
that stopped answering while it may be moving); **medium** — prompt response (stale or bad
signal, the whole system held safe); **low** — awareness (a request was refused or clamped
at a bound, a device needed retries). Each alarm condition is journaled as an ``alarm``
event when it becomes active and again when it clears; the most urgent active alarm picks
the status-LED code (see :func:`actuators.gpio_devices.led_colour`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from firmware_host.events import EventSink

PRIORITIES = ("high", "medium", "low")
_RANK = {p: i for i, p in enumerate(PRIORITIES)}


@dataclass(frozen=True)
class Alarm:
    """One active alarm condition.

    Parameters
    ----------
    code
        Stable identifier, e.g. ``"estop"``, ``"signal_stale"``, ``"device_lost:mattress"``.
    priority
        ``"high"``, ``"medium"`` or ``"low"``.
    message
        Human-readable cause.
    since
        Clock time it became active.
    """

    code: str
    priority: str
    message: str
    since: float


class AlarmManager:
    """Tracks active alarm conditions and journals their changes.

    Parameters
    ----------
    sink
        Where ``alarm`` events go.
    """

    def __init__(self, sink: EventSink) -> None:
        self._sink = sink
        self._active: dict[str, Alarm] = {}
        self._lock = threading.RLock()

    def raise_alarm(self, code: str, priority: str, message: str, now: float) -> bool:
        """Activate ``code`` (journaled once until it clears); return True if it is new.

        Raises
        ------
        ValueError
            For an unknown priority, listing the allowed ones.
        """
        if priority not in _RANK:
            raise ValueError(f"unknown alarm priority {priority!r}; allowed: {list(PRIORITIES)}")
        with self._lock:
            current = self._active.get(code)
            if current is not None and _RANK[current.priority] <= _RANK[priority]:
                return False
            self._active[code] = Alarm(code, priority, message, now)
            self._emit("active", self._active[code], now)
            return current is None

    def clear(self, code: str, now: float) -> bool:
        """Deactivate ``code``; return True if it was active."""
        with self._lock:
            alarm = self._active.pop(code, None)
            if alarm is None:
                return False
            self._emit("cleared", alarm, now)
            return True

    def clear_prefix(self, prefix: str, now: float) -> None:
        """Deactivate every alarm whose code starts with ``prefix``."""
        with self._lock:
            for code in [c for c in self._active if c.startswith(prefix)]:
                self.clear(code, now)

    def is_active(self, code: str) -> bool:
        """Is ``code`` active."""
        return code in self._active

    @property
    def active(self) -> list[Alarm]:
        """Active alarms, most urgent first, then oldest first."""
        with self._lock:
            return sorted(self._active.values(), key=lambda a: (_RANK[a.priority], a.since))

    def highest(self) -> str | None:
        """Priority of the most urgent active alarm, or ``None``."""
        active = self.active
        return active[0].priority if active else None

    def _emit(self, state: str, alarm: Alarm, now: float) -> None:
        payload: dict[str, Any] = {
            "code": alarm.code,
            "priority": alarm.priority,
            "state": state,
            "message": alarm.message,
            "t": now,
        }
        self._sink.emit("alarm", payload)
