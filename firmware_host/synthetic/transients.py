"""Graphoelements: their waveforms and where, per stage, each epoch gets them.

A placed transient is a pure function of the night seed and its epoch index, so any part
of the night renders identically however it is requested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from firmware_host.synthetic.layout import Layout

#: ``add``: waveform added to the signal; ``env``: added to the amplitude of the channel's
#: broadband EMG noise (muscle activity); ``flat``: channel replaced by a constant.
MODES = ("add", "env", "flat")


@dataclass(frozen=True)
class Placed:
    """A transient at a sample range with per-channel weights (internal)."""

    start: int
    stop: int
    kind: str
    mode: str
    weights: np.ndarray
    params: tuple[float, ...]


def _gauss(t: np.ndarray, mu: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((t - mu) / sd) ** 2)


def _hann_env(t: np.ndarray, d: float) -> np.ndarray:
    return np.sin(np.pi * np.clip(t / d, 0.0, 1.0)) ** 2


def _tukey_env(t: np.ndarray, d: float, ramp: float) -> np.ndarray:
    ramp = min(ramp, d / 2.0)
    up = np.clip(t / ramp, 0.0, 1.0)
    down = np.clip((d - t) / ramp, 0.0, 1.0)
    return 0.5 * (1 - np.cos(np.pi * np.minimum(up, down)))


def _spindle(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    amp, freq, phase = p
    return amp * _hann_env(t, d) * np.sin(2 * np.pi * freq * t + phase)


def _k_complex(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    (amp,) = p
    return -amp * _gauss(t, 0.22 * d, 0.08 * d) + 0.55 * amp * _gauss(t, 0.58 * d, 0.15 * d)


def _vertex(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    (amp,) = p
    return -amp * _gauss(t, 0.3 * d, 0.1 * d) + 0.3 * amp * _gauss(t, 0.65 * d, 0.15 * d)


def _sawtooth(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    amp, freq, phase = p
    return amp * _hann_env(t, d) * sawtooth_wave(2 * np.pi * freq * t + phase, width=0.85)


def sawtooth_wave(x: np.ndarray, width: float) -> np.ndarray:
    """Sawtooth of period ``2 pi`` rising from -1 to 1 over ``width`` of it (``0 <= width <= 1``).

    The values of ``scipy.signal.sawtooth(x, width)``.
    """
    tmod = np.mod(x, 2 * np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):  # width 0 or 1: one branch is unused
        rising = tmod / (np.pi * width) - 1
        falling = (np.pi * (width + 1) - tmod) / (np.pi * (1 - width))
    return np.where(tmod < width * 2 * np.pi, rising, falling)


def _bump(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    return p[0] * _hann_env(t, d)


def _eye_jump(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    amp, rise = p  # a fast eye rotation seen through the 0.3 Hz high-pass of an EOG amplifier
    return np.where(t < rise, amp * t / rise, amp * np.exp(-(t - rise) / 0.5))


def _slow_eye(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    return p[0] * np.sin(2 * np.pi * t / d) * np.sin(np.pi * np.clip(t / d, 0, 1))


def _movement(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    amp, f1, f2, f3, ph1, ph2, ph3 = p
    wave = np.sin(2 * np.pi * f1 * t + ph1) + np.sin(2 * np.pi * f2 * t + ph2)
    wave += np.sin(2 * np.pi * f3 * t + ph3)
    return amp / np.sqrt(1.5) * _tukey_env(t, d, 0.5) * wave


def _plateau(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    return p[0] * _tukey_env(t, d, 0.4)


def _pop(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    amp, tau = p
    return amp * np.exp(-t / tau)


def _gesture(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    ramp, mod_hz, mod_phase = p
    return _tukey_env(t, d, ramp) * (1.0 + 0.08 * np.sin(2 * np.pi * mod_hz * t + mod_phase))


def _flat(t: np.ndarray, d: float, p: tuple[float, ...]) -> np.ndarray:
    return np.full(t.shape, p[0])


#: kind -> waveform(t_seconds_from_start, duration_s, params)
WAVEFORMS: dict[str, Callable[[np.ndarray, float, tuple[float, ...]], np.ndarray]] = {
    "spindle": _spindle,
    "k_complex": _k_complex,
    "vertex_wave": _vertex,
    "sawtooth": _sawtooth,
    "blink": _bump,
    "saccade": _eye_jump,
    "rapid_eye_movement": _eye_jump,
    "slow_eye_movement": _slow_eye,
    "twitch": _bump,
    "movement": _movement,
    "movement_emg": _plateau,
    "electrode_pop": _pop,
    "flat_line": _flat,
    "gesture": _gesture,
}


def render(event: Placed, lo: int, hi: int, sfreq: float) -> tuple[int, np.ndarray]:
    """Waveform samples of ``event`` inside ``[lo, hi)``: (offset into the range, values)."""
    a, b = max(lo, event.start), min(hi, event.stop)
    t = (np.arange(a, b) - event.start) / sfreq
    d = (event.stop - event.start) / sfreq
    return a - lo, WAVEFORMS[event.kind](t, d, event.params)


@dataclass(frozen=True)
class Traits:
    """Per-night ("per subject") properties drawn once from the seed."""

    spindle_hz: float
    spindle_uv: float
    kc_uv: float
    eeg_scale: np.ndarray
    eog_h: np.ndarray
    eog_v: np.ndarray


def draw_traits(rng: np.random.Generator, layout: Layout) -> Traits:
    """Random per-night properties of the graphoelements."""
    n_eog = len(layout.rows("eog"))
    signs = np.where(np.arange(n_eog) % 2 == 0, 1.0, -1.0)
    return Traits(
        spindle_hz=rng.uniform(12.0, 14.5),
        spindle_uv=rng.uniform(18.0, 35.0),
        kc_uv=rng.uniform(90.0, 160.0),
        eeg_scale=rng.uniform(0.85, 1.15, len(layout.rows("eeg"))),
        eog_h=signs * rng.uniform(0.85, 1.15, n_eog),
        eog_v=np.where(signs > 0, -0.7, 1.0) * rng.uniform(0.85, 1.15, n_eog),
    )


#: Expected events per 30-s epoch: stage -> kind -> rate.
RATES: dict[str, dict[str, float]] = {
    "W": {"blink": 5.0, "saccade": 6.0},
    "N1": {"vertex_wave": 1.5, "slow_eye_movement": 1.2, "blink": 0.3, "spindle": 0.2},
    "N2": {"spindle": 2.5, "k_complex": 1.0},
    "N3": {"spindle": 0.6, "k_complex": 0.2},
    "REM": {"rapid_eye_movement": 5.0, "sawtooth": 1.5, "twitch": 2.5},
}
#: Eyes closed in quiet wake: fewer blinks and saccades (alpha is handled by the gains).
EYES_CLOSED_RATES = {"blink": 1.0, "saccade": 1.0}


def epoch_transients(
    rng: np.random.Generator,
    stage: str,
    eyes_closed: bool,
    epoch_start: int,
    epoch_len: int,
    sfreq: float,
    layout: Layout,
    traits: Traits,
) -> list[Placed]:
    """Graphoelements of one epoch (starts inside it; they may run into the next)."""
    eeg, eog, emg = layout.rows("eeg"), layout.rows("eog"), layout.rows("emg")
    scale = epoch_len / (30.0 * sfreq)
    rates = dict(RATES[stage])
    if stage == "W" and eyes_closed:
        rates.update(EYES_CLOSED_RATES)
    out: list[Placed] = []

    def weights(rows: np.ndarray, values: np.ndarray | float) -> np.ndarray:
        w = np.zeros(layout.n)
        w[rows] = values
        return w

    def place(kind: str, dur_s: float, mode: str, w: np.ndarray, params: tuple[float, ...],
              start: int | None = None) -> None:
        s = epoch_start + int(rng.integers(0, epoch_len)) if start is None else start
        if np.any(w != 0):
            out.append(Placed(s, s + max(1, int(round(dur_s * sfreq))), kind, mode, w, params))

    eeg_w = weights(eeg, traits.eeg_scale)
    for kind, rate in rates.items():
        for _ in range(rng.poisson(rate * scale)):
            sign = float(rng.choice((-1.0, 1.0)))
            if kind == "spindle":
                freq = float(np.clip(traits.spindle_hz + rng.normal(0, 0.6), 11.0, 16.0))
                amp = traits.spindle_uv * rng.uniform(0.7, 1.4)
                place(kind, rng.uniform(0.5, 2.0), "add", eeg_w, (amp, freq, rng.uniform(0, 6.28)))
            elif kind == "k_complex":
                w = eeg_w + weights(eog, 0.3)
                s = epoch_start + int(rng.integers(0, epoch_len))
                place(kind, rng.uniform(0.8, 1.2), "add", w, (traits.kc_uv * rng.uniform(0.8, 1.25),),
                      start=s)
                if rng.random() < 0.5:  # spindles often ride on the K-complex's tail
                    freq = float(np.clip(traits.spindle_hz + rng.normal(0, 0.5), 11.0, 16.0))
                    place("spindle", rng.uniform(0.5, 1.5), "add", eeg_w,
                          (traits.spindle_uv, freq, rng.uniform(0, 6.28)),
                          start=s + int(0.8 * sfreq))
            elif kind == "vertex_wave":
                place(kind, rng.uniform(0.3, 0.5), "add", eeg_w + weights(eog, 0.2),
                      (rng.uniform(40.0, 90.0),))
            elif kind == "sawtooth":
                place(kind, rng.uniform(1.0, 3.0), "add", eeg_w,
                      (rng.uniform(20.0, 45.0), rng.uniform(2.0, 5.0), rng.uniform(0, 6.28)))
            elif kind == "blink":
                w = weights(eog, traits.eog_v) + weights(eeg, 0.05)
                place(kind, rng.uniform(0.25, 0.45), "add", w, (rng.uniform(80.0, 200.0),))
            elif kind in ("saccade", "rapid_eye_movement"):
                lo, hi = (30.0, 150.0) if kind == "saccade" else (60.0, 220.0)
                rise = rng.uniform(0.03, 0.1)
                place(kind, rise + 2.5, "add", weights(eog, sign * traits.eog_h),
                      (rng.uniform(lo, hi), rise))
            elif kind == "slow_eye_movement":
                place(kind, rng.uniform(2.0, 5.0), "add", weights(eog, sign * traits.eog_h),
                      (rng.uniform(40.0, 100.0),))
            elif kind == "twitch":
                place(kind, rng.uniform(0.1, 0.3), "env", weights(emg, 1.0),
                      (rng.uniform(10.0, 40.0),))
    return out
