"""The EMG front end shared by the live decoder, calibration and evaluation: causal high-pass,
then sliding-window features. Same code on every path, so offline figures hold live.
"""

from __future__ import annotations

import numpy as np

from dsp.emg_features import SlidingFeatures, n_features
from firmware_host.emg.preprocess import HighPass


class FeatureFrontEnd:
    """High-pass + sliding-window features over a stream of ``(n_channels, n)`` chunks.

    Parameters
    ----------
    n_channels
        Forearm channels per chunk.
    sfreq
        Sampling rate in Hz.
    window, increment
        Window and step in samples.
    highpass_hz
        High-pass cut-off in Hz (removes DC offsets and motion drift).
    thresholds
        ``(zc, ssc, wamp)`` feature thresholds.
    """

    def __init__(
        self,
        n_channels: int,
        sfreq: float,
        window: int,
        increment: int,
        highpass_hz: float = 20.0,
        thresholds: tuple[float, float, float] = (0.0, 0.0, 10.0),
    ) -> None:
        self.highpass = HighPass(n_channels, sfreq, highpass_hz)
        self.features = SlidingFeatures(n_channels, window, increment, *thresholds)

    def reset(self) -> None:
        """Start a new stream (after a gap or between recordings)."""
        self.highpass.reset()
        self.features.reset()

    def update(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Push a chunk; return the features of the windows it completes and their end
        indices (stream samples since the last reset)."""
        return self.features.update(self.highpass.update(x))


def stream_features(
    x: np.ndarray,
    sfreq: float,
    window: int,
    increment: int,
    highpass_hz: float = 20.0,
    thresholds: tuple[float, float, float] = (0.0, 0.0, 10.0),
    chunk: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features of one whole recording, streamed in chunks of ``chunk`` samples
    (default: ``increment``) exactly as the live path sees them."""
    fe = FeatureFrontEnd(x.shape[0], sfreq, window, increment, highpass_hz, thresholds)
    step = chunk or increment
    feats, ends = [], []
    for s in range(0, x.shape[1], step):
        f, e = fe.update(x[:, s : s + step])
        feats.append(f)
        ends.append(e)
    if not feats:
        return np.empty((0, n_features(x.shape[0]))), np.empty(0, dtype=np.int64)
    return np.concatenate(feats), np.concatenate(ends)
