"""BrainFlow boards as a :class:`~firmware_host.sources.base.Source` (the only live-hardware source).

BrainFlow keeps samples in a ring buffer that it silently overwrites when the host does not
drain it in time, and the transport may drop packets. Both show up in the board's package
counter (and timestamps); :func:`find_gaps` turns them into gap events, and the sample
index of the following data is advanced by the number of missing samples, so downstream
index arithmetic sees the hole.
"""

from __future__ import annotations

import contextlib
import difflib
import warnings
from collections import deque
from dataclasses import dataclass

import numpy as np
from brainflow.board_shim import (
    BoardIds,
    BoardShim,
    BrainFlowError,
    BrainFlowInputParams,
    LogLevels,
)

from firmware_host.chunk import CHANNEL_TYPES, Chunk, SourceEvent
from firmware_host.clock import Clock
from firmware_host.config.schema import BrainFlowSourceConfig
from firmware_host.sources.base import SourceError

#: Most boards count packages in one byte.
DEFAULT_PACKAGE_MODULUS = 256
#: Seconds of data the BrainFlow ring buffer holds between two reads.
RING_BUFFER_S = 60.0
#: How often a board that dropped out (unplugged, out of range) is opened again (clock s).
RECONNECT_S = 1.0
#: A board silent for this long is taken as dropped out too (some lose their link quietly).
SILENT_DROP_OUT_S = 10.0


def resolve_board(value: str | int, key: str = "board") -> int:
    """A ``BoardIds`` member from its name (any case, ``_BOARD`` optional) or its number.

    Raises
    ------
    SourceError
        Naming ``key``, the value and the closest known names.
    """
    text = str(value).strip()
    names = {b.name: int(b.value) for b in BoardIds}
    try:
        number = int(text)
    except ValueError:
        upper = text.upper()
        for cand in (upper, f"{upper}_BOARD"):
            if cand in names:
                return names[cand]
        close = difflib.get_close_matches(upper, list(names), n=5, cutoff=0.4)
        raise SourceError(
            f"{key}={text!r} is not a BrainFlow board; closest BoardIds names: {close or 'none'} "
            f"(or give the board number)"
        ) from None
    if number not in names.values():
        raise SourceError(f"{key}={number} is not a BoardIds number; known: {sorted(names.values())}")
    return number


@dataclass(frozen=True)
class BoardLayout:
    """Which rows of a BrainFlow data array are what."""

    board_id: int
    sfreq: float
    rows: tuple[int, ...]
    names: tuple[str, ...]
    types: tuple[str, ...]
    package_row: int | None
    timestamp_row: int | None
    marker_row: int | None
    n_rows: int


def board_layout(
    board_id: int,
    channel_names: tuple[str, ...] = (),
    channel_types: tuple[str, ...] = (),
) -> BoardLayout:
    """Channel layout from ``BoardShim.get_board_descr``: ExG rows with names and types.

    A row listed as EEG is typed ``eeg`` (boards such as the Cyton list every ExG row as
    EEG, EMG and EOG at once: override with ``channel_types``), else ``eog``, ``emg``, or
    ``misc`` (ECG). ``channel_names`` / ``channel_types``, when given, cover all rows in
    board order.
    """
    try:
        descr = BoardShim.get_board_descr(board_id)
    except BrainFlowError as exc:
        raise SourceError(f"board {board_id}: BrainFlow has no channel description ({exc})") from None

    def listed(key: str) -> list[int]:
        return [int(r) for r in descr.get(key, [])]

    eeg, eog, emg = listed("eeg_channels"), listed("eog_channels"), listed("emg_channels")
    rows = sorted(set(eeg + eog + emg + listed("ecg_channels") + listed("exg_channels")))
    eeg_names = [n for n in str(descr.get("eeg_names", "")).split(",") if n]
    names, types = [], []
    for row in rows:
        if row in eeg:
            types.append("eeg")
            i = eeg.index(row)
            names.append(eeg_names[i] if i < len(eeg_names) else f"EEG{row}")
        else:
            kind = "eog" if row in eog else "emg" if row in emg else "misc"
            types.append(kind)
            names.append(f"{kind.upper()}{row}")
    for label, given in (("channel_names", channel_names), ("channel_types", channel_types)):
        if given and len(given) != len(rows):
            raise SourceError(
                f"source.brainflow.{label} has {len(given)} entries but board {board_id} has "
                f"{len(rows)} ExG channels ({names})"
            )
    bad = sorted(set(channel_types) - set(CHANNEL_TYPES))
    if bad:
        raise SourceError(f"source.brainflow.channel_types: unknown {bad}; allowed: {list(CHANNEL_TYPES)}")

    def single(key: str) -> int | None:
        return int(descr[key]) if key in descr else None

    return BoardLayout(
        board_id=board_id,
        sfreq=float(descr["sampling_rate"]),
        rows=tuple(rows),
        names=tuple(channel_names) or tuple(names),
        types=tuple(channel_types) or tuple(types),
        package_row=single("package_num_channel"),
        timestamp_row=single("timestamp_channel"),
        marker_row=single("marker_channel"),
        n_rows=int(descr["num_rows"]),
    )


def read_data_file(path: str) -> np.ndarray:
    """A file written by ``DataFilter.write_file`` as a ``(n_rows, n_samples)`` array.

    The file (one sample per line, rows tab-separated) is parsed here: BrainFlow's own
    ``DataFilter.read_file`` aborts the whole process on a number beyond float range. A last
    line without its newline is a copy cut short (a BrainFlow file has no header promising a
    length): it is dropped, and the whole rows before it are read.

    Raises
    ------
    SourceError
        When the file cannot be read, holds no samples, or is not a table of numbers.
    """
    try:
        with open(path, encoding="latin-1", newline="") as f:
            lines = f.read().split("\n")
        whole = lines[:-1] if lines[-1] else lines  # the torn tail (or the final empty split)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # numpy's "input contained no data"
            data = np.loadtxt(whole, delimiter="\t", ndmin=2, dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: not a readable BrainFlow data file ({str(exc)[:200]})") from None
    if data.size == 0:
        raise SourceError(f"{path}: not a readable BrainFlow data file (no samples)")
    return data.T


@dataclass(frozen=True)
class Gap:
    """Samples lost just before ``index`` (an index into the array given to :func:`find_gaps`)."""

    index: int
    missing: int
    package_before: int
    package_after: int


def find_gaps(
    packages: np.ndarray,
    *,
    modulus: int = DEFAULT_PACKAGE_MODULUS,
    previous_package: float | None = None,
    timestamps: np.ndarray | None = None,
    previous_timestamp: float | None = None,
    sfreq: float | None = None,
) -> list[Gap]:
    """Lost samples from a wrapping package counter, corrected by timestamps.

    Parameters
    ----------
    packages
        Package numbers of consecutive received samples, counting ``0 .. modulus - 1``.
    modulus
        Counter period (256 for one-byte counters).
    previous_package, previous_timestamp
        Package number and timestamp of the last sample of the previous read, so a gap at
        the boundary between reads is found (reported at index 0).
    timestamps, sfreq
        When given, a timestamp jump that spans whole counter periods more than the counter
        says (e.g. an overrun lost 300 samples; the counter shows 43) adds those periods.
        A transport stall longer than ~0.75 counter periods followed by a burst can be
        over-counted this way; boards with large counters are not affected.

    Returns
    -------
    list of Gap
        One per place where samples are missing; a repeated package number is not a gap.
    """
    p = np.asarray(packages, dtype=np.int64)
    if p.ndim != 1:
        raise ValueError(f"packages must be 1-D, got shape {p.shape}")
    if modulus < 2:
        raise ValueError(f"modulus must be >= 2, got {modulus}")
    offset = 0
    if previous_package is not None:
        p = np.concatenate([[int(previous_package)], p])
        offset = 1
    if len(p) < 2:
        return []
    step = np.mod(p[1:] - p[:-1], modulus)
    missing = np.where(step == 0, 0, step - 1)
    if timestamps is not None and sfreq:
        t = np.asarray(timestamps, dtype=float)
        if previous_package is not None:
            t = None if previous_timestamp is None else np.concatenate([[previous_timestamp], t])
        if t is not None:
            if t.shape != p.shape:
                raise ValueError(f"timestamps shape {t.shape} does not match packages {p.shape}")
            by_time = np.round(np.diff(t) * sfreq).astype(np.int64) - 1
            wraps = np.floor((by_time - missing) / modulus + 0.25).astype(np.int64)
            missing = missing + modulus * np.maximum(wraps, 0)
    return [
        Gap(int(i) + 1 - offset, int(missing[i]), int(p[i]), int(p[i + 1]))
        for i in np.flatnonzero(missing > 0)
    ]


class BrainFlowSource:
    """Any BrainFlow board, configured by ``[source.brainflow]``.

    ``read`` drains the board's ring buffer (``get_board_data``) and returns the oldest
    contiguous run of samples: when samples were lost, the run after the hole starts at an
    index advanced by the missing count and carries a ``gap`` event. A drain that filled the
    whole ring buffer adds an ``overrun`` event (BrainFlow overwrote data). Non-zero marker
    values become ``marker`` events. Data rows are µV as BrainFlow delivers them.

    A board that drops out during the night (``get_board_data`` fails: unplugged, out of
    radio range, a dongle reset; or it has sent nothing for :data:`SILENT_DROP_OUT_S`) is
    released and opened again every :data:`RECONNECT_S` seconds of the clock; meanwhile
    ``read`` returns ``None`` (the loop's stale-data watch puts the actuators safe). The
    first run of samples after it is back carries a ``gap`` event with
    ``cause = "board reconnected"``, its index advanced by the time it was away.

    Parameters
    ----------
    cfg
        Board id/name, input params, config commands, channel renames.
    clock
        Kept for the Source interface; timestamps come from the board.
    buffer_s
        Ring buffer length in seconds passed to ``start_stream``.
    """

    def __init__(self, cfg: BrainFlowSourceConfig, clock: Clock, buffer_s: float = RING_BUFFER_S) -> None:
        self.cfg = cfg
        self.clock = clock
        self.board_id = resolve_board(cfg.board, "source.brainflow.board")
        params = BrainFlowInputParams()
        params.serial_port = cfg.serial_port
        params.mac_address = cfg.mac_address
        params.ip_address = cfg.ip_address
        params.ip_port = cfg.ip_port
        params.ip_protocol = cfg.ip_protocol
        params.other_info = cfg.other_info
        params.serial_number = cfg.serial_number
        params.file = cfg.file
        params.timeout = cfg.timeout
        descr_board = self.board_id
        if cfg.master_board:
            params.master_board = resolve_board(cfg.master_board, "source.brainflow.master_board")
            descr_board = params.master_board
        self.params = params
        self.layout = board_layout(descr_board, cfg.channel_names, cfg.channel_types)
        self.sfreq = self.layout.sfreq
        self.channel_names = self.layout.names
        self.channel_types = self.layout.types
        self.buffer_size = max(1, int(buffer_s * self.sfreq))
        self._fixed_modulus = cfg.package_modulus > 0
        self.package_modulus = cfg.package_modulus or DEFAULT_PACKAGE_MODULUS
        self._board: BoardShim | None = None
        self._next_sample = 0
        self._last_package: float | None = None
        self._last_timestamp: float | None = None
        self._pending: deque[Chunk] = deque()
        self.n_gaps = 0
        self.n_overruns = 0
        self.n_reconnects = 0
        #: Why the board dropped out ("" while it streams).
        self.lost = ""
        self._lost_at: float | None = None
        self._next_attempt = 0.0
        self._heard_at = 0.0

    @property
    def finished(self) -> bool:
        """A live board never finishes."""
        return False

    def open(self) -> None:
        """``prepare_session``, the configured ``config_board`` commands, ``start_stream``."""
        if self._board is not None:
            return
        # BrainFlow logs every session's input JSON at info level; keep warnings and errors
        BoardShim.set_log_level(LogLevels.LEVEL_WARN.value)
        board = BoardShim(self.board_id, self.params)
        try:
            board.prepare_session()
            for command in self.cfg.config_commands:
                board.config_board(command)
            board.start_stream(self.buffer_size)
        except BrainFlowError as exc:
            try:
                if board.is_prepared():
                    board.release_session()
            except BrainFlowError:
                pass
            raise SourceError(
                f"BrainFlow board {BoardIds(self.board_id).name} could not start: {exc} "
                f"(check source.brainflow.serial_port/mac_address/ip_address/file)"
            ) from None
        self._board = board
        self._heard_at = self.clock.now()

    def read(self) -> Chunk | None:
        """The oldest contiguous run of new samples, or ``None`` when there is none."""
        if self._pending:
            return self._pending.popleft()
        if self._board is None:
            if not self.lost:
                raise SourceError("BrainFlowSource.read() needs open() first")
            self._reconnect()
            return None
        try:
            data = self._board.get_board_data()
        except BrainFlowError as exc:
            self._drop_out(f"get_board_data failed: {exc}")
            return None
        now = self.clock.now()
        if data.size and data.shape[1]:
            self._heard_at = now
            self._pending.extend(self.split(data))
        elif now - self._heard_at > SILENT_DROP_OUT_S:
            self._drop_out(f"no data for {now - self._heard_at:.0f} s")
        return self._pending.popleft() if self._pending else None

    def _drop_out(self, why: str) -> None:
        """The board stopped answering: release it and try again every RECONNECT_S."""
        self.close()
        self.lost = why
        self._lost_at = self.clock.now()
        self._next_attempt = self._lost_at + RECONNECT_S
        self._last_package = None  # a re-opened board counts its packages afresh

    def _reconnect(self) -> None:
        now = self.clock.now()
        if now < self._next_attempt:
            return
        self._next_attempt = now + RECONNECT_S
        try:
            self.open()
        except SourceError:
            return  # still away; BrainFlow has logged why
        self.n_reconnects += 1

    def split(self, data: np.ndarray) -> list[Chunk]:
        """Turn one drained BrainFlow array into contiguous chunks with gap/overrun/marker events.

        Public so recorded or crafted arrays can be pushed through the same logic.
        """
        lay = self.layout
        if data.ndim != 2 or data.shape[0] != lay.n_rows:
            raise SourceError(f"expected a ({lay.n_rows}, n) BrainFlow array, got shape {data.shape}")
        n = data.shape[1]
        first_events: list[SourceEvent] = []
        if n >= self.buffer_size:
            self.n_overruns += 1
            first_events.append(SourceEvent("overrun", self._next_sample, {
                "drained": int(n), "buffer_size": self.buffer_size,
                "detail": "BrainFlow ring buffer was full: older samples were overwritten",
            }))
        ts = data[lay.timestamp_row] if lay.timestamp_row is not None else None
        if self.lost:
            first_events.append(self._back(ts))
        gaps: list[Gap] = []
        if lay.package_row is not None:
            pk = data[lay.package_row]
            top = int(pk.max(initial=0))
            if top >= self.package_modulus and not self._fixed_modulus:
                # a wider counter than one byte: its period is the next power of two (while
                # it is still climbing, differences of consecutive values stay exact anyway)
                self.package_modulus = 1 << top.bit_length()
            gaps = find_gaps(pk, modulus=self.package_modulus, previous_package=self._last_package,
                             timestamps=ts, previous_timestamp=self._last_timestamp, sfreq=self.sfreq)
            self._last_package = float(pk[-1])
        if ts is not None:
            self._last_timestamp = float(ts[-1])
        cuts = [g.index for g in gaps] + [n]
        chunks = []
        start = 0
        gap_iter = iter(gaps)
        pending_gap = next(gap_iter, None)
        for cut in cuts:
            events = list(first_events) if start == 0 else []
            if pending_gap is not None and pending_gap.index == start:
                self._next_sample += pending_gap.missing
                self.n_gaps += 1
                events.append(SourceEvent("gap", self._next_sample, {
                    "missing": pending_gap.missing,
                    "package_before": pending_gap.package_before,
                    "package_after": pending_gap.package_after,
                }))
                pending_gap = next(gap_iter, None)
            if cut > start:
                chunks.append(self._chunk(data[:, start:cut], events))
            elif events:  # a gap at the very end cannot happen; keep the events anyway
                first_events = events
            start = cut
        return chunks

    def _back(self, ts: np.ndarray | None) -> SourceEvent:
        """The gap event of the first samples after a drop-out; advances the sample index."""
        if ts is not None and self._last_timestamp is not None:
            away_s = float(ts[0]) - self._last_timestamp
        else:
            away_s = self.clock.now() - (self._lost_at or self.clock.now())
        missing = max(0, round(away_s * self.sfreq) - 1)
        self._next_sample += missing
        self.n_gaps += 1
        event = SourceEvent("gap", self._next_sample, {
            "missing": missing, "cause": "board reconnected", "error": self.lost})
        self.lost, self._lost_at = "", None
        return event

    def _chunk(self, seg: np.ndarray, events: list[SourceEvent]) -> Chunk:
        lay = self.layout
        first = self._next_sample
        n = seg.shape[1]
        if lay.marker_row is not None:
            marks = seg[lay.marker_row]
            for i in np.flatnonzero(marks):
                events.append(SourceEvent("marker", first + int(i), {"value": float(marks[i])}))
        if lay.timestamp_row is not None:
            ts = seg[lay.timestamp_row].astype(float)
        else:
            ts = self.clock.now() + (np.arange(n) - n) / self.sfreq
        self._next_sample += n
        return Chunk(
            data=np.ascontiguousarray(seg[list(lay.rows)], dtype=np.float64),
            first_sample=first,
            sfreq=self.sfreq,
            channel_names=self.channel_names,
            channel_types=self.channel_types,
            timestamps=ts,
            events=tuple(events),
        )

    def close(self) -> None:
        """Stop streaming and release the board; idempotent, never raises BrainFlow errors."""
        self.lost = ""  # closed on purpose: no reconnecting
        board, self._board = self._board, None
        if board is None:
            return
        for step in (board.stop_stream, board.release_session):
            with contextlib.suppress(BrainFlowError):
                step()
