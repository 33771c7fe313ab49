"""Reading a session directory back, including one left behind by a killed run or a bad card.

Both sample formats read: format 2 (independent blocks, see :mod:`.blocks`) and format 1
(sessions written before it, see :mod:`.format_v1`). What could not be read is never hidden:
:meth:`Session.damage` lists every damaged byte range with its cause, :meth:`Session.gaps`
every missing sample range with its cause, and :meth:`Session.summary` says whether the
session is complete (closed normally, nothing lost to damage or restarts).
"""

from __future__ import annotations

import contextlib
import json
import mmap
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.chunk import MAX_SFREQ
from firmware_host.events import EVENT_KINDS
from firmware_host.session import format_v1
from firmware_host.session.blocks import (
    SYNC,
    BlockInfo,
    Damage,
    Scan,
    iter_decoded,
    peek_body,
    scan_file,
)
from firmware_host.session.recorder import EVENTS, META, SAMPLES

#: Gap causes: samples the source never delivered, lost while the process was down between
#: two segments, lost in a damaged byte range, or in a block cut short.
GAP_CAUSES = ("source", "restart", "corrupt", "torn")
#: Sample indices a block may span (2⁶² samples: 73 million years at 2 kHz).
MAX_SAMPLE = 2**62


class SessionError(ValueError):
    """A directory is not a readable session; the message says what is missing."""


@dataclass(frozen=True)
class Gap:
    """Samples missing between two recorded blocks, and why."""

    start: int
    stop: int
    cause: str = "source"

    @property
    def n_missing(self) -> int:
        """How many samples are missing."""
        return self.stop - self.start


@dataclass(frozen=True)
class Segment:
    """One run's part of a session (a session continued after a crash has several)."""

    segment: int
    first_sample: int
    end_sample: int
    n_samples: int


@dataclass(frozen=True)
class Event:
    """One journal row."""

    t: float
    wall: float
    sample: int | None
    kind: str
    payload: dict[str, Any]


def _check_meta(meta: Any, path: Path) -> tuple[float, list[str], list[str]]:
    """``(sfreq, channel names, channel types)`` of a ``meta.json``; SessionError naming the key."""
    if not isinstance(meta, dict):
        raise SessionError(f"{path} holds a JSON {type(meta).__name__}; allowed: an object with "
                           "sfreq, channel_names and channel_types")
    sfreq = meta.get("sfreq")
    if isinstance(sfreq, bool) or not isinstance(sfreq, int | float) or not 0 < sfreq <= MAX_SFREQ:
        raise SessionError(f"{path}: sfreq = {str(sfreq)[:40]}; allowed: a number in (0, "
                           f"{MAX_SFREQ:g}] Hz")
    lists = {}
    for key in ("channel_names", "channel_types"):
        value = meta.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SessionError(f"{path}: {key} = {str(value)[:60]}; allowed: a list of strings")
        lists[key] = value
    if len(lists["channel_names"]) != len(lists["channel_types"]):
        raise SessionError(f"{path}: {len(lists['channel_names'])} channel_names but "
                           f"{len(lists['channel_types'])} channel_types")
    segments = meta.get("segments")
    if segments is not None and not (
            isinstance(segments, list) and segments and all(
                isinstance(g, dict) and type(g.get("first_sample", 0)) is int
                and 0 <= g.get("first_sample", 0) < MAX_SAMPLE for g in segments)):
        raise SessionError(f"{path}: segments = {str(segments)[:60]}; allowed: a list of objects "
                           f"whose first_sample is a whole number >= 0")
    return float(sfreq), lists["channel_names"], lists["channel_types"]


def _format_of(meta: dict[str, Any], samples: Path) -> int:
    fmt = str(meta.get("format", ""))
    if fmt.startswith("somnoloop-session/"):
        try:
            return int(fmt.rsplit("/", 1)[1])
        except ValueError:
            pass
    if samples.exists():
        with open(samples, "rb") as fh:
            head = fh.read(8)
        if head.startswith(format_v1.MAGIC):
            return 1
        if head == SYNC:
            return 2
    return 2


class Session:
    """A recorded session.

    Parameters
    ----------
    path
        The session directory written by :class:`~firmware_host.session.SessionRecorder`.

    Raises
    ------
    SessionError
        If the directory or its ``meta.json`` is missing or unreadable, or its format unknown.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise SessionError(f"{self.path} is not a directory")
        meta_path = self.path / META
        try:
            self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SessionError(f"{self.path} is not a session: {META} is missing") from None
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise SessionError(f"{meta_path} is not valid JSON: {str(exc)[:200]}") from None
        self.sfreq, self.channel_names, self.channel_types = _check_meta(self.meta, meta_path)
        self.format = _format_of(self.meta, self.path / SAMPLES)
        if self.format not in (1, 2):
            raise SessionError(f"{self.path}: session format {self.format} is not known; "
                               f"this somnoloop reads formats 1 and 2")
        self._scan: Scan | None = None

    # ------------------------------------------------------------------ samples
    @property
    def samples_path(self) -> Path:
        """The sample file."""
        return self.path / SAMPLES

    def scan(self) -> Scan:
        """Every intact block and every damaged byte range of the sample file (cached)."""
        if self._scan is None:
            path = self.samples_path
            if not path.exists():
                self._scan = Scan()
            elif self.format == 1:
                self._scan = _implausible_to_damage(_scan_v1(path), self)
            else:
                self._scan = _torn_before_restart(_implausible_to_damage(scan_file(path), self))
        return self._scan

    def blocks(self) -> list[BlockInfo]:
        """Intact blocks in file order."""
        return self.scan().blocks

    def damage(self) -> list[Damage]:
        """Damaged byte ranges of the sample file, with causes."""
        return self.scan().damage

    def block_index(self) -> list[tuple[int, int]]:
        """``(first_sample, n_samples)`` of every intact block, in file order."""
        return [(b.first_sample, b.n_samples) for b in self.blocks()]

    @property
    def n_samples(self) -> int:
        """Recorded samples per channel (gaps excluded)."""
        return sum(b.n_samples for b in self.blocks())

    @property
    def first_sample(self) -> int:
        """Absolute index of the first recorded sample (0 when empty)."""
        blocks = self.blocks()
        return blocks[0].first_sample if blocks else 0

    @property
    def end_sample(self) -> int:
        """One past the last recorded absolute sample index."""
        return max((b.end_sample for b in self.blocks()), default=0)

    def gaps(self) -> list[Gap]:
        """Index ranges missing between consecutive blocks, each with its cause."""
        out = []
        damage = self.damage()
        segments = self.meta.get("segments") or [{"first_sample": 0}]
        start = int(segments[0].get("first_sample") or 0)
        # a virtual empty block where the session starts, so a lost head is a gap too
        prev = BlockInfo(0, 0, start, 0, 0, 0, 0.0, 0.0)
        for b in self.blocks():
            if b.first_sample > prev.end_sample:
                lo, hi = prev.offset + prev.size, b.offset
                hit = [d for d in damage if lo <= d.offset < hi]
                if b.segment != prev.segment:
                    cause = "restart"
                elif hit:
                    cause = "corrupt" if any(d.cause == "corrupt" for d in hit) else "torn"
                else:
                    cause = "source"
                out.append(Gap(prev.end_sample, b.first_sample, cause))
            prev = b
        return out

    def lost_tail_samples(self) -> int:
        """Samples in a torn block after the last intact one (0 if none or not readable).

        Read from the torn block's own header, which no CRC confirms: counted only when it
        starts where the last intact block ends and holds at most one second of samples.
        """
        blocks, damage = self.blocks(), self.damage()
        end = max((b.offset + b.size for b in blocks), default=0)
        tail = [d for d in damage if d.offset >= end]
        if self.format != 2 or not tail:
            return 0
        hint = peek_body(self.samples_path, tail[0].offset)
        if hint is None or hint[0] != self.end_sample or not 0 < hint[1] <= self.sfreq:
            return 0
        return hint[1]

    def segments(self) -> list[Segment]:
        """The session's segments in order (one unless it was continued after a crash)."""
        out: list[Segment] = []
        for b in self.blocks():
            if out and out[-1].segment == b.segment:
                s = out[-1]
                out[-1] = Segment(s.segment, s.first_sample, b.end_sample, s.n_samples + b.n_samples)
            else:
                out.append(Segment(b.segment, b.first_sample, b.end_sample, b.n_samples))
        return out

    def read(self, start: int | None = None, stop: int | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples with absolute index in ``[start, stop)``.

        Returns
        -------
        data
            ``(n_channels, n)`` float64 µV (gaps are skipped, not filled).
        samples
            ``(n,)`` absolute sample indices.
        timestamps
            ``(n,)`` seconds.
        """
        start = self.first_sample if start is None else start
        stop = self.end_sample if stop is None else stop
        parts, idx, ts = [], [], []
        for first, data, times in self.iter_blocks(start, stop):
            lo, hi = max(start, first), min(stop, first + data.shape[1])
            sl = slice(lo - first, hi - first)
            parts.append(data[:, sl])
            idx.append(np.arange(lo, hi, dtype=np.int64))
            ts.append(times[sl])
        if not parts:
            n_ch = len(self.channel_names)
            return np.empty((n_ch, 0)), np.empty(0, np.int64), np.empty(0)
        return np.concatenate(parts, axis=1), np.concatenate(idx), np.concatenate(ts)

    def iter_blocks(self, start: int = 0, stop: int | None = None):
        """Decoded blocks overlapping ``[start, stop)`` in file order.

        Yields
        ------
        tuple
            ``(first_sample, data (n_channels, n) float64 µV, timestamps (n,))``.
        """
        stop = self.end_sample if stop is None else stop
        yield from self.decode([b for b in self.blocks() if b.first_sample < stop and b.end_sample > start])

    def decode(self, blocks: list[BlockInfo]):
        """Decode the given intact blocks (from :meth:`blocks`) in order.

        Yields
        ------
        tuple
            ``(first_sample, data (n_channels, n) float64 µV, timestamps (n,))``; a block whose
            payload does not decode is skipped.
        """
        if self.format == 1:
            yield from _iter_v1(self.samples_path, blocks)
            return
        for info, data, ts in iter_decoded(self.samples_path, blocks):
            yield info.first_sample, data, ts

    def size_bytes(self) -> int:
        """Bytes the session directory takes (every file in it)."""
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())

    # ------------------------------------------------------------------- events
    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        path = self.path / EVENTS
        if not path.exists():
            raise SessionError(f"{self.path} has no event journal ({EVENTS})")
        try:
            # closing(): sqlite3's own context manager commits but leaves the connection open
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                return db.execute(sql, args).fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # text that is not UTF-8
            raise SessionError(f"{path}: the journal cannot be read ({exc})") from None

    def events(self, kind: str | None = None) -> list[Event]:
        """Journal events in order, optionally of one kind.

        Raises
        ------
        SessionError
            If the journal is missing or unreadable, or a row is not an event it could hold.
        """
        sql = "SELECT id, t, wall, sample, kind, payload FROM events"
        rows = self._query(sql + " ORDER BY id") if kind is None \
            else self._query(sql + " WHERE kind=? ORDER BY id", (kind,))
        return [self._event(row) for row in rows]

    def decisions(self, decision_kind: str) -> list[Event]:
        """Journalled ``decision`` events of one decision kind (e.g. ``"neurofeedback"``), in order."""
        rows = self._query("SELECT id, t, wall, sample, kind, payload FROM events "
                           "WHERE kind='decision' AND json_extract(payload, '$.kind')=? ORDER BY id",
                           (decision_kind,))
        return [self._event(row) for row in rows]

    def _event(self, row: tuple[Any, ...]) -> Event:
        """One journal row as an :class:`Event`; SessionError naming the row if it is not one."""
        rid, t, wall, sample, kind, text = row
        try:
            payload = json.loads(text) if isinstance(text, str) else None
        except (ValueError, RecursionError):
            payload = None
        numbers = all(type(v) in (int, float) for v in (t, wall))
        if not (numbers and (sample is None or type(sample) is int) and isinstance(kind, str)
                and isinstance(payload, dict)):
            raise SessionError(f"{self.path / EVENTS}: row {rid} is not an event (t {t!r}, wall "
                               f"{wall!r}, sample {sample!r}, kind {kind!r}, payload "
                               f"{str(text)[:60]!r})")
        return Event(float(t), float(wall), sample, kind, payload)

    def event_counts(self) -> dict[str, int]:
        """Number of events of each kind; every standard kind is present, 0 when absent."""
        rows = self._query("SELECT kind, COUNT(*) FROM events GROUP BY kind")
        bad = [k for k, _ in rows if not isinstance(k, str)]
        if bad:
            raise SessionError(f"{self.path / EVENTS}: event kinds {bad[:5]} are not names")
        return dict(sorted({**dict.fromkeys(EVENT_KINDS, 0), **dict(rows)}.items()))

    def last_wall(self) -> float | None:
        """Wall-clock time of the last committed journal event (``None`` if there is none)."""
        wall = self._query("SELECT MAX(wall) FROM events")[0][0]
        if wall is not None and type(wall) not in (int, float):
            raise SessionError(f"{self.path / EVENTS}: a wall-clock time {str(wall)[:40]!r} is "
                               "not a number")
        return None if wall is None else float(wall)

    def decision_counts(self, decision_kind: str) -> Counter[str]:
        """How often each label was decided for ``decision_kind`` (e.g. ``"stage"``)."""
        rows = self._query(
            "SELECT json_extract(payload, '$.label'), COUNT(*) FROM events "
            "WHERE kind='decision' AND json_extract(payload, '$.kind')=? "
            "AND NOT COALESCE(json_extract(payload, '$.details.provisional'), 0) "
            "GROUP BY 1",
            (decision_kind,),
        )
        return Counter(dict(rows))

    def summary(self) -> dict[str, Any]:
        """The figures ``somnoloop info`` prints.

        Raises
        ------
        SessionError
            If the sample file is missing or empty (that is not an empty night), or the
            journal is missing or unreadable.
        """
        path = self.samples_path
        if not path.exists():
            raise SessionError(f"{self.path}: the sample file {SAMPLES} is missing")
        if path.stat().st_size == 0:
            raise SessionError(f"{self.path}: the sample file {SAMPLES} is empty (no sample was "
                               f"ever written)")
        n = self.n_samples
        gaps = self.gaps()
        damage = self.damage()
        events = self.event_counts()
        last_start, last_stop = self._query(
            "SELECT MAX(CASE WHEN kind='start' THEN id END), MAX(CASE WHEN kind='stop' THEN id END) "
            "FROM events")[0]
        closed = last_stop is not None and (last_start is None or last_stop > last_start)
        lost = [g for g in gaps if g.cause != "source"]
        tail = next((d for d in damage if d.offset + d.size == self.scan().size
                     and d.cause == "torn"), None)
        return {
            "path": str(self.path),
            "format": self.format,
            "software_version": self.meta.get("software_version"),
            "config_name": self.meta.get("config_name"),
            "source": self.meta.get("source"),
            "sfreq": self.sfreq,
            "channels": list(self.channel_names),
            "channel_types": list(self.channel_types),
            "n_samples": n,
            "duration_s": n / self.sfreq,
            "span_s": (self.end_sample - self.first_sample) / self.sfreq,
            "n_gaps": len(gaps),
            "missing_samples": sum(g.n_missing for g in gaps),
            "gaps": [{"start": g.start, "stop": g.stop, "samples": g.n_missing, "cause": g.cause}
                     for g in gaps],
            "lost_samples": sum(g.n_missing for g in lost) + self.lost_tail_samples(),
            "lost_tail_samples": self.lost_tail_samples(),
            "damage": [{"offset": d.offset, "bytes": d.size, "cause": d.cause, "detail": d.detail}
                       for d in damage],
            "damaged_bytes": sum(d.size for d in damage),
            "intact_blocks": len(self.blocks()),
            "segments": [vars(s) for s in self.segments()],
            "size_bytes": self.size_bytes(),
            "events": events,
            "stages": dict(self.decision_counts("stage")),
            "closed": closed,
            "complete": closed and not damage and not lost,
            "torn_tail": None if tail is None else f"{tail.detail}: {tail.size} bytes at {tail.offset}",
        }


def _implausible_to_damage(scan: Scan, session: Session) -> Scan:
    """Blocks whose CRC checks but whose header does not fit the session become damage.

    A recorder writes every block with the session's channel count and rate, at sample
    indices from 0 on; a block that says otherwise was not written by it (a false sync
    inside compressed data, a foreign file) and would make reads fail or lie.
    """
    n_ch, sfreq = len(session.channel_names), session.sfreq
    keep = []
    for b in scan.blocks:
        why = ""
        if b.n_channels != n_ch:
            why = f"a block of {b.n_channels} channels in a session of {n_ch}"
        elif session.format == 2 and b.sfreq != sfreq:
            why = f"a block at {b.sfreq:g} Hz in a session at {sfreq:g} Hz"
        elif not 0 <= b.first_sample <= b.end_sample <= MAX_SAMPLE:
            why = f"a block at impossible sample indices {b.first_sample}..{b.end_sample}"
        if why:
            scan.damage.append(Damage(b.offset, b.size, "corrupt", why))
        else:
            keep.append(b)
    if len(keep) < len(scan.blocks):
        scan.blocks = keep
        scan.damage.sort(key=lambda d: d.offset)
    return scan


def _torn_before_restart(scan: Scan) -> Scan:
    """Damage right before a new segment's first block is the dead run's torn last write."""
    starts = {b.offset: b for b in scan.blocks}
    ends = {b.offset + b.size: b for b in scan.blocks}
    for i, d in enumerate(scan.damage):
        before, after = ends.get(d.offset), starts.get(d.offset + d.size)
        if before is not None and after is not None and after.segment != before.segment:
            scan.damage[i] = Damage(d.offset, d.size, "torn",
                                    f"last block of segment {before.segment} cut short when its "
                                    f"run died")
    return scan


def _scan_v1(path: Path) -> Scan:
    """A format-1 file as a :class:`Scan` (format 1 cannot resynchronise: all after damage is lost)."""
    result = format_v1.ScanResult()
    out = Scan(size=path.stat().st_size)
    offset = 0
    with open(path, "rb") as fh:
        for b in format_v1.iter_blocks(fh, result, headers_only=True):
            n_ch, n = b.data.shape
            size = format_v1.HEADER.size + n * 8 + n * n_ch * 4 + format_v1.CRC.size
            out.blocks.append(BlockInfo(offset, size, b.first_sample, n, n_ch, 0, 0.0, 0.0))
            offset += size
    if result.problem:
        cause = "torn" if result.torn_tail_bytes else "corrupt"
        out.damage.append(Damage(result.valid_bytes, out.size - result.valid_bytes, cause,
                                 result.problem))
    return out


def _iter_v1(path: Path, wanted: list[BlockInfo]):
    """Decoded format-1 blocks (those in ``wanted``), as ``(first, data, timestamps)``."""
    if not wanted:
        return
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        for info in wanted:
            n, n_ch = info.n_samples, info.n_channels
            at = info.offset + format_v1.HEADER.size
            ts = np.frombuffer(buf, "<f8", n, at).copy()
            data = np.frombuffer(buf, "<f4", n * n_ch, at + n * 8).reshape(n_ch, n).astype(np.float64)
            yield info.first_sample, data, ts
