"""Keep the sessions root under a byte budget by deleting the oldest reported sessions.

Only sessions whose report was generated or that were exported may go (see
:data:`~firmware_host.service.inventory.REPORT_DIR` and
:data:`~firmware_host.service.inventory.EXPORT_MARKER`); the current night's sessions never
do. The plan is pure (:func:`plan_retention`); :func:`apply_retention` deletes and returns
one journal payload per removed session, which the caller journals as ``retention`` events.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_host.service.inventory import SessionInfo


@dataclass(frozen=True)
class RetentionPlan:
    """What retention will delete and where that leaves the root.

    Parameters
    ----------
    remove
        Sessions to delete, oldest first.
    total_bytes
        Bytes of every session before deleting.
    budget_bytes
        The budget.
    """

    remove: tuple[SessionInfo, ...]
    total_bytes: int
    budget_bytes: int

    @property
    def after_bytes(self) -> int:
        """Bytes left once ``remove`` is deleted."""
        return self.total_bytes - sum(s.size_bytes for s in self.remove)

    @property
    def over_budget(self) -> bool:
        """Still above the budget: nothing else may be deleted (alarm)."""
        return self.after_bytes > self.budget_bytes


def plan_retention(sessions: list[SessionInfo], budget_bytes: int,
                   protected: Collection[str] = ()) -> RetentionPlan:
    """Choose the oldest reported sessions to delete until the total fits ``budget_bytes``.

    Parameters
    ----------
    sessions
        Every session of the root.
    budget_bytes
        Upper bound on the bytes the sessions may use (``>= 0``).
    protected
        Names never deleted: the current session and every other session of the current night.

    Raises
    ------
    ValueError
        For a negative budget.
    """
    if budget_bytes < 0:
        raise ValueError(f"retention budget must be >= 0 bytes, got {budget_bytes}")
    total = sum(s.size_bytes for s in sessions)
    remove: list[SessionInfo] = []
    left = total
    for session in sorted(sessions, key=lambda s: (s.started_unix, s.name)):
        if left <= budget_bytes:
            break
        if session.reported and session.name not in protected:
            remove.append(session)
            left -= session.size_bytes
    return RetentionPlan(tuple(remove), total, budget_bytes)


def apply_retention(root: str | Path, plan: RetentionPlan,
                    delete_tree: Callable[[Path], None] = shutil.rmtree) -> list[dict[str, Any]]:
    """Delete the planned sessions; return one ``retention`` journal payload per session.

    Each directory is first renamed to ``.deleting-<name>`` (atomic), so a crash half-way
    through a deletion never leaves a half session that looks like a session.
    """
    root = Path(root)
    removed = []
    for session in plan.remove:
        doomed = root / f".deleting-{session.name}"
        os.replace(root / session.name, doomed)
        delete_tree(doomed)
        removed.append({"action": "deleted", "session": session.name, "bytes": session.size_bytes,
                        "started_unix": session.started_unix,
                        "reason": f"over the {plan.budget_bytes} B budget; already reported"})
    return removed
