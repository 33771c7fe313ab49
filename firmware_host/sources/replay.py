"""Replay of recorded files (EDF/EDF+/BDF via MNE, BrainFlow data files) paced by a clock.

The clock decides the speed: a real clock replays at 1× (or N× with ``RealClock(speed)``),
a fake clock that the loop advances replays as fast as possible. EDF+ annotations and
BrainFlow markers come out as ``annotation`` / ``marker`` events at their sample.
"""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from firmware_host.chunk import CHANNEL_TYPES, MAX_SFREQ, SourceEvent
from firmware_host.clock import Clock
from firmware_host.config.schema import ReplaySourceConfig
from firmware_host.sources.base import SourceError
from firmware_host.sources.paced import MAX_CHUNK_S, PacedSource

EDF_SUFFIXES = (".edf", ".bdf", ".rec")
BRAINFLOW_SUFFIXES = (".csv", ".tsv", ".txt", ".dat")
#: Units MNE recognises and converts to volts; every other unit is returned unscaled.
MNE_SCALED = {"uV": 1e-6, "µV": 1e-6, "μV": 1e-6, "mV": 1e-3}
READ_BLOCK_S = 30.0
_TEN_TWENTY = re.compile(r"^(FP|AF|FC|FT|CP|TP|PO|F|C|T|P|O|A|M)(\d+|Z)\b")


def guess_channel_type(name: str) -> str:
    """Channel type from a PSG-style label (``EEG Fpz-Cz``, ``C3-A1``, ``EOG1-A1``, ``Chin``...)."""
    u = name.upper().strip()
    if "ECG" in u or "EKG" in u:
        return "misc"
    if "EOG" in u or u.startswith(("E1", "E2", "LOC", "ROC")):
        return "eog"
    if "EMG" in u or "CHIN" in u or "SUBMENTAL" in u:
        return "emg"
    if u.startswith("EEG") or _TEN_TWENTY.match(u):
        return "eeg"
    return "misc"


def uv_factor(unit: str) -> float:
    """Multiply MNE's ``get_data()`` of a channel with header unit ``unit`` by this to get µV.

    MNE converts ``uV``/``µV``/``mV`` to volts and leaves every other unit as written: ``UV``
    (upper case, as in DREAMS files) is then already µV, ``V`` is volts, and non-voltage
    units (``%``, ``bpm``) are kept as they are.
    """
    unit = unit.strip()
    if unit in MNE_SCALED or unit == "V":
        return 1e6
    if unit == "MV":
        return 1e3
    return 1.0


@dataclass(frozen=True)
class EdfSignal:
    """One signal of an EDF header."""

    label: str
    unit: str
    sfreq: float


#: Most signals an EDF header may declare (the format's own field allows 9999).
MAX_EDF_SIGNALS = 4096


def read_edf_signals(path: Path) -> list[EdfSignal]:
    """Labels, physical units and sampling rates from an EDF/EDF+/BDF header.

    The ``EDF Annotations`` pseudo-signal is left out.

    Raises
    ------
    SourceError
        The file cannot be read or its header is not an EDF header (naming the field).
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(256)
            n_sig = int(head[252:256].decode("ascii").strip())
            record_s = float(head[244:252].decode("ascii").strip() or 0)
            if not 0 < n_sig <= MAX_EDF_SIGNALS or not math.isfinite(record_s):
                raise ValueError(f"{n_sig} signals of {record_s} s records; allowed 1.."
                                 f"{MAX_EDF_SIGNALS} signals and a finite duration")
            fields = fh.read(256 * n_sig)
        if len(fields) < 256 * n_sig:
            raise ValueError(f"the header of {n_sig} signals is cut short")

        def column(offset: int, width: int) -> list[str]:
            start = offset * n_sig
            return [fields[start + i * width:start + (i + 1) * width].decode("latin-1").strip()
                    for i in range(n_sig)]

        labels = column(0, 16)
        units = column(16 + 80, 8)
        n_samps = [int(v or 0) for v in column(16 + 80 + 8 + 8 * 4 + 80, 8)]
    except (OSError, ValueError) as exc:  # ValueError: UnicodeDecodeError and number fields too
        raise SourceError(f"{path}: not a readable EDF file ({exc})") from None
    if record_s <= 0:
        record_s = 1.0  # EDF+ allows 0 for annotation-only files
    return [
        EdfSignal(lab, unit, n / record_s)
        for lab, unit, n in zip(labels, units, n_samps, strict=True)
        if lab not in ("EDF Annotations", "BDF Annotations")
    ]


def edf_truncation(path: Path) -> str:
    """Why the EDF/BDF file at ``path`` holds fewer data records than its header says ("" if
    it holds them all, or the header leaves the count open with -1)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(256)
            n_records = int(head[236:244].decode("ascii").strip())
            n_sig = int(head[252:256].decode("ascii").strip())
            fields = fh.read(256 * n_sig)
        per_record = sum(int(fields[n_sig * 216 + i * 8:n_sig * 216 + (i + 1) * 8].decode("ascii")
                             .strip() or 0) for i in range(n_sig))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return f"not a readable EDF file ({exc})"
    width = 3 if head[:1] == b"\xff" else 2  # BDF: 24-bit samples
    record_bytes = per_record * width
    if n_records < 0 or record_bytes <= 0:
        return ""
    held = (path.stat().st_size - 256 * (n_sig + 1)) // record_bytes
    if held >= n_records:
        return ""
    return (f"truncated: its header promises {n_records} data records, the file holds {max(held, 0)} "
            "(a copy cut short, or a recording that was not closed)")


class _EdfFile:
    """Lazy, block-cached reader of the chosen channels of an EDF file."""

    def __init__(self, path: Path, channels: tuple[str, ...]) -> None:
        import mne

        signals = read_edf_signals(path)
        damage = edf_truncation(path)
        if damage:
            raise SourceError(f"{path}: {damage}; allowed: a complete EDF file")
        by_label = {s.label: s for s in signals}
        if channels:
            unknown = [c for c in channels if c not in by_label]
            if unknown:
                raise SourceError(
                    f"source.replay.channels: {unknown} not in {path.name}; available: {list(by_label)}"
                )
            chosen = [by_label[c] for c in channels]
            rates = {s.sfreq for s in chosen}
            if len(rates) > 1:
                listing = ", ".join(f"{s.label}={s.sfreq:g} Hz" for s in chosen)
                raise SourceError(
                    f"source.replay.channels mix sampling rates ({listing}); choose channels "
                    f"that share one rate"
                )
        else:
            counts = Counter(s.sfreq for s in signals)
            if not counts:
                raise SourceError(f"{path}: no signals in the EDF file")
            rate = max(counts, key=lambda r: (counts[r], r))
            chosen = [s for s in signals if s.sfreq == rate]
        try:
            raw = mne.io.read_raw_edf(path, include=[s.label for s in chosen], preload=False,
                                      verbose="error")
        except Exception as exc:  # noqa: BLE001 - MNE raises many types for a damaged file
            raise SourceError(f"{path}: MNE cannot read the EDF file ({exc})") from None
        missing = [s.label for s in chosen if s.label not in raw.ch_names]
        if missing:
            raise SourceError(f"{path}: MNE did not read channels {missing} (it read {raw.ch_names})")
        # MNE keeps file order whatever the include order: pick rows in the order asked for
        self._picks = [raw.ch_names.index(s.label) for s in chosen]
        self.raw = raw
        self.sfreq = float(raw.info["sfreq"])
        if not 0 < self.sfreq <= MAX_SFREQ:
            raise SourceError(f"{path}: a sampling rate of {self.sfreq:g} Hz (from its record "
                              f"duration and samples per record); allowed: up to {MAX_SFREQ:g} Hz")
        self.names = tuple(s.label for s in chosen)
        self.factor = np.array([uv_factor(s.unit) for s in chosen])[:, None]
        self.n_samples = int(raw.n_times)
        self._block = max(1, int(READ_BLOCK_S * self.sfreq))
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self.events = [
            SourceEvent("annotation", int(round((onset - raw.first_time) * self.sfreq)),
                        {"description": str(desc), "duration": float(dur)})
            for onset, dur, desc in zip(raw.annotations.onset, raw.annotations.duration,
                                        raw.annotations.description, strict=True)
        ]

    def read(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((len(self.names), stop - start))
        pos = start
        while pos < stop:
            k = pos // self._block
            block = self._cache.get(k)
            if block is None:
                lo = k * self._block
                hi = min(self.n_samples, lo + self._block)
                try:
                    block = self.raw.get_data(picks=self._picks, start=lo, stop=hi) * self.factor
                except Exception as exc:  # noqa: BLE001 - MNE raises many types for a damaged file
                    raise SourceError(f"{self.raw.filenames[0]}: samples {lo}..{hi} cannot be "
                                      f"read ({exc})") from None
                self._cache[k] = block
                if len(self._cache) > 2:
                    self._cache.popitem(last=False)
            hi = min(stop, (k + 1) * self._block)
            out[:, pos - start:hi - start] = block[:, pos - k * self._block:hi - k * self._block]
            pos = hi
        return out


class _BrainFlowFile:
    """A BrainFlow ``DataFilter.write_file`` file laid out like ``board``."""

    def __init__(self, path: Path, board: str, channels: tuple[str, ...]) -> None:
        from firmware_host.sources.brainflow_board import board_layout, read_data_file, resolve_board

        layout = board_layout(resolve_board(board, "source.replay.board"))
        data = read_data_file(str(path))
        if data.ndim != 2 or data.shape[0] != layout.n_rows:
            raise SourceError(
                f"{path}: has {data.shape[0]} rows but board {board!r} writes {layout.n_rows}; "
                f"set source.replay.board to the board that recorded it"
            )
        rows = list(layout.rows)
        names = list(layout.names)
        if channels:
            unknown = [c for c in channels if c not in names]
            if unknown:
                raise SourceError(f"source.replay.channels: {unknown} not in board layout {names}")
            rows = [rows[names.index(c)] for c in channels]
            names = list(channels)
        self.sfreq = layout.sfreq
        self.names = tuple(names)
        self.types = tuple(layout.types[list(layout.rows).index(r)] for r in rows)
        self.data = np.ascontiguousarray(data[rows], dtype=np.float64)
        self.n_samples = int(data.shape[1])
        self.events = []
        if layout.marker_row is not None:
            marks = data[layout.marker_row]
            self.events = [SourceEvent("marker", int(i), {"value": float(marks[i])})
                           for i in np.flatnonzero(marks)]

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.data[:, start:stop]


class ReplaySource(PacedSource):
    """Replays an EDF/EDF+/BDF or BrainFlow file as a clock-paced source.

    Parameters
    ----------
    cfg
        ``[source.replay]``: path, format, board layout for BrainFlow files, channel subset and
        types, loop.
    clock
        Paces the replay (1×, N× or max speed by choice of clock).
    max_chunk_s
        Longest chunk one read returns.

    Notes
    -----
    EDF channels at different sampling rates cannot share a chunk: with no channel list the
    most common rate is kept (ties: the higher rate); with a list, all listed channels must
    share a rate. With ``loop`` the file restarts at its end and sample indices keep counting.
    """

    def __init__(self, cfg: ReplaySourceConfig, clock: Clock, max_chunk_s: float = MAX_CHUNK_S) -> None:
        super().__init__(clock, max_chunk_s)
        path = Path(cfg.path).expanduser()
        if not cfg.path:
            raise SourceError("source.replay.path is empty; give the EDF or BrainFlow file to replay")
        if not path.is_file():
            raise SourceError(f"source.replay.path={cfg.path!r}: no such file")
        fmt = cfg.format
        if fmt == "auto":
            suffix = path.suffix.lower()
            if suffix in EDF_SUFFIXES:
                fmt = "edf"
            elif suffix in BRAINFLOW_SUFFIXES:
                fmt = "brainflow"
            else:
                raise SourceError(
                    f"source.replay.path={cfg.path!r}: cannot tell the format from {suffix!r}; "
                    f"set source.replay.format to 'edf' or 'brainflow' (EDF suffixes "
                    f"{EDF_SUFFIXES}, BrainFlow {BRAINFLOW_SUFFIXES})"
                )
        self.path = path
        self.format = fmt
        if fmt == "edf":
            self._file: _EdfFile | _BrainFlowFile = _EdfFile(path, tuple(cfg.channels))
            types = tuple(guess_channel_type(n) for n in self._file.names)
        else:
            self._file = _BrainFlowFile(path, cfg.board, tuple(cfg.channels))
            types = self._file.types
        if cfg.channel_types:
            if len(cfg.channel_types) != len(self._file.names):
                raise SourceError(
                    f"source.replay.channel_types has {len(cfg.channel_types)} entries for "
                    f"{len(self._file.names)} channels {list(self._file.names)}"
                )
            bad = sorted(set(cfg.channel_types) - set(CHANNEL_TYPES))
            if bad:
                raise SourceError(
                    f"source.replay.channel_types: unknown {bad}; allowed: {list(CHANNEL_TYPES)}"
                )
            types = tuple(cfg.channel_types)
        if self._file.n_samples == 0:
            raise SourceError(f"{path}: the file holds no samples")
        self.sfreq = self._file.sfreq
        self.channel_names = self._file.names
        self.channel_types = types
        self.file_samples = self._file.n_samples
        self.loop = bool(cfg.loop)
        self.n_samples = None if self.loop else self.file_samples
        # events outside the file (an annotation before the first sample) are put at its edge
        self._file_events = sorted(
            (SourceEvent(e.kind, min(max(e.sample, 0), self.file_samples - 1), e.payload)
             for e in self._file.events),
            key=lambda e: e.sample,
        )
        self._event_samples = np.array([e.sample for e in self._file_events], dtype=np.int64)

    def _fetch(self, start: int, stop: int) -> np.ndarray:
        n = self.file_samples
        out = np.empty((len(self.channel_names), stop - start))
        pos = start
        while pos < stop:
            lap_end = (pos // n + 1) * n
            hi = min(stop, lap_end)
            out[:, pos - start:hi - start] = self._file.read(pos % n, pos % n + hi - pos)
            pos = hi
        return out

    def _events(self, start: int, stop: int) -> list[SourceEvent]:
        n = self.file_samples
        out = []
        for lap in range(start // n, (stop - 1) // n + 1):
            base = lap * n
            lo = int(np.searchsorted(self._event_samples, start - base))
            hi = int(np.searchsorted(self._event_samples, stop - base))
            out += [SourceEvent(e.kind, e.sample + base, dict(e.payload))
                    for e in self._file_events[lo:hi]]
        return out
