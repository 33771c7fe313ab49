"""3DC evaluation: per participant, train on ``train/`` repetitions and test on ``test/``
repetitions (recorded after a 5-minute break), streaming each test recording chunk by chunk
through the live front end. Our model and the field's LDA baseline are scored in one run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dsp.classify import fit_lda, forward, softmax
from dsp.emg_features import HUDGINS, feature_index
from firmware_host.emg.frontend import FeatureFrontEnd
from firmware_host.emg.postprocess import PostProcessor
from firmware_host.emg.train import DEFAULT_FEATURES, train_lda
from somnoloop_lab.emg.dataset import CLASSES_3DC, SFREQ_3DC, load_participant

#: Class subsets reported besides all 11 classes (indices into CLASSES_3DC).
SUBSETS: dict[str, tuple[int, ...]] = {
    "3class": (0, 7, 8),  # rest, power, open
    "5grip": (0, 7, 8, 9, 10),  # rest, power, open, tripod (chuck), pinch
}
N_CH = 10


def _features(recs, window: int, increment: int, highpass_hz: float, timed: bool = False):
    """Stream every recording (fresh front end each) in chunks of ``increment`` samples.

    Returns features, labels, repetition and recording index of each window, and the
    seconds spent in the front end (when ``timed``).
    """
    fe = FeatureFrontEnd(N_CH, SFREQ_3DC, window, increment, highpass_hz)
    xs, ys, reps, recs_i, secs = [], [], [], [], 0.0
    for i, r in enumerate(recs):
        fe.reset()
        for s in range(0, r.data.shape[1], increment):
            t0 = time.perf_counter()
            f, _ = fe.update(r.data[:, s : s + increment])
            if timed:
                secs += time.perf_counter() - t0
            if f.shape[0]:
                xs.append(f)
                ys += [r.label] * f.shape[0]
                reps += [r.rep] * f.shape[0]
                recs_i += [i] * f.shape[0]
    return np.concatenate(xs), np.array(ys), np.array(reps), np.array(recs_i), secs


def _remap(y: np.ndarray, subset: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isin(y, subset)
    lut = {c: i for i, c in enumerate(subset)}
    return keep, np.array([lut[v] for v in y[keep]], dtype=np.intp)


def _lda_hudgins(xtr, ytr, xte, yte, subset) -> float:
    idx = feature_index(N_CH, HUDGINS)
    ktr, ytr_s = _remap(ytr, subset)
    kte, yte_s = _remap(yte, subset)
    w, b = fit_lda(xtr[ktr][:, idx], ytr_s, len(subset), 0.0)
    pred = np.argmax(forward(xte[kte][:, idx], [(w, b, "linear")]), axis=1)
    return float(np.mean(pred == yte_s))


def evaluate_participant(
    root: str | Path,
    participant: int,
    window_ms: float = 200.0,
    increment_ms: float = 50.0,
    highpass_hz: float = 20.0,
    feature_names: Sequence[str] = DEFAULT_FEATURES,
    vote: int = 3,
    reject_below: float = 0.6,
    baseline_ms: tuple[float, float] = (200.0, 50.0),
) -> dict:
    """Scores of our model and the LDA baseline for one participant (all tasks).

    ``ours`` is the per-window accuracy; ``ours_postprocessed`` runs each test recording
    through the live post-processing (rejection below ``reject_below`` holding the last
    intent, majority vote over ``vote`` windows; no force gate since 3DC has no MVC trial).
    ``lda_baseline`` is LDA on Hudgins features with the reference ``baseline_ms`` windows
    (200/50 ms); ``lda_same_windows`` is the same LDA on our windows.
    """
    window = int(round(window_ms * SFREQ_3DC / 1000.0))
    increment = int(round(increment_ms * SFREQ_3DC / 1000.0))
    train = load_participant(root, participant, "train")
    test = load_participant(root, participant, "test")
    xtr, ytr, gtr, _, _ = _features(train, window, increment, highpass_hz)
    xte, yte, _, rec_te, fe_secs = _features(test, window, increment, highpass_hz, timed=True)
    bw = int(round(baseline_ms[0] * SFREQ_3DC / 1000.0))
    bi = int(round(baseline_ms[1] * SFREQ_3DC / 1000.0))
    if (bw, bi) == (window, increment):
        bxtr, bytr, bxte, byte = xtr, ytr, xte, yte
    else:
        bxtr, bytr, _, _, _ = _features(train, bw, bi, highpass_hz)
        bxte, byte, _, _, _ = _features(test, bw, bi, highpass_hz)
    out: dict = {"n_train_windows": int(len(ytr)), "n_test_windows": int(len(yte))}
    tasks = {"11class": tuple(range(len(CLASSES_3DC))), **SUBSETS}
    sel = feature_index(N_CH, feature_names)
    for task, subset in tasks.items():
        ktr, ytr_s = _remap(ytr, subset)
        kte, yte_s = _remap(yte, subset)
        k = len(subset)
        ours = train_lda(xtr[ktr], ytr_s, gtr[ktr], N_CH, k, feature_names)
        layers = [(ours["W"], ours["b"], "linear")]
        xs = xte[kte][:, sel]
        t0 = time.perf_counter()
        for row in xs:  # one decision at a time, as live
            softmax(forward((row - ours["mean"]) / ours["scale"], layers))
        cls_secs = time.perf_counter() - t0
        scores = forward((xs - ours["mean"]) / ours["scale"], layers)
        pred = np.argmax(scores, axis=1)
        out[task] = {
            "ours": float(np.mean(pred == yte_s)),
            "ours_postprocessed": _postprocessed_accuracy(
                softmax(scores), yte_s, rec_te[kte], k, vote, reject_below
            ),
            "lda_baseline": _lda_hudgins(bxtr, bytr, bxte, byte, subset),
            "lda_same_windows": _lda_hudgins(xtr, ytr, xte, yte, subset),
            "shrinkage": ours["shrinkage"],
            "cv_accuracy": ours["cv_accuracy"],
        }
        if task == "11class":
            out["classify_us"] = 1e6 * cls_secs / max(len(xs), 1)
            out["confusion"] = np.bincount(
                yte_s * k + pred, minlength=k * k
            ).reshape(k, k).tolist()
    out["frontend_us"] = 1e6 * fe_secs / max(len(yte), 1)
    out["decision_us"] = out["frontend_us"] + out["classify_us"]
    return out


def _postprocessed_accuracy(
    probs: np.ndarray, y: np.ndarray, rec: np.ndarray, n_classes: int, vote: int,
    reject_below: float = 0.6,
) -> float:
    names = tuple(str(c) for c in range(n_classes))
    post = PostProcessor(names, "0", reject_below, vote, 0.0, 0.0, "last")
    hits = 0
    prev = None
    for i in range(len(y)):
        if rec[i] != prev:
            post.reset()
            prev = rec[i]
        hits += post.update(probs[i], 1.0).label == names[y[i]]
    return hits / max(len(y), 1)


def summarise(
    per: dict[int, dict], window_ms: float, increment_ms: float, vote: int = 3,
    reject_below: float = 0.6, baseline_ms: tuple[float, float] = (200.0, 50.0),
) -> dict:
    """The JSON report: per-participant accuracies, means, spreads, baseline, delays."""
    def stats(task: str, who: str) -> dict:
        v = np.array([per[p][task][who] for p in per])
        return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                "min": float(v.min()), "max": float(v.max())}

    decision_us = float(np.mean([per[p]["decision_us"] for p in per]))
    delay_ms = window_ms / 2 + increment_ms / 2 + decision_us / 1000.0
    vote_ms = (vote // 2) * increment_ms
    return {
        "dataset": "3DC (train reps before the break, test reps after)",
        "participants": sorted(per),
        "classes": list(CLASSES_3DC),
        "window_ms": window_ms,
        "increment_ms": increment_ms,
        "features": list(DEFAULT_FEATURES),
        "model": "standardised shrinkage LDA (shrinkage by leave-one-rep-out CV on train reps)",
        "per_participant": {str(p): per[p]["11class"]["ours"] for p in per},
        "mean_accuracy": stats("11class", "ours")["mean"],
        "std_accuracy": stats("11class", "ours")["std"],
        "accuracy_11class": stats("11class", "ours"),
        "accuracy_5grip": stats("5grip", "ours"),
        "accuracy_3class": stats("3class", "ours"),
        "postprocessed": {
            "vote": vote,
            "reject_below": reject_below,
            "accuracy_11class": stats("11class", "ours_postprocessed"),
            "accuracy_5grip": stats("5grip", "ours_postprocessed"),
            "accuracy_3class": stats("3class", "ours_postprocessed"),
            "controller_delay_ms": delay_ms + vote_ms,
        },
        "baseline_same_windows": {
            "model": f"LDA on Hudgins MAV/ZC/SSC/WL, {window_ms:g}/{increment_ms:g} ms",
            "accuracy_11class": stats("11class", "lda_same_windows"),
            "accuracy_5grip": stats("5grip", "lda_same_windows"),
            "accuracy_3class": stats("3class", "lda_same_windows"),
        },
        "baseline": {
            "model": "LDA on Hudgins MAV/ZC/SSC/WL, same run",
            "window_ms": baseline_ms[0],
            "increment_ms": baseline_ms[1],
            "per_participant": {str(p): per[p]["11class"]["lda_baseline"] for p in per},
            "accuracy_11class": stats("11class", "lda_baseline"),
            "accuracy_5grip": stats("5grip", "lda_baseline"),
            "accuracy_3class": stats("3class", "lda_baseline"),
        },
        "decision_us": decision_us,
        "frontend_us": float(np.mean([per[p]["frontend_us"] for p in per])),
        "classify_us": float(np.mean([per[p]["classify_us"] for p in per])),
        "controller_delay_ms": delay_ms,
        "controller_delay_formula": "window/2 + increment/2 + compute (Farrell & Weir 2007), "
        "no majority vote",
        "details": {str(p): per[p] for p in per},
    }
