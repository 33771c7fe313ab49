"""Agreement metrics for hypnograms: accuracy, Cohen's κ, macro-F1, confusion, flicker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from firmware_host.vocabulary import STAGES


def confusion(truth: Sequence[str], pred: Sequence[str],
              labels: Sequence[str] = STAGES) -> np.ndarray:
    """``(k, k)`` counts, rows = truth, columns = prediction (pairs outside ``labels`` skipped)."""
    idx = {s: i for i, s in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(truth, pred, strict=True):
        if t in idx and p in idx:
            cm[idx[t], idx[p]] += 1
    return cm


def agreement(truth: Sequence[str], pred: Sequence[str],
              labels: Sequence[str] = STAGES) -> dict[str, Any]:
    """Accuracy, Cohen's κ, macro-F1 (over classes present in truth or prediction), confusion.

    Epochs whose truth is not a stage (``"?"``) are skipped; a predicted ``"unscorable"``
    counts as wrong (it is kept in ``n_unscorable``).
    """
    t2, p2 = [], []
    n_uns = 0
    for t, p in zip(truth, pred, strict=True):
        if t not in labels:
            continue
        if p not in labels:
            n_uns += 1
        t2.append(t)
        p2.append(p)
    n = len(t2)
    cm = confusion(t2, p2, labels)
    if n == 0:
        return {"n_epochs": 0, "accuracy": float("nan"), "kappa": float("nan"),
                "macro_f1": float("nan"), "confusion": cm.tolist(), "n_unscorable": n_uns}
    acc = float(np.trace(cm)) / n
    pe = float(np.sum(cm.sum(axis=1) * cm.sum(axis=0))) / (n * n)
    kappa = (acc - pe) / (1.0 - pe) if pe < 1.0 else 0.0
    f1s, f1_truth = [], []
    for i in range(len(labels)):
        tp = cm[i, i]
        support, predicted = cm[i].sum(), cm[:, i].sum()
        if support == 0 and predicted == 0:
            continue
        f1s.append(2.0 * tp / (support + predicted))
        if support > 0:
            f1_truth.append(f1s[-1])
    # macro_f1_truth: over the stages the expert scored (a stage only ever predicted, e.g.
    # REM on REM-free excerpts, counts in macro_f1 with F1 = 0 but not here)
    return {"n_epochs": n, "accuracy": acc, "kappa": float(kappa),
            "macro_f1": float(np.mean(f1s)), "macro_f1_truth": float(np.mean(f1_truth)),
            "confusion": cm.tolist(), "n_unscorable": n_uns}


def flicker_per_hour(labels: Sequence[str], epoch_s: float = 30.0) -> float:
    """Stage changes per hour of a label sequence."""
    if len(labels) < 2:
        return 0.0
    changes = sum(1 for a, b in zip(labels[:-1], labels[1:], strict=True) if a != b)
    return changes / (len(labels) * epoch_s / 3600.0)


def transition_counts(hypnograms: Sequence[Sequence[str]],
                      labels: Sequence[str] = STAGES) -> np.ndarray:
    """``(k, k)`` counts of epoch-to-epoch transitions over several hypnograms."""
    idx = {s: i for i, s in enumerate(labels)}
    c = np.zeros((len(labels), len(labels)))
    for h in hypnograms:
        for a, b in zip(h[:-1], h[1:], strict=False):
            if a in idx and b in idx:
                c[idx[a], idx[b]] += 1
    return c


def calibration(truth: Sequence[str], probabilities: Sequence[dict[str, float]],
                labels: Sequence[str] = STAGES, n_bins: int = 10) -> dict[str, float]:
    """Brier score (sum over classes, mean over epochs) and expected calibration error of
    the top class (``n_bins`` equal-width confidence bins); epochs without a stage truth skip.
    """
    rows = [(labels.index(t), [p.get(s, 0.0) for s in labels])
            for t, p in zip(truth, probabilities, strict=True) if t in labels and p]
    if not rows:
        return {"brier": float("nan"), "ece": float("nan")}
    y = np.array([r[0] for r in rows])
    P = np.array([r[1] for r in rows])
    brier = float(np.mean(np.sum((P - np.eye(len(labels))[y]) ** 2, axis=1)))
    conf = P.max(axis=1)
    correct = P.argmax(axis=1) == y
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = sum(abs(conf[bins == b].mean() - correct[bins == b].mean()) * np.mean(bins == b)
              for b in range(n_bins) if np.any(bins == b))
    return {"brier": brier, "ece": float(ece)}


#: Stages that must never be called while the sleeper is still awake in bed.
DEEP_STAGES = ("N3", "REM")
#: Stages that count as sleep (the complement of wake).
SLEEP_STAGES = ("N1", "N2", "N3", "REM")


def cold_start_false_deep(truth: Sequence[str], pred: Sequence[str],
                          window_epochs: int = 60) -> dict[str, int]:
    """N3 / REM called during the wake in bed before sleep onset.

    The window is the truth's leading wake epochs (before its first sleep epoch), at most
    ``window_epochs`` (60 = the first 30 min of 30-s epochs). A recording that starts asleep
    has an empty window.

    Parameters
    ----------
    truth, pred
        Expert and predicted labels, one per epoch (compared over the common length).
    window_epochs
        Longest window (epochs).

    Returns
    -------
    dict
        ``{"false_deep": n, "wake_epochs": m}``: ``n`` of the ``m`` window epochs were
        called N3 or REM (epochs without a stage truth, ``"?"``, are skipped).
    """
    if window_epochs < 0:
        raise ValueError(f"window_epochs must be >= 0, got {window_epochs}")
    n_false = n_wake = 0
    for t, p in zip(truth[:window_epochs], pred[:window_epochs], strict=False):
        if t in SLEEP_STAGES:
            break
        if t != "W":
            continue
        n_wake += 1
        n_false += p in DEEP_STAGES
    return {"false_deep": n_false, "wake_epochs": n_wake}


def rem_periods(truth: Sequence[str], min_epochs: int = 2) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of at least ``min_epochs`` consecutive REM epochs."""
    out: list[tuple[int, int]] = []
    start = None
    for i, t in enumerate([*truth, ""]):
        if t == "REM" and start is None:
            start = i
        elif t != "REM" and start is not None:
            if i - start >= min_epochs:
                out.append((start, i))
            start = None
    return out


def rem_entry_delays(truth: Sequence[str], pred: Sequence[str],
                     min_epochs: int = 2) -> list[int]:
    """Per REM period of the truth: epochs from its first REM epoch to the stager's first.

    A period the stager never calls REM counts its whole length (the stager had not entered
    by its end). Only periods inside the predicted length are counted.

    Parameters
    ----------
    truth, pred
        Expert and predicted labels, one per epoch.
    min_epochs
        Shortest run of truth REM that counts as a period (isolated epochs are skipped).
    """
    n = min(len(truth), len(pred))
    delays = []
    for a, b in rem_periods(truth[:n], min_epochs):
        hit = next((i for i in range(a, b) if pred[i] == "REM"), b)
        delays.append(hit - a)
    return delays


def final_wake_false_sleep(truth: Sequence[str], pred: Sequence[str],
                           stages: Sequence[str] = ("REM", "N1")) -> dict[str, int]:
    """Wake after the truth's last sleep epoch called one of ``stages`` (REM or N1).

    Returns ``{"false": n, "wake_epochs": m}``; ``m = 0`` when the recording ends asleep or
    never sleeps.
    """
    n = min(len(truth), len(pred))
    last = max((i for i in range(n) if truth[i] in SLEEP_STAGES), default=None)
    if last is None:
        return {"false": 0, "wake_epochs": 0}
    tail = [(t, p) for t, p in zip(truth[last + 1 : n], pred[last + 1 : n], strict=True)
            if t == "W"]
    return {"false": sum(p in stages for _, p in tail), "wake_epochs": len(tail)}


def night_figures(truth: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """The whole-night figures ``stage-eval`` reports next to κ.

    ``cold_start_false_deep`` (N3/REM among the leading wake epochs, first 30 min),
    ``cold_start_wake_epochs`` (its denominator), ``rem_entry_delay_epochs`` (mean over REM
    periods; ``None`` without a REM period), ``rem_entry_delays`` (per period),
    ``final_wake_false_rem_n1`` and ``final_wake_epochs``.
    """
    cs = cold_start_false_deep(truth, pred)
    delays = rem_entry_delays(truth, pred)
    fw = final_wake_false_sleep(truth, pred)
    return {"cold_start_false_deep": cs["false_deep"],
            "cold_start_wake_epochs": cs["wake_epochs"],
            "rem_entry_delay_epochs": float(np.mean(delays)) if delays else None,
            "rem_entry_delays": delays,
            "final_wake_false_rem_n1": fw["false"], "final_wake_epochs": fw["wake_epochs"]}


def pool_night_figures(per_recording: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pool :func:`night_figures` of several recordings (counts summed, delays concatenated)."""
    delays = [d for r in per_recording for d in r["rem_entry_delays"]]
    out = {k: sum(r[k] for r in per_recording)
           for k in ("cold_start_false_deep", "cold_start_wake_epochs",
                     "final_wake_false_rem_n1", "final_wake_epochs")}
    out["rem_entry_delay_epochs"] = float(np.mean(delays)) if delays else None
    out["rem_entry_delays"] = delays
    return out
