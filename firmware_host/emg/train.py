"""Training a per-user grip model: standardised features, regularised LDA with the shrinkage
chosen by leave-one-repetition-out cross-validation inside the training data only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from dsp.classify import fit_lda, forward
from dsp.emg_features import HUDGINS, feature_index

#: Features of the default model: per channel log-amplitude Hudgins, log-variance, Willison
#: amplitude, AR(4) and TD-PSD; across channels the log-Euclidean covariance (LOGCOV).
DEFAULT_FEATURES: tuple[str, ...] = (
    "LOGMAV", "ZC", "SSC", "LOGWL", "LOGVAR", "WAMP",
    "AR1", "AR2", "AR3", "AR4",
    "PSD0", "PSD2", "PSD4", "SPARS", "IRF", "WLR",
    "LOGCOV",
)  # fmt: skip
#: Shrinkage values tried by cross-validation.
SHRINKAGE_GRID: tuple[float, ...] = (0.0, 0.01, 0.03, 0.1, 0.3)


class CalibrationError(ValueError):
    """Training data cannot give a model (missing classes, too few windows, …)."""


def _standardise_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-12] = 1.0
    return mean, scale


def _fit(x: np.ndarray, y: np.ndarray, n_classes: int, shrinkage: float):
    mean, scale = _standardise_fit(x)
    w, b = fit_lda((x - mean) / scale, y, n_classes, shrinkage)
    return mean, scale, w, b


def _accuracy(x, y, mean, scale, w, b) -> float:
    pred = np.argmax(forward((x - mean) / scale, [(w, b, "linear")]), axis=1)
    return float(np.mean(pred == y))


def check_training_labels(y: np.ndarray, classes: Sequence[str]) -> None:
    """Raise :class:`CalibrationError` naming every class without training windows."""
    counts = np.bincount(np.asarray(y, dtype=np.intp), minlength=len(classes))
    missing = [classes[k] for k in range(len(classes)) if counts[k] == 0]
    if missing:
        raise CalibrationError(
            f"no training windows for classes {missing}; every class in {list(classes)} "
            "needs at least one recorded repetition"
        )


def train_lda(
    features: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    n_channels: int,
    n_classes: int,
    feature_names: Sequence[str] = DEFAULT_FEATURES,
    shrinkages: Sequence[float] = SHRINKAGE_GRID,
) -> dict:
    """Fit a standardised, shrunk LDA on selected features of full feature vectors.

    Parameters
    ----------
    features
        ``(n, n_features(n_channels))`` full feature vectors.
    y
        ``(n,)`` class indices.
    groups
        ``(n,)`` repetition of each window; cross-validation leaves one group out.
    n_channels, n_classes
        Sizes.
    feature_names
        Per-channel features to use.
    shrinkages
        Values tried; the best mean leave-one-group-out accuracy wins (ties → larger).

    Returns
    -------
    dict
        ``mean, scale, W, b, shrinkage, cv_accuracy, cv_by_shrinkage``.
    """
    idx = feature_index(n_channels, feature_names)
    x = np.asarray(features)[:, idx]
    y = np.asarray(y, dtype=np.intp)
    groups = np.asarray(groups)
    ug = np.unique(groups)
    cv: dict[float, float] = {}
    for s in shrinkages:
        if len(ug) < 2:
            break
        accs = []
        for g in ug:
            tr, te = groups != g, groups == g
            if len(np.unique(y[tr])) < n_classes:
                continue
            accs.append(_accuracy(x[te], y[te], *_fit(x[tr], y[tr], n_classes, s)))
        if accs:
            cv[float(s)] = float(np.mean(accs))
    if cv:
        best = max(cv.items(), key=lambda kv: (round(kv[1], 4), kv[0]))[0]
    else:
        best = float(shrinkages[len(shrinkages) // 2])
    mean, scale, w, b = _fit(x, y, n_classes, best)
    return {
        "mean": mean,
        "scale": scale,
        "W": w,
        "b": b,
        "shrinkage": best,
        "cv_accuracy": cv.get(best),
        "cv_by_shrinkage": cv,
    }


def force_levels(
    features: np.ndarray, y: np.ndarray, n_channels: int, rest_class: int | None
) -> tuple[float, float]:
    """Rest and MVC levels of the mean-over-channels MAV: median of rest windows and the
    95th percentile of all contraction windows."""
    mav = np.asarray(features)[:, feature_index(n_channels, ("MAV",))].mean(axis=1)
    rest = mav[y == rest_class] if rest_class is not None else np.empty(0)
    active = mav[y != rest_class] if rest_class is not None else mav
    rest_level = float(np.median(rest)) if rest.size else float(np.percentile(mav, 5))
    mvc = float(np.percentile(active, 95)) if active.size else rest_level + 1.0
    return rest_level, max(mvc, rest_level + 1e-9)


def created_stamp() -> str:
    """UTC creation stamp used in model versions."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


__all__ = [
    "DEFAULT_FEATURES",
    "HUDGINS",
    "SHRINKAGE_GRID",
    "CalibrationError",
    "check_training_labels",
    "created_stamp",
    "force_levels",
    "train_lda",
]
