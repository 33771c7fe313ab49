"""The fault catalogue's checks, written once for the tests of :mod:`tests.lab.reliability`.

For a fault: no crash; every affected actuator safe within 1 s (simulated time) of the
fault being detectable; an alarm; recovery once it clears (the alarm cleared, nothing held
or stale at the end); the session readable afterwards with at most 1 s of samples lost
(beyond what the fault itself made impossible to record).
"""

from __future__ import annotations

from typing import Any

from firmware_host.runtime.hooks import RunObserver
from firmware_host.session import Session

#: A fault's deadline for the safe state, from the moment it is detectable (simulated s).
SAFE_WITHIN_S = 1.0


class StatusAtStop(RunObserver):
    """The safety layer's status when the run decides to stop (before the shutdown)."""

    name = "status-at-stop"

    def __init__(self) -> None:
        self.status: dict[str, Any] = {}

    def on_stopping(self, run: Any, reason: str) -> None:
        self.status = run.actuation.safety.status()


def assert_safe_in_time(session: Session, detectable: float, targets: set[str],
                        since: float | None = None) -> float:
    """Every actuator in ``targets`` went safe (after ``since``, the fault's onset, when the
    moment it became detectable is known only to a tick) within :data:`SAFE_WITHIN_S` of
    ``detectable``; returns the slowest delay (negative: before ``detectable``)."""
    since = detectable if since is None else since
    delays = []
    for target in sorted(targets):
        safe = [e.payload["t"] for e in session.events("safe_state")
                if e.payload["target"] == target and e.payload["t"] >= since - 1e-9]
        assert safe, f"{target} never went safe after t={since:.2f}"
        delays.append(min(safe) - detectable)
        assert delays[-1] <= SAFE_WITHIN_S, (target, delays[-1])
    return max(delays)


def assert_alarm_raised_and_cleared(session: Session, code: str, after: float = 0.0) -> None:
    """``code`` went active (at or after ``after``) and its last state is ``cleared``."""
    states = [(e.payload["state"], e.payload.get("t", 0.0)) for e in session.events("alarm")
              if e.payload["code"] == code]
    assert any(s == "active" and t >= after - 1e-9 for s, t in states), (code, states)
    assert states[-1][0] == "cleared", f"{code} never cleared: {states}"


def assert_recovered(status: dict[str, Any]) -> None:
    """At the end nothing is latched, held, stale or lost, and no alarm is active."""
    assert not status["estop"] and not status["signal_stale"] and status["hold"] is None, status
    assert not any(d["lost"] for d in status["devices"].values()), status["devices"]
    assert status["alarms"] == [], status["alarms"]


def assert_readable(session: Session, expected_samples: int, excused: int = 0) -> None:
    """The whole session reads back, and at most 1 s of samples (beyond ``excused``) is lost."""
    data, idx, _ = session.read()
    assert data.shape[1] == session.n_samples == len(idx)
    lost = expected_samples - excused - session.n_samples
    assert lost <= session.sfreq, f"{lost} samples lost (allowed {session.sfreq:g})"
