"""Wall-clock jumps: journalled as ``clock_jump`` events, never felt by the loop.

A Raspberry Pi has no real-time clock: it boots with the time it saved at shutdown and jumps
when NTP synchronises. The loop is paced by the monotonic clock; this observer compares the
two every iteration and journals the offset before and after each jump, so the report can
date every sample correctly (``wall = monotonic + offset`` of its period).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from firmware_host.runtime.hooks import IterationInfo, RunObserver

if TYPE_CHECKING:  # pragma: no cover - typing only
    from firmware_host.runtime.run import Run


def jump(old_offset_s: float, new_offset_s: float, threshold_s: float) -> float | None:
    """The jump in seconds when the wall-minus-monotonic offset moved more than ``threshold_s``.

    NTP's gradual slewing (at most 500 ppm) never reaches a threshold of a second between two
    iterations; a step does.
    """
    delta = new_offset_s - old_offset_s
    return delta if abs(delta) > threshold_s else None


def corrected_wall(wall: float, t: float, jumps: Sequence[tuple[float, float]]) -> float:
    """Re-date a journal row's wall-clock time with every step journalled after it.

    Rows written before NTP synchronised carry the wrong wall time; adding each later step
    gives the synchronised time, so a night's times are right in the report. Exact to one
    loop period (a step happens somewhere between two checks).

    Parameters
    ----------
    wall
        The row's ``wall`` column.
    t
        The row's ``t`` column (run clock).
    jumps
        ``(t, jump_s)`` of every ``clock_jump`` row (its ``t`` column and payload).
    """
    return wall + sum(step for t_jump, step in jumps if t_jump > t)


class ClockWatch(RunObserver):
    """Journals ``clock_jump`` events with the old and new wall-minus-monotonic offsets.

    Parameters
    ----------
    threshold_s
        Smallest step reported.
    wall, monotonic
        The two clocks (injected in tests).
    """

    name = "clockwatch"

    def __init__(self, threshold_s: float = 1.0, *, wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if threshold_s <= 0:
            raise ValueError(f"threshold_s must be > 0, got {threshold_s}")
        self.threshold_s = threshold_s
        self._wall = wall
        self._monotonic = monotonic
        #: ``wall - monotonic`` at the latest iteration, in seconds.
        self.offset_s = self._read()

    def _read(self) -> float:
        return self._wall() - self._monotonic()

    def wall_at(self, monotonic_s: float) -> float:
        """Wall-clock time of a monotonic instant, with the current (corrected) offset.

        Use it to re-date the session's start after a jump (e.g. for the night roll-over).
        """
        return monotonic_s + self.offset_s

    def on_opened(self, run: Run) -> None:
        """Take the reference offset when the session starts."""
        self.offset_s = self._read()

    def on_iteration(self, run: Run, info: IterationInfo) -> None:
        """Compare the clocks; journal a jump."""
        mono = self._monotonic()
        new = self._wall() - mono
        old, self.offset_s = self.offset_s, new  # slewing is followed, steps are reported
        step = jump(old, new, self.threshold_s)
        if step is None:
            return
        run.recorder.emit("clock_jump", {
            "old_offset_s": old, "new_offset_s": new, "jump_s": step,
            "monotonic_s": mono, "wall_before": mono + old, "wall_after": mono + new,
        })
