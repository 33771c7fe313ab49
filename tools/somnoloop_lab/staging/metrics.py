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
