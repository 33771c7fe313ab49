"""What the service observers read from a running :class:`~firmware_host.runtime.run.Run`.

Kept in one place so the observers depend on the run's shape through two small functions,
not on its internals. A run without actuation (or a test double) simply has no alarms here.
"""

from __future__ import annotations

from typing import Any

from firmware_host.safety.alarms import AlarmManager


def alarm_manager(run: Any) -> AlarmManager | None:
    """The run's alarm manager (the safety layer's, which drives the status LED), if any."""
    alarms = getattr(getattr(getattr(run, "actuation", None), "safety", None), "alarms", None)
    return alarms if isinstance(alarms, AlarmManager) else None


def active_alarms(run: Any) -> list[str] | None:
    """Codes of the active alarms, most urgent first; ``None`` when the run has no alarm manager."""
    alarms = alarm_manager(run)
    return None if alarms is None else [a.code for a in alarms.active]
