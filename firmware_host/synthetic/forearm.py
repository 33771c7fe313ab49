"""Forearm EMG of grip gestures: a random "subject" maps each grip to a spatial pattern.

The armband's channels sit around the forearm. Six muscle groups lie at random angles
under it; each grip recruits a characteristic mix of groups, so similar grips (pinch, key,
tripod) share muscles and overlap, as they do in real recordings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from firmware_host.synthetic.transients import Placed
from firmware_host.synthetic.truth import GestureEvent
from firmware_host.vocabulary import GRIP_INTENTS

MUSCLES = ("finger_flex", "finger_ext", "thumb_flex", "thumb_ext", "index_flex", "index_ext")

#: grip -> recruitment of each muscle group in :data:`MUSCLES` order.
RECRUITMENT: dict[str, tuple[float, ...]] = {
    "rest": (0, 0, 0, 0, 0, 0),
    "power": (1.0, 0.15, 0.6, 0.0, 0.5, 0.0),
    "open": (0.1, 1.0, 0.0, 0.7, 0.0, 0.4),
    "pinch": (0.15, 0.1, 0.8, 0.0, 0.8, 0.0),
    "tripod": (0.45, 0.1, 0.7, 0.0, 0.6, 0.0),
    "key": (0.5, 0.1, 1.0, 0.1, 0.2, 0.0),
    "point": (0.7, 0.2, 0.3, 0.0, 0.0, 1.0),
}

RAMP_S = 0.3
#: Log-normal spread of a repetition's per-channel activation around the grip pattern.
REPETITION_JITTER = 0.1


def grip_patterns(rng: np.random.Generator, n_channels: int) -> np.ndarray:
    """Per-channel activation of each grip for one random subject.

    Returns
    -------
    numpy.ndarray
        ``(len(GRIP_INTENTS), n_channels)``, rows in :data:`GRIP_INTENTS` order, each active row scaled to
        a maximum of 1 (``rest`` is all zeros).
    """
    if n_channels == 0:
        return np.zeros((len(GRIP_INTENTS), 0))
    angles = 2 * np.pi * np.arange(n_channels) / n_channels
    centres = rng.uniform(0, 2 * np.pi, len(MUSCLES))
    kappa = rng.uniform(1.5, 3.0, len(MUSCLES))
    # (muscles, channels): how strongly each electrode picks up each muscle group
    pickup = np.exp(kappa[:, None] * (np.cos(angles[None, :] - centres[:, None]) - 1.0))
    pickup *= rng.uniform(0.7, 1.3, n_channels)[None, :]  # skin/electrode contact per channel
    patterns = np.zeros((len(GRIP_INTENTS), n_channels))
    for g, grip in enumerate(GRIP_INTENTS):
        recruit = np.asarray(RECRUITMENT[grip], dtype=float)
        if recruit.any():
            recruit = recruit * rng.uniform(0.8, 1.2, len(MUSCLES))
            row = recruit @ pickup
            patterns[g] = row / row.max()
    return patterns


def place_gestures(
    gestures: Sequence[GestureEvent],
    rng: np.random.Generator,
    patterns: np.ndarray,
    fa_rows: np.ndarray,
    n_rows: int,
    gain_uv: float,
) -> list[Placed]:
    """Gesture envelopes as ``env`` transients on the forearm rows."""
    out = []
    for ev in gestures:
        mod_hz, mod_phase = rng.uniform(0.5, 1.5), rng.uniform(0, 2 * np.pi)
        # no two repetitions recruit exactly alike: ~10 % per-channel variation
        jitter = np.exp(rng.normal(0.0, REPETITION_JITTER, len(fa_rows)))
        if ev.grip == "rest" or ev.force == 0 or len(fa_rows) == 0:
            continue
        w = np.zeros(n_rows)
        w[fa_rows] = gain_uv * ev.force * patterns[GRIP_INTENTS.index(ev.grip)] * jitter
        out.append(Placed(ev.start_sample, ev.stop_sample, "gesture", "env", w,
                          (RAMP_S, mod_hz, mod_phase)))
    return out
