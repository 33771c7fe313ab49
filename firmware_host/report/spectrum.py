"""Whole-night spectrogram of one channel: Welch's method per 30-s epoch, read hour by hour."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import welch

from firmware_host.session import Session

#: Seconds read per call (10 min of 13 channels at 250 Hz is ≈ 16 MB of float64).
READ_SECONDS = 600.0


@dataclass(frozen=True)
class Spectrogram:
    """Power per epoch and frequency.

    Parameters
    ----------
    t_s
        Epoch onsets, seconds from the start of the recording.
    freqs
        Frequencies in Hz.
    power_db
        ``(n_freqs, n_epochs)`` power in dB re 1 µV²/Hz; NaN for epochs with missing samples.
    channel
        The channel it was computed from.
    """

    t_s: np.ndarray
    freqs: np.ndarray
    power_db: np.ndarray
    channel: str


def night_spectrogram(path: str | Path, channel: str, *, epoch_s: float = 30.0,
                      fmax: float = 30.0, window_s: float = 4.0) -> Spectrogram:
    """Welch spectrogram of ``channel`` (4-s Hann windows, 50 % overlap, one column per epoch).

    Parameters
    ----------
    path
        Session directory.
    channel
        Channel name; must be in the session.
    epoch_s
        Column width in seconds.
    fmax
        Highest frequency kept (Hz), at most Nyquist.
    window_s
        Welch segment length in seconds.

    Raises
    ------
    ValueError
        If ``channel`` is not a channel of the session.
    """
    s = Session(path)
    if channel not in s.channel_names:
        raise ValueError(f"channel {channel!r} is not in the session; channels: {s.channel_names}")
    row = s.channel_names.index(channel)
    sf = s.sfreq
    n_epoch = int(round(epoch_s * sf))
    first, end = s.first_sample, s.end_sample
    n_epochs = (end - first) // n_epoch
    nper = min(n_epoch, int(round(window_s * sf)))
    freqs = np.fft.rfftfreq(nper, 1.0 / sf)
    keep = (freqs > 0) & (freqs <= min(fmax, sf / 2))
    power = np.full((int(keep.sum()), n_epochs), np.nan)
    per_read = max(1, int(READ_SECONDS // epoch_s))
    for e0 in range(0, n_epochs, per_read):
        e1 = min(n_epochs, e0 + per_read)
        lo = first + e0 * n_epoch
        data, idx, _ = s.read(lo, first + e1 * n_epoch)
        x = np.full((e1 - e0) * n_epoch, np.nan)
        x[idx - lo] = data[row]
        epochs = x.reshape(e1 - e0, n_epoch)
        ok = np.isfinite(epochs).all(axis=1)
        if ok.any():
            _, pxx = welch(epochs[ok], fs=sf, nperseg=nper, noverlap=nper // 2, axis=-1)
            power[:, e0 + np.flatnonzero(ok)] = 10 * np.log10(np.maximum(pxx[:, keep].T, 1e-12))
    return Spectrogram(np.arange(n_epochs) * epoch_s, freqs[keep], power, channel)
