"""The unit of data that flows from a source through the stage chain to the recorder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Channel types a source may declare. ``emg`` is chin (submental) EMG as in PSG;
#: ``forearm_emg`` is the grip-decoding armband; ``misc`` is anything else recorded as is.
CHANNEL_TYPES = ("eeg", "eog", "emg", "forearm_emg", "misc")
#: Highest sampling rate (Hz) a recording read from a file may declare.
MAX_SFREQ = 1e6


@dataclass(frozen=True)
class SourceEvent:
    """Something a source noticed besides samples: a marker, a gap, an overrun, an annotation.

    Parameters
    ----------
    kind
        Journal event kind, e.g. ``"marker"``, ``"gap"``, ``"overrun"``, ``"annotation"``.
    sample
        Absolute sample index the event refers to.
    payload
        JSON-serialisable details.
    """

    kind: str
    sample: int
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A block of consecutive samples from one source.

    Parameters
    ----------
    data
        ``(n_channels, n_samples)`` float64 in µV.
    first_sample
        Absolute index of ``data[:, 0]`` since the source opened; consecutive chunks have
        ``next.first_sample == prev.first_sample + prev.n_samples`` unless samples were lost.
    sfreq
        Sampling rate in Hz.
    channel_names, channel_types
        One entry per row of ``data``; types from :data:`CHANNEL_TYPES`.
    timestamps
        ``(n_samples,)`` wall-clock (or simulated) seconds of each sample.
    events
        Source events that fall in or before this chunk.
    """

    data: np.ndarray
    first_sample: int
    sfreq: float
    channel_names: tuple[str, ...]
    channel_types: tuple[str, ...]
    timestamps: np.ndarray
    events: tuple[SourceEvent, ...] = ()

    def __post_init__(self) -> None:
        if self.data.ndim != 2:
            raise ValueError(f"Chunk.data must be 2-D (n_channels, n_samples), got shape {self.data.shape}")
        n_ch, n = self.data.shape
        if len(self.channel_names) != n_ch or len(self.channel_types) != n_ch:
            raise ValueError(
                f"Chunk has {n_ch} channels but {len(self.channel_names)} names and "
                f"{len(self.channel_types)} types"
            )
        bad = sorted(set(self.channel_types) - set(CHANNEL_TYPES))
        if bad:
            raise ValueError(f"unknown channel types {bad}; allowed: {list(CHANNEL_TYPES)}")
        if self.timestamps.shape != (n,):
            raise ValueError(f"Chunk.timestamps must have shape ({n},), got {self.timestamps.shape}")
        if self.sfreq <= 0:
            raise ValueError(f"Chunk.sfreq must be > 0, got {self.sfreq}")

    @property
    def n_samples(self) -> int:
        """Number of samples per channel."""
        return int(self.data.shape[1])

    @property
    def end_sample(self) -> int:
        """Absolute index one past the last sample."""
        return self.first_sample + self.n_samples

    def picks(self, channel_type: str) -> np.ndarray:
        """Row indices of the channels of one type."""
        return np.array([i for i, t in enumerate(self.channel_types) if t == channel_type], dtype=np.intp)

    def select(self, rows: np.ndarray | list[int]) -> Chunk:
        """A chunk with only the given rows, same indices and timestamps."""
        rows = list(rows)
        return Chunk(
            data=self.data[rows],
            first_sample=self.first_sample,
            sfreq=self.sfreq,
            channel_names=tuple(self.channel_names[i] for i in rows),
            channel_types=tuple(self.channel_types[i] for i in rows),
            timestamps=self.timestamps,
            events=self.events,
        )
