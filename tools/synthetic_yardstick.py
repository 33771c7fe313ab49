"""Independent checks of the synthetic night's realism (prints JSON; developer use).

* ``stages``: YASA's pre-trained stager (real PSG, Vallat & Walker 2021) against the truth.
* ``spindles``: YASA's spindle detector against the inserted spindles (an N2-only night).
* ``grips``: how separable the grips are for a plain LDA on 200-ms log-RMS windows, trained
  on the first 5 calibration repetitions and tested on the last 3.

Run ``python tools/synthetic_yardstick.py {stages,spindles,grips} [--seed N]``.
YASA and scikit-learn are development extras, not device dependencies.
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from firmware_host.config.schema import SyntheticSourceConfig
from firmware_host.synthetic.night import SyntheticNight
from firmware_host.synthetic.script import calibration_script
from firmware_host.vocabulary import GRIP_INTENTS, STAGES


def yasa_stages(seed: int = 1, hours: float = 8.0) -> dict[str, Any]:
    """Agreement of YASA's staging (C4 EEG, E1 EOG, chin EMG) with the true hypnogram."""
    import mne
    import yasa
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    night = SyntheticNight(SyntheticSourceConfig(seed=seed, sfreq=100.0, artefacts=False,
                                                 gestures=False), hours * 3600)
    x = night.generate(0, night.n_samples)[:5] * 1e-6
    info = mne.create_info(list(night.channel_names[:5]), night.sfreq,
                           ["eeg", "eeg", "eog", "eog", "emg"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = mne.io.RawArray(x, info, verbose="error")
        hyp = yasa.SleepStaging(raw, eeg_name=night.channel_names[0],
                                eog_name=night.channel_names[2],
                                emg_name=night.channel_names[4]).predict()
    rename = {"WAKE": "W", "R": "REM"}
    pred = [rename.get(str(s), str(s)) for s in getattr(hyp, "hypno", hyp)]
    truth = list(night.hypnogram[:len(pred)])
    return {
        "check": "yasa_stages", "seed": seed, "hours": hours, "epochs": len(pred),
        "accuracy": round(float(np.mean([p == t for p, t in zip(pred, truth, strict=True)])), 3),
        "kappa": round(float(cohen_kappa_score(truth, pred)), 3),
        "confusion_rows_truth_cols_pred": confusion_matrix(truth, pred, labels=list(STAGES)).tolist(),
        "labels": list(STAGES),
    }


def yasa_spindles(seed: int = 4, minutes: float = 30.0) -> dict[str, Any]:
    """Recall / precision of YASA's spindle detector against the inserted spindles."""
    import yasa

    fs = 100.0
    n_epochs = int(minutes * 2)
    night = SyntheticNight(SyntheticSourceConfig(seed=seed, sfreq=fs, artefacts=False,
                                                 gestures=False), minutes * 60,
                           hypnogram=["N2"] * n_epochs)
    x = night.generate(0, night.n_samples)[0]
    truth = [(t.start_sample, t.stop_sample) for t in night.transients if t.kind == "spindle"]
    found = yasa.spindles_detect(x, fs, verbose="error")
    det = [] if found is None else [(int(r.Start * fs), int(r.End * fs))
                                    for r in found.summary().itertuples()]

    def hit(a: tuple[int, int], others: list[tuple[int, int]]) -> bool:
        return any(min(a[1], b[1]) > max(a[0], b[0]) for b in others)

    return {
        "check": "yasa_spindles", "seed": seed, "minutes_n2": minutes,
        "true_per_min": round(len(truth) / minutes, 2), "detected": len(det),
        "recall": round(float(np.mean([hit(t, det) for t in truth])), 3),
        "precision": round(float(np.mean([hit(d, truth) for d in det])), 3) if det else 0.0,
    }


def grip_separability(seed: int = 1) -> dict[str, Any]:
    """Cross-repetition accuracy of an LDA on 200-ms log-RMS windows of the forearm channels."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    fs = 250.0
    rng = np.random.default_rng(seed)
    script = [replace(g, force=float(rng.uniform(0.3, 0.9)))
              for g in calibration_script(list(GRIP_INTENTS), 8, 3.0, 2.0, fs, start_s=2.0)]
    night = SyntheticNight(SyntheticSourceConfig(seed=seed, artefacts=False),
                           script[-1].stop_sample / fs + 5, hypnogram=["W"] * 20,
                           gesture_script=script)
    rows = [i for i, t in enumerate(night.channel_types) if t == "forearm_emg"]
    fa = night.generate(0, night.n_samples)[rows]
    win = int(0.2 * fs)
    feats, labels, reps = [], [], []
    for k, g in enumerate(script):
        for w in range(g.start_sample + int(0.5 * fs), g.stop_sample - int(0.5 * fs) - win, win):
            feats.append(np.log(np.sqrt(np.mean(fa[:, w:w + win] ** 2, axis=1))))
            labels.append(g.grip)
            reps.append(k // len(GRIP_INTENTS))
    x, y, r = np.array(feats), np.array(labels), np.array(reps)
    clf = LinearDiscriminantAnalysis().fit(x[r < 5], y[r < 5])
    return {"check": "grip_lda", "seed": seed, "windows_test": int(np.sum(r >= 5)),
            "accuracy": round(float(np.mean(clf.predict(x[r >= 5]) == y[r >= 5])), 3)}


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: run one check and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("check", choices=("stages", "spindles", "grips"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hours", type=float, default=8.0, help="night length for 'stages'")
    args = parser.parse_args(argv)
    if args.check == "stages":
        out = yasa_stages(args.seed, args.hours)
    elif args.check == "spindles":
        out = yasa_spindles(args.seed)
    else:
        out = grip_separability(args.seed)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
