"""Continue an interrupted session (a crash or a power cut mid-night) as a new segment."""

from __future__ import annotations

import time
from pathlib import Path

from firmware_host.clock import Clock
from firmware_host.session.reader import Session, SessionError
from firmware_host.session.recorder import BLOCK_S, SessionRecorder

#: Highest segment number a block header holds (uint16).
MAX_SEGMENT = 0xFFFF


def resume_session(path: str | Path, clock: Clock, *, gap_s: float | None = None,
                   flush_interval_s: float = 0.5, fsync: bool = True, block_s: float = BLOCK_S
                   ) -> SessionRecorder:
    """A recorder that continues the session at ``path`` as its next segment.

    Call :meth:`~firmware_host.session.SessionRecorder.start` on it as on a new recorder (the
    channel layout must match). The new run's source starts at sample 0; the recorder shifts
    its indices so that they carry on after the last intact block plus the time nothing was
    recorded.

    Parameters
    ----------
    path
        A format-2 session directory (usually one whose run was killed).
    clock
        The new run's clock.
    gap_s
        How long nothing was recorded; by default the wall time since the journal's last
        commit.

    Raises
    ------
    SessionError
        If the directory is not a format-2 session.
    """
    old = Session(path)
    if old.format != 2:
        raise SessionError(f"{old.path} is a format-{old.format} session; only format-2 "
                           f"sessions can be continued")
    blocks = old.blocks()
    end = old.end_sample
    segment = max(max((b.segment for b in blocks), default=0) + 1, len(old.meta.get("segments") or []))
    if segment > MAX_SEGMENT:
        raise SessionError(f"{old.path} already has {segment} segments; a session holds at most "
                           f"{MAX_SEGMENT + 1}: start a new one")
    if gap_s is None:
        last_wall = old.last_wall()
        gap_s = max(0.0, time.time() - last_wall) if last_wall is not None else 0.0
    return SessionRecorder.continue_segment(
        old.path, clock, meta=old.meta, segment=segment, previous_end=end, gap_s=gap_s,
        flush_interval_s=flush_interval_s, fsync=fsync, block_s=block_s)
