"""The seeded synthetic night: stage-driven EEG/EOG/chin EMG plus forearm grip EMG.

How it stays deterministic, seamless and fast
---------------------------------------------
* Rhythms are seeded white noise through fixed FIR filters (:mod:`.filters`). The white
  noise of block ``k`` (one block = one epoch) comes from an RNG seeded by ``(seed, k)``, so
  any sample's value depends only on its index: block edges are seamless because each
  block is filtered with the true tail of the previous block's noise.
* Stage gains change per epoch and cross-fade linearly over ±2 s around each boundary.
* Graphoelements, gestures and artefacts are placed once at construction (cheap: a few
  per epoch) and rendered into whichever block they overlap.
* Blocks are rendered on demand and a few are cached, so ``generate`` in small chunks costs
  about the same as in big ones and the night never sits in memory as a whole.
"""

from __future__ import annotations

import bisect
import math
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from firmware_host.config.schema import SyntheticSourceConfig
from firmware_host.synthetic import filters
from firmware_host.synthetic.artefacts import epoch_artefacts
from firmware_host.synthetic.forearm import grip_patterns, place_gestures
from firmware_host.synthetic.layout import Layout
from firmware_host.synthetic.script import default_gesture_script, scripted_hypnogram
from firmware_host.synthetic.transients import Placed, draw_traits, epoch_transients, render
from firmware_host.synthetic.truth import (
    ArtefactEvent,
    GestureEvent,
    TransientEvent,
)
from firmware_host.vocabulary import GRIP_INTENTS, STAGES

__all__ = ["GRIP_INTENTS", "STAGES", "ArtefactEvent", "GestureEvent", "SyntheticNight", "TransientEvent"]

#: Gain columns (µV RMS of each component).
GAINS = ("delta", "theta", "alpha", "beta", "background", "eog_background", "muscle", "chin")
#: Typical gains per stage; ``W`` is eyes open, ``Wc`` eyes closed (strong alpha).
STAGE_GAINS: dict[str, tuple[float, ...]] = {
    "W": (5.0, 4.0, 6.0, 5.0, 9.0, 6.0, 2.0, 18.0),
    "Wc": (5.0, 4.0, 16.0, 4.0, 9.0, 6.0, 1.5, 15.0),
    "N1": (8.0, 10.0, 5.0, 3.0, 9.0, 5.0, 0.8, 10.0),
    "N2": (12.0, 8.0, 3.0, 2.5, 10.0, 5.0, 0.5, 7.0),
    "N3": (40.0, 8.0, 2.0, 1.5, 10.0, 5.0, 0.4, 6.0),
    "REM": (7.0, 9.0, 2.5, 2.0, 8.0, 5.0, 0.5, 1.5),
}
_D, _T, _A, _B, _BG, _EBG, _MUS, _CHIN = range(len(GAINS))
#: Share of the frontal delta that EOG electrodes pick up.
EOG_DELTA_LEAK = 0.35
CROSSFADE_S = 2.0
FILTER_S = 4.0


class SyntheticNight:
    """A whole night of synthetic PSG + forearm EMG that knows its own truth.

    Parameters
    ----------
    cfg
        Seed, sampling rate, channel names and artefact/gesture switches.
    duration_s
        Length of the night in seconds.
    hypnogram
        One stage from :data:`STAGES` per epoch; ``None`` uses the scripted night scaled to
        ``duration_s``. A shorter hypnogram is padded with ``"W"`` (awake after the scored
        part), a longer one is cut.
    gesture_script
        Grip gestures to perform; ``None`` gives the default sessions when ``cfg.gestures``
        is true and none otherwise.
    epoch_s
        Seconds per hypnogram entry.

    Attributes
    ----------
    hypnogram : tuple of str
        Truth, one stage per epoch.
    gestures, artefacts, transients : tuple
        Truth records of what was inserted.
    """

    def __init__(
        self,
        cfg: SyntheticSourceConfig,
        duration_s: float,
        *,
        hypnogram: Sequence[str] | None = None,
        gesture_script: Sequence[GestureEvent] | None = None,
        epoch_s: float = 30.0,
    ) -> None:
        if not duration_s > 0:
            raise ValueError(f"duration_s must be > 0, got {duration_s}")
        self.sfreq = float(cfg.sfreq)
        self.epoch_s = float(epoch_s)
        self._epoch_len = int(round(self.epoch_s * self.sfreq))
        if self._epoch_len < 1:
            raise ValueError(f"epoch_s={epoch_s} is shorter than one sample at {self.sfreq} Hz")
        self.n_samples = int(round(duration_s * self.sfreq))
        n_epochs = max(1, math.ceil(self.n_samples / self._epoch_len))
        self.seed = int(cfg.seed)

        if hypnogram is None:
            stages = scripted_hypnogram(n_epochs * self.epoch_s, self.epoch_s, self.seed)
        else:
            stages = list(hypnogram)
            bad = sorted({s for s in stages if s not in STAGES})
            if bad:
                raise ValueError(f"unknown stages {bad} in hypnogram; allowed: {list(STAGES)}")
        self.hypnogram: tuple[str, ...] = tuple((stages + ["W"] * n_epochs)[:n_epochs])

        self._layout = Layout.from_groups({
            "eeg": tuple(cfg.eeg_channels),
            "eog": tuple(cfg.eog_channels),
            "emg": tuple(cfg.emg_channels),
            "forearm_emg": tuple(cfg.forearm_channels),
        })
        self.channel_names = self._layout.names
        self.channel_types = self._layout.types

        rng = np.random.default_rng([self.seed, 1])
        self._build_filters(rng)
        self._build_gains(rng)
        traits = draw_traits(rng, self._layout)
        self._fa_rows = self._layout.rows("forearm_emg")
        self.grip_patterns = grip_patterns(rng, len(self._fa_rows))
        self._fa_baseline = rng.uniform(2.0, 5.0, len(self._fa_rows))
        fa_gain = rng.uniform(40.0, 80.0)

        placed: list[Placed] = []
        artefacts: list[ArtefactEvent] = []
        for e, stage in enumerate(self.hypnogram):
            erng = np.random.default_rng([self.seed, 2, e])
            start = e * self._epoch_len
            placed += epoch_transients(erng, stage, bool(self._eyes_closed[e]), start,
                                       self._epoch_len, self.sfreq, self._layout, traits)
            if cfg.artefacts:
                p, truth = epoch_artefacts(erng, stage, start, self._epoch_len, self.sfreq,
                                           self._layout)
                placed += p
                artefacts += truth
        # truth is clipped to the night (the last epoch may run past its end)
        end = self.n_samples
        self.transients = tuple(
            TransientEvent(p.start, min(p.stop, end), p.kind, self._names(p.weights))
            for p in sorted(placed, key=lambda p: p.start)
            if p.kind in _PHYSIOLOGICAL and p.start < end
        )
        self.artefacts = tuple(
            ArtefactEvent(a.start_sample, min(a.stop_sample, end), a.kind, a.channels)
            for a in sorted(artefacts, key=lambda a: a.start_sample) if a.start_sample < end
        )

        if gesture_script is None:
            gesture_script = (
                default_gesture_script(self.n_samples / self.sfreq, self.sfreq, self.seed)
                if cfg.gestures else []
            )
        self.gestures: tuple[GestureEvent, ...] = tuple(
            sorted(gesture_script, key=lambda g: g.start_sample)
        )
        placed += place_gestures(self.gestures, np.random.default_rng([self.seed, 3]),
                                 self.grip_patterns, self._fa_rows, self._layout.n, fa_gain)

        placed.sort(key=lambda p: p.start)
        self._placed = placed
        self._starts = [p.start for p in placed]
        self._max_len = max((p.stop - p.start for p in placed), default=0)
        self._noise_cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._block_cache: OrderedDict[int, np.ndarray] = OrderedDict()

    # ------------------------------------------------------------------ public API
    @property
    def n_epochs(self) -> int:
        """Number of hypnogram epochs (the last may extend past ``n_samples``)."""
        return len(self.hypnogram)

    def stage_at(self, sample: int) -> str:
        """True stage of the epoch holding ``sample``."""
        if not 0 <= sample < self.n_samples:
            raise IndexError(f"sample {sample} outside the night [0, {self.n_samples})")
        return self.hypnogram[sample // self._epoch_len]

    def grip_at(self, sample: int) -> str:
        """Grip being performed at ``sample`` (``"rest"`` between gestures)."""
        for g in self.gestures:
            if g.start_sample <= sample < g.stop_sample:
                return g.grip
        return "rest"

    def generate(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of every channel.

        Returns
        -------
        numpy.ndarray
            ``(n_channels, stop - start)`` float64 in µV; identical whatever the chunking.
        """
        start, stop = int(start), int(stop)
        if not 0 <= start <= stop <= self.n_samples:
            raise ValueError(
                f"generate needs 0 <= start <= stop <= n_samples={self.n_samples}, "
                f"got start={start}, stop={stop}"
            )
        out = np.empty((self._layout.n, stop - start))
        n = self._epoch_len
        pos = start
        while pos < stop:
            b = pos // n
            hi = min(stop, (b + 1) * n)
            out[:, pos - start:hi - start] = self._block(b)[:, pos - b * n:hi - b * n]
            pos = hi
        return out

    # ------------------------------------------------------------------ construction
    def _names(self, weights: np.ndarray) -> tuple[str, ...]:
        return tuple(self._layout.names[i] for i in np.flatnonzero(weights))

    def _build_filters(self, rng: np.random.Generator) -> None:
        fs = self.sfreq
        nyq_cap = 0.45 * fs
        lay = self._layout
        shapes = [
            filters.band(0.5, 2.0, 0.2),                                  # delta
            filters.peak(rng.uniform(5.0, 6.5), 1.0),                     # theta
            filters.peak(rng.uniform(8.5, 11.0), 0.6),                    # alpha
            filters.band(15.0, min(30.0, nyq_cap), 2.0),                  # beta
        ]
        self._bg_stream: dict[int, int] = {}
        bg_exponent = rng.uniform(1.2, 1.8)
        for row in np.concatenate([lay.rows("eeg"), lay.rows("eog")]):
            self._bg_stream[int(row)] = len(shapes)
            if lay.types[row] == "eeg":
                shapes.append(filters.pink(0.5, min(35.0, nyq_cap), bg_exponent))
            else:
                shapes.append(filters.pink(0.3, min(15.0, nyq_cap), 2.0))
        self._hf_stream = np.arange(len(shapes), len(shapes) + lay.n)
        for t in lay.types:
            if t == "emg":
                shapes.append(filters.band(10.0, min(100.0, nyq_cap), 3.0))
            else:
                shapes.append(filters.band(20.0, min(120.0, nyq_cap), 3.0))
        n_taps = int(round(FILTER_S * fs))
        self._fir = np.stack([filters.spectral_fir(s, fs, n_taps) for s in shapes])
        # Filtering a block = circular convolution of (previous tail + block) noise, whose last
        # epoch_len outputs equal the linear convolution; the filter spectra are computed once.
        self._n_fft = filters.fast_fft_len(self._epoch_len + n_taps - 1)
        self._fir_fft = np.fft.rfft(self._fir, n=self._n_fft, axis=1)

    def _build_gains(self, rng: np.random.Generator) -> None:
        n_epochs = len(self.hypnogram)
        night = rng.uniform(0.8, 1.25, len(GAINS))
        night[_D] = rng.uniform(0.9, 1.15)  # keep N2 and N3 apart on the AASM 75 µV criterion
        erng = np.random.default_rng([self.seed, 4])
        self._eyes_closed = erng.random(n_epochs) < 0.6
        jitter = erng.uniform(0.85, 1.15, (n_epochs, len(GAINS)))
        table = np.array([
            STAGE_GAINS["Wc" if (s == "W" and self._eyes_closed[e]) else s]
            for e, s in enumerate(self.hypnogram)
        ])
        self._gains = table * night[None, :] * jitter

    # ------------------------------------------------------------------ rendering
    def _noise(self, lo: int, hi: int) -> np.ndarray:
        """Seeded unit white noise of every stream for samples ``[lo, hi)`` (lo may be < 0)."""
        n = self._epoch_len
        parts = []
        for k in range(lo // n, (hi - 1) // n + 1):
            block = self._noise_cache.get(k)
            if block is None:
                rng = np.random.default_rng([self.seed, 5, k + (1 << 30)])
                block = rng.standard_normal((self._fir.shape[0], n))
                self._noise_cache[k] = block
                # one block's filter input spans at most 2 + n_taps // n noise blocks
                if len(self._noise_cache) > 2 + self._fir.shape[1] // n:
                    self._noise_cache.popitem(last=False)
            parts.append(block[:, max(lo, k * n) - k * n:min(hi, (k + 1) * n) - k * n])
        return np.concatenate(parts, axis=1)

    def _gain_curves(self, b: int) -> np.ndarray:
        """``(len(GAINS), epoch_len)`` gains of block ``b``, cross-faded at its edges."""
        n = self._epoch_len
        last = len(self._gains) - 1
        prev_g = self._gains[min(max(b - 1, 0), last)]
        cur_g = self._gains[min(b, last)]
        next_g = self._gains[min(b + 1, last)]
        r = max(1, min(int(round(CROSSFADE_S * self.sfreq)), n // 2))
        pos = np.arange(n)
        w_prev = np.clip(0.5 - pos / (2 * r), 0.0, 0.5)
        w_next = np.clip(0.5 - (n - pos) / (2 * r), 0.0, 0.5)
        w_cur = 1.0 - w_prev - w_next
        return (prev_g[:, None] * w_prev + cur_g[:, None] * w_cur + next_g[:, None] * w_next)

    def _block(self, b: int) -> np.ndarray:
        cached = self._block_cache.get(b)
        if cached is not None:
            return cached
        data = self._render_block(b)
        self._block_cache[b] = data
        if len(self._block_cache) > 3:
            self._block_cache.popitem(last=False)
        return data

    def _render_filtered(self, b: int) -> np.ndarray:
        """Every noise stream of block ``b`` through its FIR (unit-variance rhythms)."""
        n, n_taps = self._epoch_len, self._fir.shape[1]
        lo = b * n
        spectrum = np.fft.rfft(self._noise(lo - n_taps + 1, lo + n), n=self._n_fft, axis=1)
        return np.fft.irfft(spectrum * self._fir_fft, n=self._n_fft, axis=1)[:, n_taps - 1:n_taps - 1 + n]

    def _render_block(self, b: int) -> np.ndarray:
        n = self._epoch_len
        lo, hi = b * n, (b + 1) * n
        x = self._render_filtered(b)
        g = self._gain_curves(b)
        lay = self._layout
        out = np.zeros((lay.n, n))
        amp = np.zeros((lay.n, n))
        rhythm = g[_D] * x[0] + g[_T] * x[1] + g[_A] * x[2] + g[_B] * x[3]
        eeg_scale = self._eeg_scale()
        for i, row in enumerate(lay.rows("eeg")):
            out[row] = eeg_scale[i] * rhythm + g[_BG] * x[self._bg_stream[int(row)]]
            amp[row] = g[_MUS]
        for row in lay.rows("eog"):
            out[row] = g[_EBG] * x[self._bg_stream[int(row)]] + EOG_DELTA_LEAK * g[_D] * x[0]
            amp[row] = g[_MUS]
        amp[lay.rows("emg")] = g[_CHIN]
        amp[self._fa_rows] = self._fa_baseline[:, None]

        flats = []
        first = bisect.bisect_left(self._starts, lo - self._max_len)
        last = bisect.bisect_left(self._starts, hi)
        for p in self._placed[first:last]:
            if p.stop <= lo:
                continue
            if p.mode == "flat":
                flats.append(p)
                continue
            off, wave = render(p, lo, hi, self.sfreq)
            target = out if p.mode == "add" else amp
            rows = np.flatnonzero(p.weights)
            target[rows, off:off + len(wave)] += p.weights[rows, None] * wave[None, :]
        out += amp * x[self._hf_stream]
        for p in flats:
            off, wave = render(p, lo, hi, self.sfreq)
            out[np.flatnonzero(p.weights), off:off + len(wave)] = wave
        return out

    def _eeg_scale(self) -> np.ndarray:
        n_eeg = len(self._layout.rows("eeg"))
        return np.linspace(1.0, 0.9, n_eeg) if n_eeg > 1 else np.ones(n_eeg)


_PHYSIOLOGICAL = frozenset({
    "spindle", "k_complex", "vertex_wave", "sawtooth", "blink", "saccade",
    "rapid_eye_movement", "slow_eye_movement", "twitch",
})
