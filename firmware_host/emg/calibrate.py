"""Calibration: a prompt schedule, window labelling from the prompts, per-user training, and
the synthetic calibration session used when no model file exists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from firmware_host.emg.config import EmgDecoderConfig
from firmware_host.emg.frontend import stream_features
from firmware_host.emg.model import EmgModel
from firmware_host.emg.train import (
    DEFAULT_FEATURES,
    CalibrationError,
    check_training_labels,
    created_stamp,
    force_levels,
    train_lda,
)

#: Seconds after a prompt starts (or ends) before windows are used: reaction and ramp time.
SETTLE_S = 0.6


@dataclass(frozen=True)
class Prompt:
    """One prompted gesture: hold ``grip`` over samples ``[start, stop)``; ``rep`` counts cycles."""

    grip: str
    start: int
    stop: int
    rep: int


def prompt_schedule(
    grips: Sequence[str], reps: int, hold_s: float, rest_s: float, sfreq: float,
    start_s: float = 3.0,
) -> list[Prompt]:
    """Each grip in order, ``reps`` times: ``hold_s`` held, then ``rest_s`` relaxed.

    The timing equals :func:`firmware_host.synthetic.script.calibration_script` with the
    same arguments, so a synthetic wearer follows the prompts exactly.
    """
    if reps < 1 or hold_s <= 0 or rest_s < 0 or sfreq <= 0 or start_s < 0:
        raise ValueError(
            f"need reps >= 1, hold_s > 0, rest_s >= 0, sfreq > 0, start_s >= 0; got reps={reps}, "
            f"hold_s={hold_s}, rest_s={rest_s}, sfreq={sfreq}, start_s={start_s}"
        )
    if not grips:
        raise ValueError("no grips to prompt")
    out = []
    t = start_s
    for r in range(reps):
        for g in grips:
            start = int(round(t * sfreq))
            out.append(Prompt(g, start, start + max(1, int(round(hold_s * sfreq))), r))
            t += hold_s + rest_s
    return out


def schedule_samples(prompts: Sequence[Prompt], sfreq: float, rest_s: float) -> int:
    """Samples needed to record the whole schedule (last rest included)."""
    return max(p.stop for p in prompts) + int(round(rest_s * sfreq))


def label_windows(
    ends: np.ndarray, window: int, prompts: Sequence[Prompt], classes: Sequence[str],
    settle: int, rest_label: str = "rest",
) -> tuple[np.ndarray, np.ndarray]:
    """Class index and repetition of each window; -1 for windows that straddle a change.

    A window ``[end - window, end)`` gets a prompt's grip when it lies inside
    ``[start + settle, stop)``, and ``rest_label`` when it lies inside the pause after a
    prompt, from ``stop + settle`` to the next prompt's start.
    """
    labels = np.full(len(ends), -1, dtype=np.intp)
    groups = np.full(len(ends), -1, dtype=np.intp)
    ordered = sorted(prompts, key=lambda p: p.start)
    starts = ends - window
    for i, p in enumerate(ordered):
        nxt = ordered[i + 1].start if i + 1 < len(ordered) else None
        inside = (starts >= p.start + settle) & (ends <= p.stop)
        labels[inside] = classes.index(p.grip)
        groups[inside] = p.rep
        pause = starts >= p.stop + settle
        if nxt is not None:
            pause &= ends <= nxt
        labels[pause] = classes.index(rest_label)
        groups[pause] = p.rep
    return labels, groups


def train_from_recording(
    x: np.ndarray,
    sfreq: float,
    channel_names: Sequence[str],
    prompts: Sequence[Prompt],
    cfg: EmgDecoderConfig,
    name: str = "emg-lda",
) -> tuple[EmgModel, dict]:
    """Train a per-user model from a prompted recording of the forearm channels.

    Parameters
    ----------
    x
        ``(n_channels, n_samples)`` forearm EMG, sample 0 = the schedule's time 0.
    sfreq
        Sampling rate in Hz.
    channel_names
        Names of the rows of ``x``.
    prompts
        The schedule the wearer followed.
    cfg
        Window, increment, high-pass, grips.
    name
        Model name stamped into decisions.

    Returns
    -------
    model, report
        The model and ``{"cv_accuracy", "shrinkage", "n_windows", "per_class_windows"}``.

    Raises
    ------
    CalibrationError
        A prompted grip has no usable windows, or the recording is too short.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != len(channel_names):
        raise CalibrationError(
            f"calibration data must be ({len(channel_names)}, n) for channels "
            f"{list(channel_names)}, got shape {x.shape}"
        )
    classes = tuple(dict.fromkeys(["rest", *[p.grip for p in prompts]]))
    window = max(8, int(round(cfg.window_ms * sfreq / 1000.0)))
    increment = max(1, int(round(cfg.increment_ms * sfreq / 1000.0)))
    feats, ends = stream_features(x, sfreq, window, increment, cfg.highpass_hz)
    if len(ends) == 0:
        raise CalibrationError(f"calibration recording of {x.shape[1]} samples holds no window")
    labels, groups = label_windows(
        ends, window, prompts, classes, int(round(SETTLE_S * sfreq))
    )
    keep = labels >= 0
    check_training_labels(labels[keep], classes)
    n_ch = len(channel_names)
    fit = train_lda(feats[keep], labels[keep], groups[keep], n_ch, len(classes), DEFAULT_FEATURES)
    rest_level, mvc_level = force_levels(feats[keep], labels[keep], n_ch, classes.index("rest"))
    model = EmgModel(
        classes=classes,
        channel_names=tuple(channel_names),
        sfreq=float(sfreq),
        window=window,
        increment=increment,
        highpass_hz=cfg.highpass_hz,
        feature_names=DEFAULT_FEATURES,
        thresholds=(0.0, 0.0, 10.0),
        mean=fit["mean"],
        scale=fit["scale"],
        layers=[(fit["W"], fit["b"], "linear")],
        rest_level=rest_level,
        mvc_level=mvc_level,
        name=name,
        meta={"created": created_stamp(), "cv_accuracy": fit["cv_accuracy"],
              "shrinkage": fit["shrinkage"]},
    )
    counts = np.bincount(labels[keep], minlength=len(classes))
    report = {
        "cv_accuracy": fit["cv_accuracy"],
        "shrinkage": fit["shrinkage"],
        "n_windows": int(keep.sum()),
        "per_class_windows": {c: int(n) for c, n in zip(classes, counts, strict=True)},
    }
    return model, report


def synthetic_calibration(
    syn_cfg, emg_cfg: EmgDecoderConfig, lead_in_s: float = 3.0
) -> tuple[np.ndarray, float, tuple[str, ...], list[Prompt]]:
    """Record the calibration schedule from a synthetic wearer (same seed = same subject as
    the synthetic night): returns forearm data, sampling rate, channel names and prompts."""
    from firmware_host.synthetic.night import SyntheticNight
    from firmware_host.synthetic.script import calibration_script

    sfreq = float(syn_cfg.sfreq)
    prompts = prompt_schedule(emg_cfg.grips, emg_cfg.reps, emg_cfg.hold_s, emg_cfg.rest_s,
                              sfreq, lead_in_s)
    n = schedule_samples(prompts, sfreq, emg_cfg.rest_s)
    script = calibration_script(emg_cfg.grips, emg_cfg.reps, emg_cfg.hold_s, emg_cfg.rest_s,
                                sfreq, start_s=lead_in_s)
    night = SyntheticNight(dataclasses.replace(syn_cfg, artefacts=False), n / sfreq,
                           hypnogram=["W"], gesture_script=script)
    rows = [i for i, t in enumerate(night.channel_types) if t == "forearm_emg"]
    if not rows:
        raise CalibrationError("the synthetic source has no forearm_emg channels")
    data = night.generate(0, n)[rows]
    return data, sfreq, tuple(night.channel_names[i] for i in rows), prompts


__all__ = [
    "SETTLE_S",
    "CalibrationError",
    "Prompt",
    "label_windows",
    "prompt_schedule",
    "schedule_samples",
    "synthetic_calibration",
    "train_from_recording",
]
