"""Nights and retention while the device runs: two run observers.

:class:`NightWatch` ends the run when the night rolls over (or at lights-off, when the policy
says so) by asking the run to stop with a reason that starts with :data:`ROLLOVER_PREFIX`;
``somnoloop run`` then opens the next night's run in the same process. :class:`RetentionKeeper`
applies the retention budget when a run opens and journals every deleted session in the new
session's journal as a ``retention`` event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware_host.runtime.hooks import IterationInfo, RunObserver
from firmware_host.service.inventory import SessionInfo, read_session_info, scan_sessions
from firmware_host.service.nights import (
    ROLLOVER_PREFIX,
    NightDecision,
    NightPolicy,
    on_lights_off,
    on_tick,
    session_night,
)
from firmware_host.service.retention import apply_retention, plan_retention

if TYPE_CHECKING:  # pragma: no cover - typing only
    from firmware_host.runtime.run import Run

__all__ = ["ROLLOVER_PREFIX", "NightWatch", "RetentionKeeper"]


class NightWatch(RunObserver):
    """Asks the run to stop when its night is over.

    Parameters
    ----------
    policy
        Roll-over time and what opens a night.
    check_s
        Real seconds between two checks of the wall clock.
    wall, monotonic
        Injected in tests.
    """

    name = "nights"

    def __init__(self, policy: NightPolicy, *, check_s: float = 10.0,
                 wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.check_s = check_s
        self._wall = wall
        self._monotonic = monotonic
        self._last_check = -float("inf")
        self.session: SessionInfo | None = None
        #: The decision that ended the run (``None`` while the night goes on).
        self.ended: NightDecision | None = None

    def on_opened(self, run: Run) -> None:
        """Learn which night the run's session belongs to (``meta.json``, else its start)."""
        path = Path(run.session_dir)
        self.session = read_session_info(path) or SessionInfo(path.name, self._wall())

    def on_iteration(self, run: Run, info: IterationInfo) -> None:
        """Every ``check_s``: has the roll-over time passed?"""
        if self.session is None or self.ended is not None:
            return
        if self._monotonic() - self._last_check < self.check_s:
            return
        self._last_check = self._monotonic()
        self._decide(run, on_tick(self._wall(), self.session, self.policy))

    def lights_off(self, run: Run) -> NightDecision | None:
        """The wearer went to bed (button or first EEG contact); call it on the loop thread."""
        if self.session is None or self.ended is not None:
            return None
        decision = on_lights_off(self._wall(), self.session, self.policy)
        run.recorder.emit("marker", {"what": "lights_off", "decision": decision.action,
                                     "reason": decision.reason})
        self._decide(run, decision)
        return decision

    def _decide(self, run: Run, decision: NightDecision) -> None:
        if decision.action != "new":
            return
        self.ended = decision
        run.request_stop(ROLLOVER_PREFIX + decision.reason)


class RetentionKeeper(RunObserver):
    """Keeps the sessions root under its budget each time a run opens; journals deletions.

    Parameters
    ----------
    root
        The sessions root.
    budget_bytes
        The budget (``0`` or less: keep everything).
    policy
        To tell which sessions belong to the current night (never deleted).
    """

    name = "retention"

    def __init__(self, root: str | Path, budget_bytes: int, policy: NightPolicy) -> None:
        self.root = Path(root)
        self.budget_bytes = budget_bytes
        self.policy = policy
        #: The journal payloads of the latest pass.
        self.removed: list[dict[str, Any]] = []

    def on_opened(self, run: Run) -> None:
        """Delete what is over budget (never this night's sessions) and journal it."""
        if self.budget_bytes <= 0:
            return
        sessions = scan_sessions(self.root)
        current = Path(run.session_dir).name
        tonight = {session_night(s, self.policy) for s in sessions if s.name == current}
        protected = {current} | {s.name for s in sessions if session_night(s, self.policy) in tonight}
        plan = plan_retention(sessions, self.budget_bytes, protected)
        self.removed = apply_retention(self.root, plan)
        if plan.over_budget:
            self.removed.append({"action": "over_budget", "bytes": plan.after_bytes,
                                 "budget": plan.budget_bytes,
                                 "reason": "every other session is unreported or of the current night"})
        for payload in self.removed:
            run.recorder.emit("retention", payload)
