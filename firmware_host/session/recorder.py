"""Writes a session directory while the loop runs; survives ``kill -9`` and power loss.

Layout of a session directory::

    meta.json      channels, sampling rate, software version, config (atomic rename)
    samples.bin    append-only sample blocks (see :mod:`firmware_host.session.blocks`)
    events.sqlite  event journal (SQLite, WAL)

Every chunk is written to the OS as it arrives, so a killed process loses at most the
chunk being written. At least every ``flush_interval_s`` of wall time the journal is
committed and the sample file ``fsync``-ed, so power loss costs at most that much.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from firmware_host import __version__
from firmware_host.chunk import Chunk
from firmware_host.clock import Clock
from firmware_host.session.blocks import encode_block
from firmware_host.session.journal import Journal

META = "meta.json"
SAMPLES = "samples.bin"
EVENTS = "events.sqlite"


class SessionRecorder:
    """The session writer; also an :class:`~firmware_host.events.EventSink`.

    Parameters
    ----------
    path
        Session directory; created, and must not already hold a session.
    clock
        The loop's clock (event times are in its seconds).
    flush_interval_s
        Upper bound on data at risk from power loss, in seconds (≤ 1).
    fsync
        Whether flushes reach the disk (``fsync``) or only the OS.
    """

    def __init__(self, path: str | Path, clock: Clock, *, flush_interval_s: float = 0.5,
                 fsync: bool = True) -> None:
        if not 0 < flush_interval_s <= 1.0:
            raise ValueError(f"flush_interval_s must be in (0, 1], got {flush_interval_s}")
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        if (self.path / SAMPLES).exists() or (self.path / META).exists():
            raise FileExistsError(f"{self.path} already holds a session; choose a new directory")
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        self.fsync = fsync
        self._fd = os.open(self.path / SAMPLES, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.journal = Journal(self.path / EVENTS, durable=fsync)
        self._last_flush_wall = time.monotonic()
        self.n_samples = 0
        self.sfreq: float | None = None
        self.n_channels: int | None = None
        self._closed = False

    def start(self, *, sfreq: float, channel_names: tuple[str, ...], channel_types: tuple[str, ...],
              config: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
        """Write ``meta.json`` and the ``start`` and ``config`` events."""
        self.sfreq = float(sfreq)
        self.n_channels = len(channel_names)
        meta = {
            "format": "somnoloop-session/1",
            "software_version": __version__,
            "created_unix": time.time(),
            "sfreq": self.sfreq,
            "channel_names": list(channel_names),
            "channel_types": list(channel_types),
            "units": "uV",
            **(extra or {}),
        }
        tmp = self.path / (META + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2))
        os.replace(tmp, self.path / META)
        self.emit("start", {"software_version": __version__, **(extra or {})})
        self.emit("config", config)
        self.flush()

    def write_chunk(self, chunk: Chunk) -> None:
        """Append the chunk's samples (and its source events) to the session."""
        if self._closed:
            raise RuntimeError("recorder is closed")
        if chunk.data.shape[0] != self.n_channels:
            raise ValueError(
                f"chunk has {chunk.data.shape[0]} channels, session has {self.n_channels}"
            )
        for ev in chunk.events:
            self.emit(ev.kind, ev.payload, ev.sample)
        if chunk.n_samples:
            os.write(self._fd, encode_block(chunk.first_sample, chunk.timestamps, chunk.data))
            self.n_samples += chunk.n_samples
        self.maybe_flush()

    def emit(self, kind: str, payload: dict[str, Any], sample: int | None = None) -> None:
        """Queue a journal event (committed at the next flush)."""
        self.journal.add(self.clock.now(), kind, payload, sample)

    def maybe_flush(self) -> None:
        """Flush if ``flush_interval_s`` of wall time has passed since the last flush."""
        if time.monotonic() - self._last_flush_wall >= self.flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Commit the journal and make the samples durable."""
        self.journal.commit()
        if self.fsync:
            os.fsync(self._fd)
        self._last_flush_wall = time.monotonic()

    def close(self, summary: dict[str, Any] | None = None) -> None:
        """Write the ``stop`` event, flush and close; idempotent."""
        if self._closed:
            return
        self.emit("stop", summary or {"n_samples": self.n_samples})
        self.flush()
        os.close(self._fd)
        self.journal.close()
        self._closed = True
