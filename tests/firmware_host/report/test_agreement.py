"""The report's agreement figures against scikit-learn (dev extra) and a worked example."""

import numpy as np
import pytest

from firmware_host.report.agreement import agreement

EXPERT = ["W", "W", "N1", "N2", "N2", "N3", "N3", "N2", "REM", "REM", "W", "?", "N2"]
DEVICE = ["W", "N1", "N1", "N2", None, "N3", "N2", "N2", "REM", "W", "W", "N2", "unscorable"]


def test_worked_example():
    a = agreement(EXPERT, DEVICE)
    # the expert's '?' epoch is skipped: 12 epochs; 2 left unscored by the device
    assert (a["n_epochs"], a["n_unscored"]) == (12, 2)
    assert a["accuracy"] == pytest.approx(7 / 12)                      # epochs 0 2 3 5 7 8 10
    cm = np.array(a["confusion"])
    assert cm.sum() == 10 and cm[0].tolist() == [2, 1, 0, 0, 0]        # W row: 2 as W, 1 as N1
    assert cm[2].tolist() == [0, 0, 2, 0, 0]                            # N2 row; 2 N2 epochs unscored


def test_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is a [dev] extra")
    keep = [i for i, e in enumerate(EXPERT) if e != "?"]
    truth = [EXPERT[i] for i in keep]
    pred = [DEVICE[i] if DEVICE[i] in ("W", "N1", "N2", "N3", "REM") else "UNS" for i in keep]
    a = agreement(EXPERT, DEVICE)
    assert a["kappa"] == pytest.approx(metrics.cohen_kappa_score(truth, pred))
    stages = sorted({*truth, *pred} - {"UNS"})
    assert a["macro_f1"] == pytest.approx(metrics.f1_score(truth, pred, labels=stages, average="macro"))


def test_nothing_scored_and_bad_lengths():
    assert agreement(["?", None], ["W", "W"])["n_epochs"] == 0
    with pytest.raises(ValueError, match="expert has 1 epochs, device has 2"):
        agreement(["W"], ["W", "W"])
