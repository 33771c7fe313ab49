"""Agreement of the device's hypnogram with an expert's: accuracy, Cohen's κ, macro-F1, confusion.

Device code: the lab's evaluation package is not available on the device, and the report
only needs these few lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from firmware_host.report.metrics import STAGES


def agreement(expert: Sequence[str | None], device: Sequence[str | None],
              labels: Sequence[str] = STAGES) -> dict[str, Any]:
    """Epoch-by-epoch agreement over the epochs the expert scored.

    Epochs the expert did not score (not in ``labels``) are skipped. An epoch the device left
    unscored counts as a disagreement (it is in ``n_epochs`` and ``n_unscored``, not in the
    confusion matrix).

    Returns
    -------
    dict
        ``n_epochs``, ``n_unscored``, ``accuracy``, ``kappa`` (Cohen's, over the confusion
        matrix extended by the unscored column), ``macro_f1`` (over stages the expert or the
        device used), ``confusion`` (rows expert, columns device, ``labels`` order), ``labels``.
    """
    if len(expert) != len(device):
        raise ValueError(f"expert has {len(expert)} epochs, device has {len(device)}; they must match")
    idx = {s: i for i, s in enumerate(labels)}
    k = len(labels)
    cm = np.zeros((k, k + 1), dtype=np.int64)          # last column: device left it unscored
    for e, d in zip(expert, device, strict=True):
        if e in idx:
            cm[idx[e], idx.get(d, k)] += 1
    n = int(cm.sum())
    square = cm[:, :k]
    if n == 0:
        return {"n_epochs": 0, "n_unscored": 0, "accuracy": float("nan"), "kappa": float("nan"),
                "macro_f1": float("nan"), "confusion": square.tolist(), "labels": list(labels)}
    accuracy = float(np.trace(square)) / n
    rows = cm.sum(axis=1)
    cols = cm.sum(axis=0)[:k]
    chance = float(np.sum(rows * cols)) / (n * n)
    kappa = (accuracy - chance) / (1.0 - chance) if chance < 1.0 else 0.0
    f1 = [2.0 * square[i, i] / (rows[i] + cols[i]) for i in range(k) if rows[i] + cols[i] > 0]
    return {"n_epochs": n, "n_unscored": int(cm[:, k].sum()), "accuracy": accuracy,
            "kappa": float(kappa), "macro_f1": float(np.mean(f1)), "confusion": square.tolist(),
            "labels": list(labels)}
