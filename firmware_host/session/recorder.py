"""Writes a session directory while the loop runs; survives ``kill -9`` and power loss.

Layout of a session directory::

    meta.json      channels, sampling rate, software version, segments (atomic rename)
    samples.bin    append-only, independent sample blocks (see :mod:`firmware_host.session.blocks`)
    events.sqlite  event journal (SQLite, WAL), thinned by :mod:`firmware_host.session.retention`

Samples are gathered into blocks of ``block_s`` of data; a block is written when it is full,
when the samples stop being contiguous, and at every flush. At least every
``flush_interval_s`` of wall time the pending block is written, the journal committed and the
sample file ``fsync``-ed, so a kill or a power cut costs at most that much plus the chunk in
flight. The commit and the ``fsync`` run on a thread of their own (:mod:`.background`): a
slow disk never holds up the loop, and one stalled for ``STALL_S`` degrades the recording
like a failed one.

A run that died mid-night continues the same session with
:func:`~firmware_host.session.resume.resume_session`:
a new *segment* whose sample indices carry on after the last intact block plus the time the
process was down, journalled as a ``segment`` event and a ``gap``.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host import __version__
from firmware_host.chunk import Chunk
from firmware_host.clock import Clock
from firmware_host.session.background import BackgroundSync
from firmware_host.session.blocks import encode_block
from firmware_host.session.codec import TIMESTAMP_TOLERANCE_S, SampleEncoder
from firmware_host.session.journal import Journal
from firmware_host.session.retention import Retention

META = "meta.json"
SAMPLES = "samples.bin"
EVENTS = "events.sqlite"
FORMAT = "somnoloop-session/2"
#: Seconds of data per sample block (compression needs a few hundred samples per channel).
BLOCK_S = 0.5
#: While the disk refuses writes, the journal is retried at every this many flushes.
RETRY_EVERY_FLUSHES = 10
#: Wall seconds a journal commit or sample sync may take before recording counts as failed
#: (an SD card may pause a second or two for its own housekeeping).
STALL_S = 5.0


def write_meta(path: Path, meta: dict[str, Any]) -> None:
    """Replace ``meta.json`` atomically (write a temporary file, fsync, rename)."""
    tmp = path / (META + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(meta, indent=2))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path / META)


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
    block_s
        Seconds of data per sample block (≤ ``flush_interval_s`` keeps the loss bound).

    Attributes
    ----------
    thin_journal
        Class-wide switch of the retention policy (:mod:`.retention`); ``False`` keeps every
        event, which only the storage benchmark and debugging want.
    """

    thin_journal: bool = True

    def __init__(self, path: str | Path, clock: Clock, *, flush_interval_s: float = 0.5,
                 fsync: bool = True, block_s: float = BLOCK_S, _resume: bool = False) -> None:
        if not 0 < flush_interval_s <= 1.0:
            raise ValueError(f"flush_interval_s must be in (0, 1], got {flush_interval_s}")
        if not 0 < block_s <= 1.0:
            raise ValueError(f"block_s must be in (0, 1], got {block_s}")
        self.path = Path(path)
        if not _resume:
            self.path.mkdir(parents=True, exist_ok=True)
            if (self.path / SAMPLES).exists() or (self.path / META).exists():
                raise FileExistsError(
                    f"{self.path} already holds a session; choose a new directory")
        self.clock = clock
        self.flush_interval_s = flush_interval_s
        self.fsync = fsync
        self.block_s = block_s
        self._fd = os.open(self.path / SAMPLES, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.journal = Journal(self.path / EVENTS, durable=fsync)
        self._last_flush_wall = time.monotonic()
        self.n_samples = 0
        self.sfreq: float | None = None
        self.n_channels: int | None = None
        self.segment = 0
        self.meta: dict[str, Any] = {}
        #: Added to every sample index of a resumed segment (its source restarted at 0).
        self.sample_offset = 0
        self._encoder: SampleEncoder | None = None
        self._retention: Retention | None = None
        self._pending: list[Chunk] = []
        self._pending_n = 0
        self._origin: float | None = None
        self._closed = False
        #: Why recording is degraded ("" while every write succeeds): disk full, read-only…
        self.degraded = ""
        self._sample_error = ""
        self._journal_error = ""
        self._flushes = 0
        self._closing = False
        #: Commits and syncs of the periodic flushes run here (started at the first one).
        self._background: BackgroundSync | None = None
        #: Samples per channel that could not be written while degraded.
        self.samples_not_written = 0

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def continue_segment(cls, path: str | Path, clock: Clock, *, meta: dict[str, Any], segment: int,
                         previous_end: int, gap_s: float, flush_interval_s: float = 0.5,
                         fsync: bool = True, block_s: float = BLOCK_S) -> SessionRecorder:
        """Reopen a session directory to write segment ``segment`` (see :func:`.resume.resume_session`).

        Sample indices of the new segment start ``round(gap_s × sfreq)`` after
        ``previous_end``; the ``segment`` event and the ``gap`` (cause ``restart``) are
        journalled at once.
        """
        rec = cls(path, clock, flush_interval_s=flush_interval_s, fsync=fsync, block_s=block_s,
                  _resume=True)
        rec.meta = dict(meta)
        rec.segment = segment
        rec._configure(float(meta["sfreq"]), len(meta["channel_names"]), meta.get("adc_scales"))
        gap = max(0, round(gap_s * rec.sfreq))
        rec.sample_offset = previous_end + gap
        now = clock.now()
        rec.journal.add(now, "segment", {"segment": segment, "previous_end_sample": previous_end,
                                         "gap_s": gap_s, "first_sample": previous_end + gap},
                        previous_end + gap)
        if gap:
            rec.journal.add(now, "gap", {"missing": gap, "detected_by": "recorder",
                                         "cause": "restart"}, previous_end)
        rec.flush()
        return rec

    def _configure(self, sfreq: float, n_channels: int, scales: list[float | None] | None) -> None:
        self.sfreq = float(sfreq)
        self.n_channels = n_channels
        self._encoder = SampleEncoder(n_channels, tuple(scales) if scales else None)
        self._retention = Retention(self.sfreq) if self.thin_journal else None

    def start(self, *, sfreq: float, channel_names: tuple[str, ...], channel_types: tuple[str, ...],
              config: dict[str, Any], extra: dict[str, Any] | None = None,
              adc_scales: tuple[float | None, ...] | None = None) -> None:
        """Write ``meta.json`` and the ``start`` and ``config`` events.

        ``adc_scales`` (µV per count, per channel) lets a source that knows its ADC grid skip
        grid detection. On a resumed session the layout must match and ``meta.json`` gains
        the new segment.
        """
        now = time.time()
        if self.segment:
            same = (float(sfreq) == self.sfreq and list(channel_names) == self.meta["channel_names"]
                    and list(channel_types) == self.meta["channel_types"])
            if not same:
                raise ValueError(
                    f"cannot continue {self.path}: it has {self.meta['channel_names']} at "
                    f"{self.sfreq:g} Hz, the new run {list(channel_names)} at {float(sfreq):g} Hz")
            segments = list(self.meta.get("segments", [{"segment": 0, "first_sample": 0,
                                                        "created_unix": self.meta.get("created_unix")}]))
            segments.append({"segment": self.segment, "first_sample": self.sample_offset,
                             "created_unix": now, "software_version": __version__})
            meta = {**self.meta, "segments": segments}
        else:
            self._configure(sfreq, len(channel_names), list(adc_scales) if adc_scales else None)
            meta = {
                "format": FORMAT,
                "software_version": __version__,
                "created_unix": now,
                "sfreq": self.sfreq,
                "channel_names": list(channel_names),
                "channel_types": list(channel_types),
                "units": "uV",
                "timestamp_tolerance_s": TIMESTAMP_TOLERANCE_S,
                "adc_scales": list(adc_scales) if adc_scales else None,
                "segments": [{"segment": 0, "first_sample": 0, "created_unix": now,
                              "software_version": __version__}],
                **(extra or {}),
            }
        write_meta(self.path, meta)
        self.meta = meta
        self.emit("start", {"software_version": __version__, "segment": self.segment, **(extra or {})})
        self.emit("config", config)
        self.flush()

    # ------------------------------------------------------------------ writing
    def write_chunk(self, chunk: Chunk, *, deferred: bool = False) -> None:
        """Append the chunk's samples (and its source events) to the session.

        With ``deferred`` the encoding of a full block and the periodic flush wait for
        :meth:`catch_up`: the loop calls it once the iteration's commands are out, so disk
        work never sits between a block's arrival and the actuators.
        """
        if self._closed:
            raise RuntimeError("recorder is closed")
        if chunk.data.shape[0] != self.n_channels:
            raise ValueError(
                f"chunk has {chunk.data.shape[0]} channels, session has {self.n_channels}"
            )
        for ev in chunk.events:
            self.emit(ev.kind, ev.payload, ev.sample)
        if chunk.n_samples:
            if self._pending and self._pending[-1].end_sample != chunk.first_sample:
                self._write_pending()
            self._pending.append(chunk)
            self._pending_n += chunk.n_samples
            self.n_samples += chunk.n_samples
        if not deferred:
            self.catch_up()

    def catch_up(self) -> None:
        """Encode the pending samples once they fill a block, and flush when it is time."""
        if self._pending and self._pending_n >= max(1, round(self.block_s * self._pending[0].sfreq)):
            self._write_pending()
        self.maybe_flush()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        first = self._pending[0]
        if len(self._pending) == 1:
            data, ts = first.data, first.timestamps
        else:
            data = np.concatenate([c.data for c in self._pending], axis=1)
            ts = np.concatenate([c.timestamps for c in self._pending])
        self._pending, self._pending_n = [], 0
        start = first.first_sample + self.sample_offset
        sfreq = first.sfreq
        if self._origin is None or not abs(ts[0] - (self._origin + start / sfreq)) <= TIMESTAMP_TOLERANCE_S:
            self._origin = float(ts[0]) - start / sfreq
        if self._encoder is None:
            raise RuntimeError("SessionRecorder.start() must be called before samples are written")
        step = max(1, round(self.block_s * sfreq))  # a long chunk still makes short blocks
        out = b"".join(
            encode_block(self._encoder, start + i, data[:, i:i + step], ts[i:i + step], sfreq=sfreq,
                         origin=self._origin, segment=self.segment)
            for i in range(0, data.shape[1], step))
        try:
            self._append(out)
            if self._sample_error:  # the disk takes writes again
                self._sample_error = ""
                self._update_degraded()
        except OSError as exc:
            # A partly written block is skipped by the resynchronising reader; the samples of
            # this block are lost and counted; the next block is tried again.
            self.samples_not_written += data.shape[1]
            self._degrade_samples(f"samples: {exc.strerror or exc}")

    def _append(self, data: bytes) -> None:
        """Append encoded blocks to ``samples.bin`` (raises ``OSError`` when the disk refuses)."""
        os.write(self._fd, data)

    def emit(self, kind: str, payload: dict[str, Any], sample: int | None = None) -> None:
        """Queue a journal event (committed at the next flush), after the retention policy.

        In a resumed segment, ``sample`` (and a decision's ``payload["sample"]``) are shifted by
        :attr:`sample_offset` so that they index the session's samples.
        """
        if sample is not None and self.sample_offset:
            sample = int(sample) + self.sample_offset
            if kind == "decision" and isinstance(payload.get("sample"), int):
                payload = {**payload, "sample": payload["sample"] + self.sample_offset}
        rows = [(kind, payload, sample)] if self._retention is None \
            else self._retention.admit(kind, payload, sample)
        now = self.clock.now()
        for k, p, s in rows:
            self.journal.add(now, k, p, s)

    def maybe_flush(self) -> None:
        """Every ``flush_interval_s`` of wall time, write the pending block and have the
        background thread commit the journal and sync the samples; never waits for the disk.
        Updates :attr:`degraded`, which also reports a sync stalled for ``STALL_S``."""
        if time.monotonic() - self._last_flush_wall >= self.flush_interval_s:
            self._write_pending()
            if self._background is None:
                self._background = BackgroundSync(self._sync, name="somnoloop-recorder-sync")
            self._background.request()
            self._last_flush_wall = time.monotonic()
        self._update_degraded()

    def flush(self) -> None:
        """Write the pending block, commit the journal and make the samples durable, now.

        Never raises on a storage failure (disk full, read-only, I/O error): recording goes
        on degraded — :attr:`degraded` says why, journal events wait in memory (a journal
        that failed is retried every few flushes) — and recovers by itself once the disk
        takes writes again.
        """
        self._write_pending()
        if self._background is not None:
            self._background.wait_idle()
        self._sync()
        self._last_flush_wall = time.monotonic()
        self._update_degraded()

    def _sync(self) -> None:
        """Commit the journal and ``fsync`` the samples (on the background thread, or inline
        from :meth:`flush`); a storage failure is recorded, never raised."""
        self._flushes += 1
        if not self._journal_error or self._closing or self._flushes % RETRY_EVERY_FLUSHES == 0:
            try:
                self.journal.commit()
                self._journal_error = ""
            except OSError as exc:
                self._journal_error = str(exc)
        if self.fsync:
            try:
                self._sync_samples()
            except OSError as exc:
                self._sample_error = self._sample_error or f"samples: {exc.strerror or exc}"

    def _sync_samples(self) -> None:
        """``fsync`` the sample file (raises ``OSError`` when the disk fails)."""
        os.fsync(self._fd)

    def _update_degraded(self) -> None:
        background = self._background
        stalled = background.busy_s() if background is not None else 0.0
        crashed = background.error if background is not None else None
        self.degraded = self._journal_error or self._sample_error or (
            f"storage stalled: a journal commit or sync has taken {stalled:.0f} s"
            if stalled >= STALL_S else "") or (
            f"the recorder's sync failed: {type(crashed).__name__}: {crashed}" if crashed else "")

    def _degrade_samples(self, why: str) -> None:
        self._sample_error = why
        self._update_degraded()

    def close(self, summary: dict[str, Any] | None = None) -> None:
        """Write the ``stop`` event, flush and close; idempotent."""
        if self._closed:
            return
        if self._retention is not None:
            now = self.clock.now()
            for k, p, s in self._retention.drain():
                self.journal.add(now, k, p, s)
        self.emit("stop", summary or {"n_samples": self.n_samples})
        self._closing = True
        self.flush()
        if self._background is not None:
            self._background.close()
        self._closed = True
        with contextlib.suppress(OSError):
            os.close(self._fd)
        try:
            self.journal.close()
        except OSError as exc:
            self.degraded = self._journal_error = str(exc)
