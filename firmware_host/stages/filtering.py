"""``FilterStage``: causal band-pass / high-pass / notch filtering per channel type.

Configured by the ``[filters]`` section (:class:`FilterConfig`). Filters are designed when
the first chunk reveals the sampling rate and channel layout; a band impossible at that
rate raises :class:`ValueError` naming the config key, the band, fs and Nyquist
(call :meth:`FilterStage.check` at start-up to fail before the night begins).

Gaps (``chunk.first_sample`` not following the previous chunk) reset the filters: they
restart from the steady state of the first sample after the gap instead of ringing on the
jump. A chunk with NaN/inf in a channel group yields NaN for that group in that chunk and
resets the group's filter (the night goes on; the stager sees NaN and can abstain).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from dsp.filters import (
    StreamingFilter,
    chain,
    design_bandpass,
    design_highpass,
    design_lowpass,
    design_notch,
)
from firmware_host.chunk import CHANNEL_TYPES, Chunk
from firmware_host.config.fields import setting
from firmware_host.stages.base import StageOutput

#: Channel type -> the FilterConfig field holding its (low, high) band.
BAND_FIELDS = {
    "eeg": "eeg_band_hz",
    "eog": "eog_band_hz",
    "emg": "emg_band_hz",
    "forearm_emg": "forearm_band_hz",
}


@dataclass(frozen=True)
class FilterConfig:
    """``[filters]``: causal filters applied to the live signal, per channel type.

    A band is ``[low, high]`` in Hz: both > 0 → band-pass, ``high = 0`` → high-pass only,
    ``low = 0`` → low-pass only, both 0 → no band filter. ``misc`` channels pass untouched.
    """

    enabled: bool = setting(
        False, doc="run the display filters (their output feeds live views only: the deciding "
        "stages have their own front ends, so this is off unless something shows the traces)",
    )
    order: int = setting(4, min=1, max=8, doc="Butterworth order per band edge")
    eeg_band_hz: tuple[float, float] = setting(
        (0.3, 35.0), min=0.0, max=10000.0, doc="EEG [low, high] Hz; 0 disables that edge"
    )
    eog_band_hz: tuple[float, float] = setting(
        (0.3, 35.0), min=0.0, max=10000.0, doc="EOG [low, high] Hz; 0 disables that edge"
    )
    emg_band_hz: tuple[float, float] = setting(
        (10.0, 0.0), min=0.0, max=10000.0, doc="chin EMG [low, high] Hz; 0 disables that edge"
    )
    forearm_band_hz: tuple[float, float] = setting(
        (20.0, 0.0), min=0.0, max=10000.0, doc="forearm EMG [low, high] Hz; 0 disables that edge"
    )
    notch_hz: float = setting(50.0, choices=(0.0, 50.0, 60.0), doc="mains frequency; 0 = no notch")
    notch_q: float = setting(30.0, min=1.0, max=200.0, doc="notch quality factor")
    notch_harmonics: bool = setting(True, doc="also notch harmonics below Nyquist")
    notch_types: tuple[str, ...] = setting(
        ("eeg", "eog", "emg", "forearm_emg"), choices=CHANNEL_TYPES, doc="channel types notched"
    )

    def design(self, channel_type: str, sfreq: float) -> np.ndarray | None:
        """The sos cascade for one channel type at ``sfreq`` (``None``: pass through).

        Raises
        ------
        ValueError
            When the configured band or notch is impossible at ``sfreq``; the message names
            the config key.
        """
        parts = []
        key = BAND_FIELDS.get(channel_type)
        if key is not None:
            low, high = getattr(self, key)
            try:
                if low > 0 and high > 0:
                    parts.append(design_bandpass(low, high, sfreq, self.order))
                elif low > 0:
                    parts.append(design_highpass(low, sfreq, self.order))
                elif high > 0:
                    parts.append(design_lowpass(high, sfreq, self.order))
            except ValueError as exc:
                raise ValueError(f"filters.{key} = [{low:g}, {high:g}]: {exc}") from None
        # A mains frequency at or above Nyquist cannot be in the signal: no notch needed.
        if self.notch_hz > 0 and channel_type in self.notch_types and self.notch_hz < sfreq / 2:
            parts.append(design_notch(self.notch_hz, sfreq, self.notch_q, self.notch_harmonics))
        return chain(*parts) if parts else None


class FilterStage:
    """Applies the configured filter chain to each channel type of every chunk.

    Parameters
    ----------
    config
        The ``[filters]`` section.
    name
        Stage name shown in the journal.
    """

    def __init__(self, config: FilterConfig | None = None, name: str = "filters") -> None:
        self.config = config or FilterConfig()
        self.name = name
        self._layout: tuple[float, tuple[str, ...]] | None = None
        self._groups: list[tuple[np.ndarray | slice, StreamingFilter]] = []
        self._expected: int | None = None
        self.n_resets = 0

    def check(self, sfreq: float, channel_types: tuple[str, ...]) -> None:
        """Design every filter now (raises the configuration error early, if any)."""
        self._build(sfreq, tuple(channel_types))

    def _build(self, sfreq: float, types: tuple[str, ...]) -> None:
        groups = []
        for ctype in dict.fromkeys(types):
            sos = self.config.design(ctype, sfreq)
            if sos is None:
                continue
            rows = _rows_index([i for i, t in enumerate(types) if t == ctype])
            n_rows = len(range(*rows.indices(len(types)))) if isinstance(rows, slice) else len(rows)
            groups.append((rows, StreamingFilter(sos, n_rows)))
        self._groups = groups
        self._layout = (float(sfreq), types)
        self._expected = None

    def reset(self) -> None:
        """Forget filter states; the next chunk starts from its own steady state."""
        for _, filt in self._groups:
            filt.reset()
        self._expected = None

    def update(self, chunk: Chunk) -> StageOutput:
        """Return the chunk with filtered data (the input chunk is not modified)."""
        if not self.config.enabled or chunk.n_samples == 0:
            return StageOutput(chunk)
        layout = (float(chunk.sfreq), tuple(chunk.channel_types))
        if layout != self._layout:
            self._build(*layout)
        elif self._expected is not None and chunk.first_sample != self._expected:
            self.reset()
            self.n_resets += 1
        self._expected = chunk.end_sample
        if not self._groups:
            return StageOutput(chunk)
        data = np.array(chunk.data, dtype=np.float64, order="C", copy=True)
        for rows, filt in self._groups:
            try:
                block = np.ascontiguousarray(chunk.data[rows], dtype=np.float64)
                if isinstance(rows, slice):  # consecutive rows: filter straight into the copy
                    filt.process_into(block, data[rows])
                else:
                    data[rows] = filt.process_into(block, np.empty_like(block))
            except ValueError:
                if np.isfinite(chunk.data[rows]).all():
                    raise
                data[rows] = np.nan
                filt.reset()
        return StageOutput(dataclasses.replace(chunk, data=data))


def _rows_index(rows: list[int]) -> np.ndarray | slice:
    """A slice for consecutive rows (a view of the block, no copy), else an index array."""
    if rows and rows == list(range(rows[0], rows[-1] + 1)):
        return slice(rows[0], rows[-1] + 1)
    return np.array(rows, dtype=np.intp)
