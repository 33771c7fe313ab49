"""Convert YASA's pre-trained LightGBM sleep-staging classifiers to somnoloop tree files.

Attribution: the classifiers are part of YASA (https://github.com/raphaelvallat/yasa,
BSD-3-Clause; R. Vallat & M. P. Walker (2021), "An open-source, high-performance tool for
automated sleep staging", eLife 10:e70092). The trees were trained by YASA's authors on NSRR
polysomnography data; this script only re-encodes them (``firmware_host/models/YASA_LICENSE.txt``).

Reads ``yasa/classifiers/clf_<name>_lgb_0.5.0.joblib`` from the installed yasa (sklearn
``LGBMClassifier``, unpickled here only, on the developer machine), converts its booster's
``dump_model()`` with :func:`firmware_host.staging.tree_model.convert_lgbm`, verifies that our
kernel reproduces ``Booster.predict(raw_score=True)`` (max |Δ| ≤ 1e-9, argmax 100 % equal) on
random rows spanning each feature's split range plus edge values (NaN, ±inf, 0, thresholds)
and, when ``../shared/data/dreams-spindles`` exists, on YASA's own features of DREAMS excerpt 1
(``yasa.SleepStaging(...).get_features()``; for the EOG/EMG classifiers the single DREAMS EEG
channel stands in for EOG and EMG, which only serves this numeric check), prints the check as
JSON, and writes the ``.npz``.

Usage::

    python tools/convert_yasa.py --classifier eeg
    python tools/convert_yasa.py --classifier eeg+eog+emg --out firmware_host/models/x.npz
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dsp.trees import bench_trees  # noqa: E402
from firmware_host.staging.tree_model import (  # noqa: E402
    MODELS_DIR,
    TreeEnsembleModel,
    convert_lgbm,
    load_tree_model,
    save_tree_model,
)

CLF_VERSION = "0.5.0"
TOLERANCE = 1e-9
ATTRIBUTION = ("YASA (https://github.com/raphaelvallat/yasa), BSD-3-Clause, Copyright (c) "
               "Raphael Vallat; Vallat & Walker (2021) eLife 10:e70092. Trees trained by YASA's "
               "authors on NSRR data; re-encoded (not retrained) by tools/convert_yasa.py.")
DATA = Path(os.environ.get("SOMNOLOOP_DATA", ROOT / ".." / "shared" / "data"))


def classifier_path(name: str) -> Path:
    """The installed yasa's joblib file of classifier ``name`` (e.g. ``eeg+eog+emg``)."""
    import yasa

    path = Path(yasa.__file__).parent / "classifiers" / f"clf_{name}_lgb_{CLF_VERSION}.joblib"
    if not path.is_file():
        avail = sorted(p.name.split("_")[1] for p in path.parent.glob("clf_*_lgb_*.joblib"))
        raise SystemExit(f"no YASA classifier {name!r} in {path.parent}; available: {avail}")
    return path


def load_classifier(path: Path):  # noqa: ANN201 - sklearn LGBMClassifier
    """Unpickle YASA's classifier (developer machine only)."""
    import joblib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn version warning for YASA's LabelEncoder
        return joblib.load(path)


def random_rows(dump: dict, n: int, seed: int = 0) -> np.ndarray:
    """Rows whose features span each feature's split thresholds, with edge values mixed in.

    Each column is uniform over [min, max] of that feature's thresholds widened by 10 %;
    5 % of entries are replaced by NaN, ±inf, 0.0 or one of that feature's thresholds.
    """
    rng = np.random.default_rng(seed)
    n_feat = len(dump["feature_names"])
    thr: list[list[float]] = [[] for _ in range(n_feat)]

    def walk(node: dict) -> None:
        if "split_index" in node:
            thr[node["split_feature"]].append(node["threshold"])
            walk(node["left_child"])
            walk(node["right_child"])

    for info in dump["tree_info"]:
        walk(info["tree_structure"])
    X = np.empty((n, n_feat))
    for j in range(n_feat):
        t = np.asarray(thr[j] or [0.0])
        lo, hi = t.min(), t.max()
        pad = 0.1 * (hi - lo) + 1e-3
        X[:, j] = rng.uniform(lo - pad, hi + pad, n)
        edge = rng.random(n) < 0.05
        choices = np.concatenate([[np.nan, np.inf, -np.inf, 0.0], t])
        X[edge, j] = rng.choice(choices, edge.sum())
    return X


def dreams_features(name: str, feature_names: list[str]) -> np.ndarray | None:
    """YASA's features of DREAMS excerpt 1 (None when the data are absent)."""
    root = DATA / "dreams-spindles"
    if not root.is_dir():
        return None
    import mne
    import yasa
    from scipy.signal import resample_poly

    from somnoloop_lab.staging.datasets import load_dreams_excerpt

    rec = load_dreams_excerpt(root, 1)
    x, sf = rec.data[0], rec.sfreq
    if sf < 100:
        up = int(round(100 / sf))
        x, sf = resample_poly(x, up, 1), sf * up
    roles = name.split("+")
    names = [f"{r.upper()}" for r in roles]
    info = mne.create_info(names, sf, ["eeg"] * len(names), verbose=False)
    raw = mne.io.RawArray(np.repeat(x[None, :] * 1e-6, len(names), axis=0), info, verbose=False)
    kwargs = {"eeg_name": "EEG"}
    if "eog" in roles:
        kwargs["eog_name"] = "EOG"
    if "emg" in roles:
        kwargs["emg_name"] = "EMG"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats = yasa.SleepStaging(raw, **kwargs).get_features()
    missing = [f for f in feature_names if f not in feats.columns]
    if missing:  # e.g. the +demo classifiers need age and sex
        return None
    return feats[feature_names].to_numpy(dtype=np.float64)


def compare(model: TreeEnsembleModel, booster, X: np.ndarray) -> dict:  # noqa: ANN001
    """Max |Δraw| and argmax agreement of ``model`` vs LightGBM on float32 ``X``."""
    X32 = X.astype(np.float32)
    ref = booster.predict(X32, raw_score=True)
    ours = model.raw_scores(X)
    ref_p = booster.predict(X32)
    return {
        "rows": int(X.shape[0]),
        "max_abs_diff_raw": float(np.max(np.abs(ours - ref))),
        "bit_identical_rows": float(np.mean(np.all(ours == ref, axis=1))),
        "argmax_agreement": float(np.mean(ours.argmax(1) == ref.argmax(1))),
        "max_abs_diff_proba": float(np.max(np.abs(model.predict_proba(X) - ref_p))),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--classifier", default="eeg",
                   help="YASA classifier name: eeg, eeg+eog, eeg+emg, eeg+eog+emg, ... (default eeg)")
    p.add_argument("--out", default="",
                   help="output .npz (default firmware_host/models/yasa_<name>_0.5.0.npz)")
    p.add_argument("--rows", type=int, default=4000, help="random verification rows (default 4000)")
    args = p.parse_args(argv)

    import lightgbm
    import yasa

    src = classifier_path(args.classifier)
    clf = load_classifier(src)
    booster = clf.booster_
    dump = booster.dump_model()
    if list(clf.feature_name_) != list(dump["feature_names"]):
        raise SystemExit("classifier feature_name_ differs from the booster dump's feature_names")
    out = Path(args.out) if args.out else MODELS_DIR / f"yasa_{args.classifier}_{CLF_VERSION}.npz"
    meta = {
        "source": f"yasa/classifiers/{src.name}",
        "source_sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
        "yasa_version": yasa.__version__, "lightgbm_version": lightgbm.__version__,
        "classifier_classes": [str(c) for c in clf.classes_],
        "licence": "BSD-3-Clause (see YASA_LICENSE.txt)", "attribution": ATTRIBUTION,
        "converter": "python tools/convert_yasa.py --classifier " + args.classifier,
        "input_dtype": "float32 (YASA calls clf.predict_proba(X.astype(np.float32)))",
    }
    model = convert_lgbm(dump, name=f"yasa-{args.classifier}-lgb", version=CLF_VERSION,
                         classes=[str(c) for c in clf.classes_], meta=meta)
    save_tree_model(model, out)
    loaded = load_tree_model(out)  # verify what was written, not what is in memory
    checks = {"random": compare(loaded, booster, random_rows(dump, args.rows))}
    feats = dreams_features(args.classifier, loaded.feature_names)
    if feats is not None:
        checks["dreams_excerpt1"] = compare(loaded, booster, feats)
    ok = all(c["max_abs_diff_raw"] <= TOLERANCE and c["argmax_agreement"] == 1.0
             for c in checks.values())
    t0 = time.perf_counter()
    load_tree_model(out)
    load_s = time.perf_counter() - t0
    report = {
        "classifier": args.classifier, "out": str(out), "bytes": out.stat().st_size,
        "n_trees": loaded.n_trees, "n_internal_nodes": int(loaded.feature.size),
        "n_leaves": int(loaded.leaf_value.size), "classes": loaded.classes,
        "n_features": len(loaded.feature_names), "load_ms": round(load_s * 1e3, 1),
        "checks": checks, "ok": ok, "speed": bench_trees(loaded.trees),
    }
    print(json.dumps(report, indent=1))
    if not ok:
        out.unlink()
        print(f"verification failed (tolerance {TOLERANCE}); {out} removed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
