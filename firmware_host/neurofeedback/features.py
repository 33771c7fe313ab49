"""The feature front end: trained signal → band powers and artefact measures at every update.

Per sample, causally and chunking-invariantly (every piece is a streaming ``dsp`` kernel):

* the trained signal = average (or difference) of the protocol's EEG channels;
* each band (trained band, reference band, inhibit bands) through a Butterworth band-pass
  (:class:`dsp.filters.StreamingFilter`), then its power over the last ``window_s``
  (:class:`dsp.moving_mean.StreamingMovingMean` with ``square=True``);
* gate measures as RMS over ``gates.window_s``: high-passed EOG (blinks, saccades; largest EOG
  channel), the trained signal's muscle band (EMG/clench), and its broadband amplitude.

Every ``sfreq / update_hz`` samples (counted from the first sample after a start or gap)
one update (a column of :class:`Updates`) is read off the streams.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.filters import StreamingFilter, design_bandpass, design_highpass
from dsp.moving_mean import StreamingMovingMean
from firmware_host.neurofeedback.config import NeurofeedbackConfig

#: Broadband amplitude gate: high-pass edge (Hz) that removes electrode offsets.
AMPLITUDE_HP_HZ = 0.5


@dataclass(frozen=True)
class Updates:
    """The updates that fell inside one chunk.

    Attributes
    ----------
    offsets
        ``(m,)`` positions in the chunk of each update's last sample.
    powers
        ``(n_bands, m)`` band powers (µV²) in :attr:`FeatureFrontEnd.band_names` order.
    gates
        ``(3, n)`` RMS in µV of ``eog``, ``emg`` and ``amplitude`` at *every* sample of the
        chunk (NaN when unavailable), so gates can look past an update.
    warm
        ``(m,)`` whether the power window and filters had a whole window of data.
    """

    offsets: np.ndarray
    powers: np.ndarray
    gates: np.ndarray
    warm: np.ndarray


#: The gate measures, in the row order of :attr:`Updates.gates` (the ``flat`` gate reads
#: ``amplitude`` from below).
GATE_NAMES = ("eog", "emg", "amplitude")


class FeatureFrontEnd:
    """Streams the protocol's band powers and gate measures.

    Parameters
    ----------
    cfg
        The ``[neurofeedback]`` section.
    sfreq
        Sampling rate (Hz).
    rows
        Rows of the trained EEG channels in the chunk.
    eog_rows
        Rows of EOG channels (may be empty: the EOG gate is then unavailable).
    """

    def __init__(self, cfg: NeurofeedbackConfig, sfreq: float, rows: list[int],
                 eog_rows: list[int]) -> None:
        spec = cfg.feature_spec
        self.rows = np.asarray(rows, dtype=np.intp)
        self.eog_rows = np.asarray(eog_rows, dtype=np.intp)
        self.weights = (np.array([1.0, -1.0]) if cfg.combine == "difference"
                        else np.full(len(rows), 1.0 / len(rows)))
        bands = {"band": spec.band}
        if spec.kind != "absolute":
            bands["reference"] = spec.reference_band
        for i, b in enumerate(spec.inhibit_bands):
            bands[f"inhibit{i}"] = b
        self.band_names = tuple(bands)
        order = cfg.filter_order
        self._band_filters = [StreamingFilter(design_bandpass(lo, hi, sfreq, order), 1)
                              for lo, hi in bands.values()]
        self._power = StreamingMovingMean(max(1, round(cfg.window_s * sfreq)), len(bands), square=True)
        g = cfg.gates
        self._emg_filter = StreamingFilter(design_bandpass(*g.emg_band, sfreq, order), 1)
        self._amp_filter = StreamingFilter(design_highpass(AMPLITUDE_HP_HZ, sfreq, 2), 1)
        self._eog_filter = (StreamingFilter(design_highpass(g.eog_highpass_hz, sfreq, 1), len(eog_rows))
                            if len(eog_rows) else None)
        n_gate = 2 + len(eog_rows)
        self._gate_power = StreamingMovingMean(max(1, round(g.window_s * sfreq)), n_gate, square=True)
        self.hop = max(1, round(sfreq / cfg.update_hz))
        #: Samples before an update counts as warm: the power window plus filter settling.
        self.warmup = round(max(cfg.window_s, 1.0) * sfreq) + round(sfreq / max(spec.band[0], 1.0))
        self._since_start = 0

    def reset(self) -> None:
        """Forget all state (after a gap); the next sample starts a new count."""
        for f in (*self._band_filters, self._emg_filter, self._amp_filter):
            f.reset()
        if self._eog_filter is not None:
            self._eog_filter.reset()
        self._power.reset()
        self._gate_power.reset()
        self._since_start = 0

    def process(self, data: np.ndarray) -> Updates:
        """Stream one chunk's ``(n_channels, n)`` data; return the updates inside it."""
        n = data.shape[1]
        signal = (self.weights @ data[self.rows])[None, :]
        bands = np.vstack([f.process(signal) for f in self._band_filters])
        powers = self._power.process(bands)
        parts = [self._emg_filter.process(signal), self._amp_filter.process(signal)]
        if self._eog_filter is not None:
            parts.append(self._eog_filter.process(data[self.eog_rows]))
        gate_ms = self._gate_power.process(np.vstack(parts))
        counts = self._since_start + 1 + np.arange(n)
        offsets = np.flatnonzero(counts % self.hop == 0)
        self._since_start += n
        rms = np.sqrt(gate_ms)
        eog = rms[2:].max(axis=0) if self._eog_filter is not None else np.full(n, np.nan)
        gates = np.vstack([eog, rms[0], rms[1]])
        return Updates(offsets, powers[:, offsets], gates, counts[offsets] >= self.warmup)
