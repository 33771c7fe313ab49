"""Scripts a night follows: the default hypnogram and the forearm gesture sessions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from firmware_host.synthetic.truth import GestureEvent
from firmware_host.vocabulary import GRIP_INTENTS

#: A typical 8-hour adult night as (stage, minutes): ~90-min cycles, N3 early, REM late,
#: brief awakenings between cycles.
NIGHT_TEMPLATE: tuple[tuple[str, float], ...] = (
    ("W", 12), ("N1", 4), ("N2", 12), ("N3", 30), ("N2", 8), ("REM", 8),
    ("W", 1), ("N1", 2), ("N2", 20), ("N3", 25), ("N2", 10), ("REM", 18),
    ("W", 2), ("N1", 2), ("N2", 28), ("N3", 10), ("N2", 14), ("REM", 25),
    ("W", 2), ("N1", 3), ("N2", 38), ("N3", 3), ("N2", 10), ("REM", 30),
    ("W", 3), ("N1", 3), ("N2", 45), ("REM", 32), ("N1", 2), ("W", 5),
)


def scripted_hypnogram(duration_s: float, epoch_s: float = 30.0, seed: int = 0) -> list[str]:
    """The built-in hypnogram scaled to ``duration_s``, one stage per epoch.

    Segment lengths of :data:`NIGHT_TEMPLATE` vary by ±20 % with ``seed``; the whole
    template is then compressed or stretched to the duration (short runs see every stage,
    briefly). Segments that round to zero epochs disappear.

    Parameters
    ----------
    duration_s
        Night length in seconds (> 0).
    epoch_s
        Seconds per hypnogram entry.
    seed
        Per-night variation.
    """
    if duration_s <= 0 or epoch_s <= 0:
        raise ValueError(f"duration_s and epoch_s must be > 0, got {duration_s} and {epoch_s}")
    n_epochs = int(np.ceil(duration_s / epoch_s - 1e-9))
    rng = np.random.default_rng([seed, 101])
    minutes = np.array([m for _, m in NIGHT_TEMPLATE]) * rng.uniform(0.8, 1.2, len(NIGHT_TEMPLATE))
    bounds = np.round(np.cumsum(minutes) / minutes.sum() * n_epochs).astype(int)
    stages: list[str] = []
    start = 0
    for (stage, _), stop in zip(NIGHT_TEMPLATE, bounds, strict=True):
        stages.extend([stage] * (stop - start))
        start = stop
    return stages


def calibration_script(
    grips: Sequence[str],
    reps: int,
    hold_s: float,
    rest_s: float,
    sfreq: float,
    start_s: float = 0.0,
    force: float = 0.7,
) -> list[GestureEvent]:
    """A prompted calibration: each grip in order, ``reps`` times, ``hold_s`` on, ``rest_s`` off.

    Parameters
    ----------
    grips
        Grips to prompt, each from :data:`~firmware_host.synthetic.truth.GRIP_INTENTS`
        (``rest`` gives a labelled event with no activation).
    reps
        Repetitions of the whole sequence.
    hold_s, rest_s
        Seconds a grip is held and the pause after it.
    sfreq
        Sampling rate that converts seconds to samples.
    start_s
        Time of the first prompt.
    force
        Contraction strength of every gesture, 0..1.

    Returns
    -------
    list of GestureEvent
        In time order; prompt ``k`` covers ``[start_sample, stop_sample)``.
    """
    bad = [g for g in grips if g not in GRIP_INTENTS]
    if bad:
        raise ValueError(f"unknown grips {bad}; allowed: {list(GRIP_INTENTS)}")
    if reps < 1 or hold_s <= 0 or rest_s < 0 or sfreq <= 0 or start_s < 0:
        raise ValueError(
            f"need reps >= 1, hold_s > 0, rest_s >= 0, sfreq > 0, start_s >= 0; got reps={reps}, "
            f"hold_s={hold_s}, rest_s={rest_s}, sfreq={sfreq}, start_s={start_s}"
        )
    events = []
    t = start_s
    for _ in range(reps):
        for grip in grips:
            start = int(round(t * sfreq))
            events.append(GestureEvent(start, start + max(1, int(round(hold_s * sfreq))), grip, force))
            t += hold_s + rest_s
    return events


def default_gesture_script(duration_s: float, sfreq: float, seed: int = 0) -> list[GestureEvent]:
    """Two gesture sessions: one a minute after the start, one ending a minute before the end.

    Each session prompts every active grip three times in shuffled order (3 s hold, 3 s
    rest) at a random force 0.4..0.9. When the night is too short for two sessions only the
    first is kept; gestures that would run past the end are dropped.
    """
    rng = np.random.default_rng([seed, 202])
    active = [g for g in GRIP_INTENTS if g != "rest"]
    hold_s, rest_s, reps = 3.0, 3.0, 3
    session_s = len(active) * reps * (hold_s + rest_s)
    starts = [min(60.0, 0.1 * duration_s)]
    late = duration_s - 60.0 - session_s
    if late > starts[0] + session_s:
        starts.append(late)
    n_total = int(round(duration_s * sfreq))
    events: list[GestureEvent] = []
    for t0 in starts:
        t = t0
        for _ in range(reps):
            for grip in rng.permutation(active):
                start = int(round(t * sfreq))
                stop = start + int(round(hold_s * sfreq))
                force = float(np.round(rng.uniform(0.4, 0.9), 3))
                if stop <= n_total:
                    events.append(GestureEvent(start, stop, str(grip), force))
                t += hold_s + rest_s
    return events
