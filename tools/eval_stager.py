"""Evaluate the stager on labelled recordings, streamed through the live (causal) path.

Sets (any combination):
  --dreams ROOT --excerpts 1,2,3      DREAMS spindle excerpts (text layout)
  --sleep-edf FOLDER --channel NAME   every PSG/Hypnogram pair in a Sleep-EDF folder
                                      (layout of mne.datasets.sleep_physionet)
  --psg F --hypnogram H --channel N   any EDF(+) with an EDF+ hypnogram (repeatable)

EDF recordings: --eog NAME / --emg NAME add those channels (the expert then uses YASA's
EEG+EOG / EEG+EMG / EEG+EOG+EMG trees); --trim-wake-min M keeps M minutes of wake before the
first and after the last sleep epoch (Sleep-EDF recordings run for about a day; 30 is usual,
and the stager's cold start then begins M minutes before sleep).

Model: --model FILE (default: shipped), or --loso to train on all other subjects for each
subject (leave-subject-out; Sleep-EDF subjects have two nights: both are held out together).
Prints JSON: pooled accuracy, kappa, macro-F1, per-stage confusion (rows truth W N1 N2 N3
REM), flicker, the whole-night figures (``cold_start_false_deep``, ``rem_entry_delay_epochs``,
``final_wake_false_rem_n1``), per-recording figures; with --yasa also YASA offline, and with
--yasa-causal YASA's own classifier on causally recomputed smoothing/normalisation
(trailing windows, expanding robust scaling), i.e. what causality costs YASA.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware_host.staging.config import StagerConfig  # noqa: E402
from firmware_host.staging.model import load_model  # noqa: E402
from somnoloop_lab.staging.datasets import (  # noqa: E402
    Recording,
    find_sleep_edf_pairs,
    load_dreams_excerpt,
    load_edf_recording,
    trim_to_sleep,
)
from somnoloop_lab.staging.evaluate import evaluate  # noqa: E402
from somnoloop_lab.staging.metrics import agreement  # noqa: E402
from somnoloop_lab.staging.training import input_sfreq_for, train_model  # noqa: E402


def yasa_causal_labels(rec: Recording) -> list[str]:
    """YASA's EEG classifier on its own per-epoch features, with the centred 7.5-min
    triangular smoothing replaced by its trailing half, and the whole-recording robust
    scaling replaced by an expanding (past-only) robust scaling; ``time_norm`` assumes an
    8-h night. Needs yasa + lightgbm."""
    import mne
    import yasa
    from scipy.signal import resample_poly

    x, sf = rec.data[0], rec.sfreq
    if sf < 100:
        up = int(round(100 / sf))
        x, sf = resample_poly(x, up, 1), sf * up
    info = mne.create_info([rec.channel_names[0]], sf, ["eeg"], verbose=False)
    raw = mne.io.RawArray(x[None, :] * 1e-6, info, verbose=False)
    sls = yasa.SleepStaging(raw, eeg_name=rec.channel_names[0])
    sls.fit()
    feats = sls._features.copy()
    clf = sls._load_model(str(Path(yasa.__file__).parent / "classifiers" /
                              "clf_eeg_lgb_0.5.0.joblib"))
    base = [c for c in feats.columns if c.startswith("eeg_") and not c.endswith("_norm")]
    b = feats[base].to_numpy(dtype=float)
    w = np.array([0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0])
    trail = np.array([np.average(b[max(0, i - 7) : i + 1], axis=0,
                                 weights=w[8 - (i + 1 - max(0, i - 7)) :])
                      for i in range(len(b))])
    past2 = np.array([b[max(0, i - 3) : i + 1].mean(axis=0) for i in range(len(b))])

    def expanding_robust(v: np.ndarray) -> np.ndarray:
        out = np.empty_like(v)
        for i in range(len(v)):
            med = np.median(v[: i + 1], axis=0)
            q = np.percentile(v[: i + 1], [5, 95], axis=0)
            r = q[1] - q[0]
            r[r == 0] = 1.0
            out[i] = (v[i] - med) / r
        return out

    feats[[c + "_c7min_norm" for c in base]] = expanding_robust(trail)
    feats[[c + "_p2min_norm" for c in base]] = expanding_robust(past2)
    feats["time_norm"] = np.minimum(feats["time_hour"].to_numpy() / 8.0, 1.0)
    pred = clf.predict(feats[clf.feature_name_].astype(np.float32))
    return ["REM" if p == "R" else ("W" if p == "WAKE" else str(p)) for p in pred]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dreams", default="")
    p.add_argument("--excerpts", default="1,2,3,4,5")
    p.add_argument("--sleep-edf", default="")
    p.add_argument("--psg", action="append", default=[])
    p.add_argument("--hypnogram", action="append", default=[])
    p.add_argument("--channel", default="", help="EEG channel of EDF recordings")
    p.add_argument("--eog", default="", help="EOG channel of EDF recordings ('' = none)")
    p.add_argument("--emg", default="", help="chin EMG channel of EDF recordings ('' = none)")
    p.add_argument("--trim-wake-min", type=float, default=-1.0,
                   help="EDF recordings: keep this many minutes of wake around sleep "
                   "(default: keep everything)")
    p.add_argument("--model", default="")
    p.add_argument("--loso", action="store_true", help="leave-subject-out training")
    p.add_argument("--hmm", action="store_true")
    p.add_argument("--yasa", action="store_true", help="YASA offline on the same recordings")
    p.add_argument("--yasa-causal", action="store_true",
                   help="YASA's classifier with causal smoothing/normalisation")
    args = p.parse_args(argv)

    recs: list[Recording] = []
    if args.dreams:
        recs += [load_dreams_excerpt(args.dreams, int(k)) for k in args.excerpts.split(",")]
    pairs = list(zip(args.psg, args.hypnogram, strict=False))
    if len(args.psg) != len(args.hypnogram):
        p.error("give one --hypnogram per --psg")
    if args.sleep_edf:
        pairs += find_sleep_edf_pairs(args.sleep_edf)
    for psg, hyp in pairs:
        rec = load_edf_recording(psg, hyp, eeg=args.channel, eog=args.eog, emg=args.emg)
        if args.trim_wake_min >= 0:
            rec = trim_to_sleep(rec, int(round(args.trim_wake_min * 2)))
        recs.append(rec)
    if not recs:
        p.error("no recordings given")
    cfg = StagerConfig(hmm=args.hmm)
    loo_fit = None
    if args.loso:
        def loo_fit(train, test):  # noqa: ANN001, ANN202
            return train_model(train, input_sfreq=input_sfreq_for(test.sfreq))
        # group nights of one subject: evaluate() leaves out by name, so hold out by subject
        for r in recs:
            r.name = r.subject or r.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate(recs, load_model(args.model) if args.model and not args.loso else None,
                       cfg=cfg,
                       loo_fit=loo_fit, with_yasa=args.yasa)
        if args.yasa_causal:
            truth, pred = [], []
            for r in recs:
                lab = yasa_causal_labels(r)
                n = min(len(lab), len(r.stages))
                truth += r.stages[:n]
                pred += lab[:n]
            yc = agreement(truth, pred)
            res["yasa_causal"] = {k: yc[k] for k in ("accuracy", "kappa", "macro_f1", "n_epochs")}
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
