"""The synthetic neurofeedback trainee: seated, eyes open, learning to raise alpha (or SMR).

``[source.synthetic] mode = "neurofeedback"`` streams this instead of a night. EEG is pink
background plus theta, alpha, SMR and beta rhythms and a little muscle noise; the trained
rhythm's amplitude grows linearly by ``trainee.learning`` over the session (the scripted
up-regulation) and waxes and wanes slowly (sum of three slow sines), so an adaptive
threshold has something to follow. EOG carries blinks and saccades (leaking weakly into
EEG), and jaw clenches put a 20–120 Hz burst on every EEG and chin channel.

Same guarantees as :class:`~firmware_host.synthetic.night.SyntheticNight`: seeded, any
sample's value depends only on its index (block noise seeded by ``(seed, block)`` and
filtered with the true tail of the previous block), so it is chunking-invariant, and it
knows its truth: :attr:`SyntheticTrainee.transients` (blinks, saccades) and
:attr:`SyntheticTrainee.artefacts` (clenches), and :meth:`SyntheticTrainee.trained_gain`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from firmware_host.synthetic import filters
from firmware_host.synthetic.layout import Layout
from firmware_host.synthetic.truth import ArtefactEvent, TransientEvent

if TYPE_CHECKING:  # pragma: no cover - typing only
    from firmware_host.config.schema import SyntheticSourceConfig

BLOCK_S = 10.0
FILTER_S = 4.0
#: µV RMS of each EEG component (eyes open, seated).
EEG_GAINS = {"background": 8.0, "theta": 4.0, "alpha": 5.0, "smr": 2.5, "beta": 2.5}
MUSCLE_UV = 0.7
EOG_BACKGROUND_UV = 6.0
CHIN_UV = 6.0
FOREARM_UV = 3.0
BLINK_UV = 200.0
SACCADE_UV = 60.0
CLENCH_UV = 25.0
CHIN_CLENCH_UV = 60.0
#: Share of an EOG deflection that reaches the EEG channels.
EOG_LEAK = 0.12
MODULATION_DEPTH = 0.3


class SyntheticTrainee:
    """A seeded neurofeedback session of a scripted trainee.

    Parameters
    ----------
    cfg
        ``[source.synthetic]`` (seed, sampling rate, channel names; ``trainee`` script).
    duration_s
        Length of the session in seconds.
    """

    def __init__(self, cfg: SyntheticSourceConfig, duration_s: float) -> None:
        if not duration_s > 0:
            raise ValueError(f"duration_s must be > 0, got {duration_s}")
        self.cfg = cfg
        self.script = cfg.trainee
        self.sfreq = float(cfg.sfreq)
        self.seed = int(cfg.seed)
        self.n_samples = round(duration_s * self.sfreq)
        self._layout = Layout.from_groups({
            "eeg": tuple(cfg.eeg_channels), "eog": tuple(cfg.eog_channels),
            "emg": tuple(cfg.emg_channels), "forearm_emg": tuple(cfg.forearm_channels),
        })
        if not len(self._layout.rows("eeg")):
            raise ValueError("the neurofeedback trainee needs at least one EEG channel")
        self.channel_names = self._layout.names
        self.channel_types = self._layout.types
        self._block_len = round(BLOCK_S * self.sfreq)
        rng = np.random.default_rng([self.seed, 11])
        self._build_filters(rng)
        self._mod_f = rng.uniform(0.01, 0.08, 3)
        self._mod_phase = rng.uniform(0, 2 * np.pi, 3)
        self.transients, self.artefacts = self._script(np.random.default_rng([self.seed, 12]))
        self._cache: dict[int, np.ndarray] = {}

    # ------------------------------------------------------------------ truth
    def trained_gain(self, sample: int | np.ndarray) -> np.ndarray:
        """Amplitude factor of the trained rhythm at ``sample`` (learning × slow modulation)."""
        t = np.asarray(sample, dtype=float) / self.sfreq
        learn = 1.0 + self.script.learning * t / (self.n_samples / self.sfreq)
        wave = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip(self._mod_f, self._mod_phase, strict=True))
        return learn * (1.0 + MODULATION_DEPTH * wave / 3.0)

    def _script(
        self, rng: np.random.Generator
    ) -> tuple[tuple[TransientEvent, ...], tuple[ArtefactEvent, ...]]:
        """Place blinks, saccades and clenches (mean intervals from the script, jittered)."""
        fs, end = self.sfreq, self.n_samples
        eog = tuple(self._layout.names[i] for i in self._layout.rows("eog"))
        eeg_emg = tuple(self._layout.names[i] for i in np.concatenate(
            [self._layout.rows("eeg"), self._layout.rows("emg")]))
        events: dict[str, list[tuple[int, int]]] = {}
        for kind, every, length in (("blink", self.script.blink_every_s, 0.4),
                                    ("saccade", self.script.saccade_every_s, 0.6),
                                    ("clench", self.script.clench_every_s, 1.5)):
            placed = []
            t = rng.uniform(0.5, 1.5) * every if every > 0 else np.inf
            while t * fs < end:
                start = round(t * fs)
                placed.append((start, min(end, start + round(length * fs))))
                t += rng.uniform(0.5, 1.5) * every
            events[kind] = placed
        transients = tuple(TransientEvent(a, b, k, eog) for k in ("blink", "saccade") for a, b in events[k]
                           if eog)
        artefacts = tuple(ArtefactEvent(a, b, "clench", eeg_emg) for a, b in events["clench"])
        self._saccade_sign = rng.choice([-1.0, 1.0], len(events["saccade"]))
        return (tuple(sorted(transients, key=lambda e: e.start_sample)),
                tuple(sorted(artefacts, key=lambda e: e.start_sample)))

    # ------------------------------------------------------------------ signal
    def _build_filters(self, rng: np.random.Generator) -> None:
        fs = self.sfreq
        cap = 0.45 * fs
        lay = self._layout
        shapes = [filters.peak(rng.uniform(5.0, 6.5), 0.8),     # theta
                  filters.peak(rng.uniform(9.5, 10.5), 0.6),    # alpha
                  filters.peak(rng.uniform(13.0, 14.0), 0.5),   # SMR
                  filters.band(16.0, min(28.0, cap), 2.0)]      # beta
        self._bg = {}
        for row in np.concatenate([lay.rows("eeg"), lay.rows("eog")]):
            self._bg[int(row)] = len(shapes)
            top = 35.0 if lay.types[row] == "eeg" else 15.0
            shapes.append(filters.pink(0.5, min(top, cap), 1.5))
        self._hf0 = len(shapes)
        shapes += [filters.band(20.0, min(120.0, cap), 3.0) for _ in range(lay.n)]
        n_taps = round(FILTER_S * fs)
        self._fir = np.stack([filters.spectral_fir(s, fs, n_taps) for s in shapes])
        self._n_fft = filters.fast_fft_len(self._block_len + n_taps - 1)
        self._fir_fft = np.fft.rfft(self._fir, n=self._n_fft, axis=1)

    def _noise_block(self, k: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 13, k + (1 << 30)])
        return rng.standard_normal((self._fir.shape[0], self._block_len))

    def _filtered(self, b: int) -> np.ndarray:
        n, n_taps = self._block_len, self._fir.shape[1]
        lo = b * n - n_taps + 1
        parts = [self._noise_block(k) for k in range(lo // n, b + 1)]
        noise = np.concatenate(parts, axis=1)[:, lo - (lo // n) * n:]
        spectrum = np.fft.rfft(noise, n=self._n_fft, axis=1)
        return np.fft.irfft(spectrum * self._fir_fft, n=self._n_fft, axis=1)[:, n_taps - 1:n_taps - 1 + n]

    def _block(self, b: int) -> np.ndarray:
        if b in self._cache:
            return self._cache[b]
        n = self._block_len
        lay = self._layout
        x = self._filtered(b)
        samples = b * n + np.arange(n)
        g = EEG_GAINS
        trained = self.trained_gain(samples)
        alpha = g["alpha"] * (trained if self.script.rhythm == "alpha" else 1.0)
        smr = g["smr"] * (trained if self.script.rhythm == "smr" else 1.0)
        rhythm = g["theta"] * x[0] + alpha * x[1] + smr * x[2] + g["beta"] * x[3]
        out = np.zeros((lay.n, n))
        amp = np.zeros((lay.n, n))
        for row in lay.rows("eeg"):
            out[row] = rhythm + g["background"] * x[self._bg[int(row)]]
            amp[row] = MUSCLE_UV
        for row in lay.rows("eog"):
            out[row] = EOG_BACKGROUND_UV * x[self._bg[int(row)]]
        amp[lay.rows("emg")] = CHIN_UV
        amp[lay.rows("forearm_emg")] = FOREARM_UV
        self._add_events(out, amp, b * n, (b + 1) * n)
        out += amp * x[self._hf0:]
        if len(self._cache) > 3:
            self._cache.pop(next(iter(self._cache)))
        self._cache[b] = out
        return out

    def _add_events(self, out: np.ndarray, amp: np.ndarray, lo: int, hi: int) -> None:
        lay = self._layout
        eeg, eog, chin = lay.rows("eeg"), lay.rows("eog"), lay.rows("emg")
        saccades = [e for e in self.transients if e.kind == "saccade"]
        for ev in self.transients:
            a, b = max(ev.start_sample, lo), min(ev.stop_sample, hi)
            if a >= b:
                continue
            phase = (np.arange(a, b) - ev.start_sample) / (ev.stop_sample - ev.start_sample)
            if ev.kind == "blink":
                wave = BLINK_UV * np.sin(np.pi * phase) ** 2
                signs = np.ones(len(eog))
            else:
                sign = self._saccade_sign[saccades.index(ev)]
                wave = SACCADE_UV * sign * np.minimum(1.0, 6 * phase) * np.minimum(1.0, 6 * (1 - phase))
                signs = np.where(np.arange(len(eog)) % 2 == 0, 1.0, -1.0)
            out[eog, a - lo:b - lo] += signs[:, None] * wave[None, :]
            out[eeg, a - lo:b - lo] += EOG_LEAK * wave[None, :]
        for ev in self.artefacts:
            a, b = max(ev.start_sample, lo), min(ev.stop_sample, hi)
            if a < b:
                amp[eeg, a - lo:b - lo] += CLENCH_UV
                amp[chin, a - lo:b - lo] += CHIN_CLENCH_UV

    def generate(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of every channel, ``(n_channels, stop - start)`` µV."""
        start, stop = int(start), int(stop)
        if not 0 <= start <= stop <= self.n_samples:
            raise ValueError(f"generate needs 0 <= start <= stop <= n_samples={self.n_samples}, "
                             f"got start={start}, stop={stop}")
        out = np.empty((self._layout.n, stop - start))
        n = self._block_len
        pos = start
        while pos < stop:
            b = pos // n
            hi = min(stop, (b + 1) * n)
            out[:, pos - start:hi - start] = self._block(b)[:, pos - b * n:hi - b * n]
            pos = hi
        return out
