"""What the loop hands to the control thread, taken on the loop thread in ``on_iteration``.

:class:`LoopSnapshotter` keeps cheap per-iteration figures (latency, lateness) always, and
only when a live view wants one — at most at the rate the fastest subscriber asked for —
copies the rest: the raw signal window, the hypnogram so far and the actuation status. The
control thread reads the latest :class:`LoopSnapshot` (a reference swap, no lock needed)
and never touches loop objects itself.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from firmware_host.control.protocol import DEFAULT_SPAN_S
from firmware_host.control.tap import RawWindow, TraceTap
from firmware_host.runtime.hooks import IterationInfo
from firmware_host.staging.stager import SleepStager


@dataclass(frozen=True)
class LoopSnapshot:
    """One copy of the loop's state for live views (immutable once made)."""

    t: float
    data_s: float
    wall: float
    raw: RawWindow | None
    hypnogram: tuple[str, ...]
    epoch_s: float | None
    actuation: dict[str, Any]
    commanded: dict[str, float]
    ramping: dict[str, float]
    latency_ms: dict[str, float]
    healthy: bool
    extra: dict[str, Any] = field(default_factory=dict)


class LoopSnapshotter:
    """Takes :class:`LoopSnapshot` s on the loop thread when asked to.

    Parameters
    ----------
    tap
        The trace tap placed in the run's stage chain.
    latency_window
        Iterations over which loop latency is summarised.
    """

    def __init__(self, tap: TraceTap, latency_window: int = 40) -> None:
        self.tap = tap
        self._proc: deque[float] = deque(maxlen=latency_window)
        self._late: deque[float] = deque(maxlen=latency_window)
        self._hyp: list[str] = []
        self._hyp_src: list[str] | None = None
        self._hyp_base = 0
        self._last_wall = -1e18
        #: Minimum wall seconds between snapshots; ``None`` = nobody wants one.
        self.interval_s: float | None = None
        #: Seconds of raw signal copied into a snapshot (the longest any view wants).
        self.span_s = DEFAULT_SPAN_S
        self.latest: LoopSnapshot | None = None
        self.iterations = 0

    def on_iteration(self, run: Any, info: IterationInfo) -> None:
        """Record the iteration; take a snapshot if one is due (loop thread)."""
        self.iterations += 1
        self._proc.append(info.processing_s)
        self._late.append(info.late_s)
        self._follow_hypnogram(run)
        wall = time.monotonic()
        if self.interval_s is None or wall - self._last_wall < self.interval_s:
            return
        self._last_wall = wall
        self.latest = self.take(run, info, wall)

    def _follow_hypnogram(self, run: Any) -> None:
        stager = _stager(run)
        if stager is None:
            return
        history = stager.history
        if history is not self._hyp_src:  # the stager restarted its history
            self._hyp_src, self._hyp_base = history, len(self._hyp)
        new = history[len(self._hyp) - self._hyp_base:]
        if new:
            self._hyp.extend(new)

    def take(self, run: Any, info: IterationInfo, wall: float) -> LoopSnapshot:
        """Copy the loop's state now (loop thread)."""
        act = getattr(run, "actuation", None)
        status: dict[str, Any] = {}
        commanded: dict[str, float] = {}
        ramping: dict[str, float] = {}
        if act is not None:
            try:
                status = act.status()
                limiter = act.safety.limiter
                commanded = {ch: limiter.last(ch) for ch in limiter.channels}
                ramping = dict(limiter.pending)
            except Exception as exc:  # noqa: BLE001 - a view never hurts the loop
                status = {"error": f"{type(exc).__name__}: {exc}"}
        proc, late = list(self._proc), list(self._late)
        stager = _stager(run)
        return LoopSnapshot(
            t=info.now, data_s=info.data_s, wall=wall, raw=self.tap.window(self.span_s),
            hypnogram=tuple(self._hyp), epoch_s=stager.model.epoch_s if stager else None,
            actuation=status, commanded=commanded, ramping=ramping,
            latency_ms={"last": 1e3 * proc[-1] if proc else 0.0,
                        "mean": 1e3 * sum(proc) / len(proc) if proc else 0.0,
                        "max": 1e3 * max(proc) if proc else 0.0,
                        "late": 1e3 * max(late) if late else 0.0},
            healthy=info.healthy)


def _stager(run: Any) -> SleepStager | None:
    controller = getattr(run, "controller", None)
    if controller is None:
        return None
    return next((s for s in controller.pipeline.stages if isinstance(s, SleepStager)), None)
