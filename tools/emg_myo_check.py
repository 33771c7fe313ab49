"""Generality check on a second device: LibEMG OneSubjectMyo (Myo, 8 ch, 200 Hz, 5 classes).

Train on trials 1-4, test on trials 5-6 (LibEMG's split), 200 ms / 50 ms windows streamed
through the live front end; our default model vs LDA on Hudgins features. Prints JSON.

Usage: ``python tools/emg_myo_check.py [--root DIR]``
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from dsp.classify import fit_lda, forward
from dsp.emg_features import HUDGINS, feature_index
from firmware_host.emg.frontend import stream_features
from firmware_host.emg.train import DEFAULT_FEATURES, train_lda

SFREQ = 200.0
CLASSES = ("close", "open", "rest", "wrist_extension", "wrist_flexion")


def _load(root: Path, trials: list[int]):
    xs, ys, gs = [], [], []
    for t in trials:
        for f in sorted((root / f"trial_{t}").glob("R_*_C_*.csv")):
            rep, cls = map(int, re.findall(r"R_(\d+)_C_(\d+)", f.name)[0])
            data = np.loadtxt(f, delimiter=",", ndmin=2).T
            feats, _ = stream_features(data, SFREQ, 40, 10)
            xs.append(feats)
            ys += [cls] * len(feats)
            gs += [t * 10 + rep] * len(feats)
    return np.vstack(xs), np.array(ys), np.array(gs)


def main() -> None:
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "emg"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=default / "libemg-onesubject-myo")
    args = ap.parse_args()
    if not (args.root / "trial_1").is_dir():
        raise SystemExit(f"no LibEMG OneSubjectMyo data under {args.root}")
    xtr, ytr, gtr = _load(args.root, [1, 2, 3, 4])
    xte, yte, _ = _load(args.root, [5, 6])
    n_ch = 8
    fit = train_lda(xtr, ytr, gtr, n_ch, len(CLASSES), DEFAULT_FEATURES)
    sel = feature_index(n_ch, DEFAULT_FEATURES)
    pred = np.argmax(forward((xte[:, sel] - fit["mean"]) / fit["scale"],
                             [(fit["W"], fit["b"], "linear")]), axis=1)
    hi = feature_index(n_ch, HUDGINS)
    w, b = fit_lda(xtr[:, hi], ytr, len(CLASSES))
    pred_b = np.argmax(forward(xte[:, hi], [(w, b, "linear")]), axis=1)
    print(json.dumps({
        "dataset": "LibEMG OneSubjectMyo, trials 1-4 -> 5-6",
        "window_ms": 200, "increment_ms": 50, "n_test_windows": int(len(yte)),
        "ours": float(np.mean(pred == yte)), "lda_baseline": float(np.mean(pred_b == yte)),
        "shrinkage": fit["shrinkage"], "cv_accuracy": fit["cv_accuracy"],
    }, indent=2))


if __name__ == "__main__":
    main()
