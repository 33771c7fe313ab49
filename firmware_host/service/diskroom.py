"""Room left on the data partition: an alarm decision before the disk fills up.

Two thresholds of free bytes: below ``low`` the recording drops its debug streams (EEG and
the journal go on) and a medium alarm ``disk_low`` is raised; below ``critical`` only the
signals the night needs are kept and a high alarm ``disk_full`` is raised. Recording never
stops because of it (safety rule 3): the decision says what to shed, the recorder sheds it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from firmware_host.runtime.hooks import IterationInfo, RunObserver
from firmware_host.safety.alarms import AlarmManager
from firmware_host.service.runview import alarm_manager

if TYPE_CHECKING:  # pragma: no cover - typing only
    from firmware_host.runtime.run import Run

LEVELS = ("ok", "low", "critical")


class Usage(NamedTuple):
    """What :func:`shutil.disk_usage` returns."""

    total: int
    used: int
    free: int


@dataclass(frozen=True)
class DiskRoom:
    """The data partition's state and what to do about it.

    Parameters
    ----------
    free_bytes, total_bytes
        From the file system.
    level
        ``"ok"``, ``"low"`` or ``"critical"``.
    """

    free_bytes: int
    total_bytes: int
    level: str

    @property
    def alarm(self) -> tuple[str, str] | None:
        """``(code, priority)`` of the alarm to raise, or ``None``."""
        return {"ok": None, "low": ("disk_low", "medium"), "critical": ("disk_full", "high")}[self.level]

    @property
    def drop_debug_streams(self) -> bool:
        """Stop recording debug streams (filtered copies, per-iteration timings)."""
        return self.level != "ok"

    @property
    def message(self) -> str:
        """One line for the journal and the doctor."""
        return f"{self.free_bytes / 1e6:.0f} MB free of {self.total_bytes / 1e6:.0f} MB ({self.level})"


def check_disk(path: str | Path, *, low_free_bytes: int, critical_free_bytes: int,
               usage: Callable[[str | Path], Usage] = shutil.disk_usage) -> DiskRoom:
    """Classify the free space of the partition holding ``path``.

    Raises
    ------
    ValueError
        When ``critical_free_bytes`` exceeds ``low_free_bytes``.
    """
    if not 0 <= critical_free_bytes <= low_free_bytes:
        raise ValueError(f"need 0 <= critical_free_bytes ({critical_free_bytes}) <= "
                         f"low_free_bytes ({low_free_bytes})")
    u = usage(path)
    level = "critical" if u.free < critical_free_bytes else "low" if u.free < low_free_bytes else "ok"
    return DiskRoom(int(u.free), int(u.total), level)


class DiskWatch(RunObserver):
    """Checks the data partition every ``interval_s`` of real time and raises/clears alarms.

    Parameters
    ----------
    path
        Any path on the data partition (default: the run's session directory).
    low_free_bytes, critical_free_bytes
        Thresholds of :func:`check_disk`.
    interval_s
        Monotonic seconds between two checks.
    alarms
        Where alarms go; default: the run's own alarm manager (it drives the status LED),
        else one journalling into ``run.recorder``.
    usage, monotonic
        Injected in tests.
    """

    name = "disk"

    def __init__(self, path: str | Path | None = None, *, low_free_bytes: int, critical_free_bytes: int,
                 interval_s: float = 30.0, alarms: AlarmManager | None = None,
                 usage: Callable[[str | Path], Usage] = shutil.disk_usage,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.path = None if path is None else Path(path)
        self.low = low_free_bytes
        self.critical = critical_free_bytes
        self.interval_s = interval_s
        self.alarms = alarms
        self._usage = usage
        self._monotonic = monotonic
        self._last_check = -float("inf")
        #: The latest decision (``None`` before the first check).
        self.room: DiskRoom | None = None

    def on_opened(self, run: Run) -> None:
        """Check at once: a full disk is reported before the night starts."""
        if self.path is None:
            self.path = Path(run.session_dir)
        self._check(run)

    def on_iteration(self, run: Run, info: IterationInfo) -> None:
        """Re-check when ``interval_s`` has passed."""
        if self._monotonic() - self._last_check >= self.interval_s:
            self._check(run)

    def _check(self, run: Run) -> None:
        self._last_check = self._monotonic()
        room = check_disk(self.path or Path(run.session_dir), low_free_bytes=self.low,
                          critical_free_bytes=self.critical, usage=self._usage)
        previous, self.room = self.room, room
        if previous is not None and previous.level == room.level:
            return
        now = run.clock.now()
        alarms = self.alarms = self.alarms or alarm_manager(run) or AlarmManager(run.recorder)
        for code in ("disk_low", "disk_full"):
            if room.alarm is None or room.alarm[0] != code:
                alarms.clear(code, now)
        if room.alarm is not None:
            alarms.raise_alarm(room.alarm[0], room.alarm[1], f"data partition: {room.message}", now)
