"""firmware_host.staging.tree_model: LightGBM dump conversion, the .npz format and its load
errors, and the shipped YASA models (equal to LightGBM when lightgbm + yasa are installed)."""

from __future__ import annotations

import copy
import importlib.util
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from firmware_host.staging.model import ModelFormatError
from firmware_host.staging.tree_model import (
    TREE_FORMAT,
    TREE_FORMAT_VERSION,
    TreeEnsembleModel,
    UnsupportedModelError,
    convert_lgbm,
    load_tree_model,
    save_tree_model,
    shipped_tree_model_path,
)
from tests.reference.trees import K_ZERO, dump_raw_scores

HAVE_YASA_LGBM = all(importlib.util.find_spec(m) is not None for m in ("lightgbm", "yasa", "joblib"))


def _split(feature: int, thr: float, left: dict, right: dict, *, default_left: bool = True,
           missing: str = "None", index: int = 0) -> dict:
    return {"split_index": index, "split_feature": feature, "threshold": thr, "decision_type": "<=",
            "default_left": default_left, "missing_type": missing, "left_child": left,
            "right_child": right}


def _leaf(v: float, index: int = 0) -> dict:
    return {"leaf_index": index, "leaf_value": v}


def hand_dump() -> dict:
    """A 2-iteration, 3-class dump with every split kind, a single-leaf tree and tiny thresholds."""
    kinds = [(dl, mt) for dl in (True, False) for mt in ("None", "Zero", "NaN")]
    trees = []
    for t in range(6):
        dl, mt = kinds[t]
        thr = [0.0, 1e-37, -0.25, 0.5, -1e-37, 2.0][t]
        trees.append(_split(t % 2, thr,
                            _split(2, 0.1, _leaf(0.1 * t), _leaf(-0.2), default_left=not dl, missing=mt),
                            _split((t + 1) % 3, -0.1, _leaf(0.3), _split(0, 1.0, _leaf(t), _leaf(-t)),
                                   default_left=dl, missing="NaN" if mt == "None" else mt),
                            default_left=dl, missing=mt))
    trees[4] = _leaf(0.75)  # single-leaf tree
    return {
        "name": "tree", "version": "v4", "num_class": 3, "num_tree_per_iteration": 3,
        "objective": "multiclass num_class:3", "average_output": False,
        "feature_names": ["a", "b", "c"],
        "tree_info": [{"tree_index": i, "num_leaves": 0, "num_cat": 0, "shrinkage": 0.1,
                       "tree_structure": s} for i, s in enumerate(trees)],
    }


def hand_model() -> TreeEnsembleModel:
    return convert_lgbm(hand_dump(), name="hand", version="1.0", classes=["N1", "R", "WAKE"],
                        meta={"why": "test"})


def nasty_rows(n: int, n_feat: int = 3, seed: int = 0) -> np.ndarray:
    vals = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-36, -1e-36, 1e-37, K_ZERO, 0.1, -0.1,
                     0.5, 1.0, 2.0, -0.25, 1e-45])
    rng = np.random.default_rng(seed)
    X = rng.choice(vals, (n, n_feat))
    X[: n // 3] = rng.normal(0, 1, (n // 3, n_feat))
    return X


def test_convert_matches_recursive_dump_traversal() -> None:
    m = hand_model()
    X = nasty_rows(400)
    X32 = X.astype(np.float32).astype(np.float64)  # what LightGBM received in YASA
    assert np.array_equal(m.raw_scores(X), dump_raw_scores(hand_dump(), X32))
    assert m.classes == ["N1", "REM", "W"]
    assert m.feature_names == ["a", "b", "c"]
    assert m.tag == "hand@1.0"
    assert m.n_trees == 6 and m.meta["n_trees"] == 6 and m.meta["why"] == "test"
    p = m.predict_proba(X)
    assert p.shape == (400, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    z = m.raw_scores(X)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), rtol=1e-12)
    with pytest.raises(ValueError, match="read-only"):
        m.threshold[0] = 1.0
    one = m.predict_proba(X[5])
    assert one.shape == (3,) and np.array_equal(one, p[5])


def test_inputs_are_cast_to_float32() -> None:
    """A value between a float64 threshold and its float32 neighbour goes where LightGBM sends
    the float32 value."""
    thr = 0.1  # float32(0.1) > 0.1, so float32 rounding flips the split for x = 0.1 + 1e-12
    d = hand_dump()
    d["tree_info"] = d["tree_info"][:3]
    d["tree_info"][0]["tree_structure"] = _split(0, thr, _leaf(-1.0), _leaf(1.0))
    m = convert_lgbm(d, name="x", version="1", classes=["N1", "N2", "N3"], meta={})
    x = np.array([[0.1 - 1e-12, 0.0, 0.0]])
    assert float(np.float32(x[0, 0])) > thr > x[0, 0]
    assert m.raw_scores(x)[0, 0] == 1.0


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.update(objective="binary sigmoid:1"), "only 'multiclass'"),
    (lambda d: d.update(objective="multiclassova num_class:3"), "only 'multiclass'"),
    (lambda d: d.update(average_output=True), "average_output"),
    (lambda d: d.update(num_class=4), "num_class 4"),
    (lambda d: d["tree_info"].pop(), "not a multiple of num_class"),
    (lambda d: d["tree_info"][1].update(num_cat=1), "tree 1: categorical"),
    (lambda d: d["tree_info"][0]["tree_structure"].update(decision_type="=="), "tree 0: decision_type '=='"),
    (lambda d: d["tree_info"][2]["tree_structure"].update(missing_type="Inf"), "tree 2: missing_type"),
    (lambda d: d["tree_info"][4]["tree_structure"].update(leaf_coeff=[1.0]), "tree 4: .*linear trees"),
    (lambda d: d["tree_info"][0]["tree_structure"].update(split_feature=9),
     "inconsistent model: feature indices"),
])
def test_convert_refuses_unsupported(mutate, message: str) -> None:  # noqa: ANN001
    d = copy.deepcopy(hand_dump())
    mutate(d)
    with pytest.raises(UnsupportedModelError, match=message):
        convert_lgbm(d, name="x", version="1", classes=["N1", "R", "W"], meta={})


def test_convert_refuses_unknown_class_name() -> None:
    with pytest.raises(UnsupportedModelError, match="class 'Deep' has no AASM name"):
        convert_lgbm(hand_dump(), name="x", version="1", classes=["N1", "Deep", "W"], meta={})


def test_round_trip(tmp_path: Path) -> None:
    m = hand_model()
    path = tmp_path / "m.npz"
    save_tree_model(m, path)
    back = load_tree_model(path)
    for f in ("name", "version", "classes", "feature_names", "meta"):
        assert getattr(back, f) == getattr(m, f)
    for f in ("feature", "threshold", "left", "right", "decision_type", "leaf_value", "tree_root",
              "tree_class"):
        assert np.array_equal(getattr(back, f), getattr(m, f))
    X = nasty_rows(50)
    assert np.array_equal(back.raw_scores(X), m.raw_scores(X))
    with np.load(path, allow_pickle=False) as z:  # nothing pickled; compact dtypes
        assert z["feature"].dtype == np.int16 and z["left"].dtype == np.int32
        assert z["threshold"].dtype == np.float64 and z["leaf_value"].dtype == np.float64


def _rewrite(src: Path, dst: Path, header: dict | str | None = None, drop: str = "", **arrays) -> None:  # noqa: ANN003
    with np.load(src, allow_pickle=False) as z:
        contents = {k: z[k] for k in z.files}
    if header is not None:
        contents["header"] = np.array(header if isinstance(header, str) else json.dumps(header))
    contents.update(arrays)
    contents.pop(drop, None)
    np.savez(dst, **contents)


def test_load_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    save_tree_model(hand_model(), good)
    head = hand_model().header()

    with pytest.raises(ModelFormatError, match="file not found"):
        load_tree_model(tmp_path / "absent.npz")

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip archive at all" * 10)
    with pytest.raises(ModelFormatError, match="not a readable .npz archive"):
        load_tree_model(garbage)

    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelFormatError, match="corrupt or truncated"):
        load_tree_model(cut)

    npy = tmp_path / "bare.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ModelFormatError, match="not an .npz archive"):
        load_tree_model(npy)

    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ModelFormatError, match=f"no 'header' entry, not a '{TREE_FORMAT}' file"):
        load_tree_model(other)

    bad = tmp_path / "bad.npz"
    _rewrite(good, bad, header={**head, "format": "somnoloop-stager"})
    with pytest.raises(ModelFormatError, match="format is 'somnoloop-stager', expected 'somnoloop-trees'"):
        load_tree_model(bad)

    _rewrite(good, bad, header={**head, "format_version": TREE_FORMAT_VERSION + 1})
    with pytest.raises(ModelFormatError, match=r"format_version 2 is not supported; this somnoloop "
                                               r"reads format_version 1"):
        load_tree_model(bad)

    _rewrite(good, bad, header={**head, "objective": "binary"})
    with pytest.raises(ModelFormatError, match="objective 'binary' is not supported"):
        load_tree_model(bad)

    _rewrite(good, bad, drop="leaf_value")
    with pytest.raises(ModelFormatError, match=r"missing arrays \['leaf_value'\]"):
        load_tree_model(bad)

    with np.load(good) as z:
        left, leaves = z["left"], z["leaf_value"]
    _rewrite(good, bad, left=left[:-1])
    with pytest.raises(ModelFormatError, match="inconsistent model: left has .* entries"):
        load_tree_model(bad)
    _rewrite(good, bad, leaf_value=leaves[:-2])
    with pytest.raises(ModelFormatError, match="inconsistent model: child/root references"):
        load_tree_model(bad)

    _rewrite(good, bad, header={**head, "classes": ["N1", "N2"]})
    with pytest.raises(ModelFormatError, match=r"inconsistent model: tree_class must be in \[0, 2\)"):
        load_tree_model(bad)

    no_name = {k: v for k, v in head.items() if k != "name"}
    _rewrite(good, bad, header=no_name)
    with pytest.raises(ModelFormatError, match="header lacks field 'name'"):
        load_tree_model(bad)

    with zipfile.ZipFile(bad, "w") as zf:  # a zip whose header is not an array
        zf.writestr("header.npy", b"junk")
    with pytest.raises(ModelFormatError, match="not a readable .npz archive"):
        load_tree_model(bad)

    _rewrite(good, bad, header="{not json")
    with pytest.raises(ModelFormatError, match="header is not JSON"):
        load_tree_model(bad)


SHIPPED = {"eeg": 65, "eeg+eog": 116, "eeg+emg": 98, "eeg+eog+emg": 149}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_models_load(name: str) -> None:
    path = shipped_tree_model_path(name)
    assert path.stat().st_size < 2_000_000
    m = load_tree_model(path)
    assert m.tag == f"yasa-{name}-lgb@0.5.0"
    assert m.classes == ["N1", "N2", "N3", "REM", "W"]
    assert len(m.feature_names) == SHIPPED[name]
    assert m.feature_names[0] == "eeg_abspow"
    assert {"time_hour", "time_norm", "eeg_sigma_c7min_norm"} <= set(m.feature_names)
    assert m.n_trees == 2000 and np.array_equal(m.tree_class, np.arange(2000) % 5)
    assert len(m.meta["source_sha256"]) == 64
    assert "Vallat" in m.meta["attribution"] and "BSD-3" in m.meta["licence"] + m.meta["attribution"]
    assert (path.parent / "YASA_LICENSE.txt").is_file()
    p = m.predict_proba(np.zeros(SHIPPED[name]))
    assert p.shape == (5,) and abs(p.sum() - 1) < 1e-12


def _rows_over_thresholds(m: TreeEnsembleModel, n: int, seed: int = 0) -> np.ndarray:
    """Random rows spanning every feature's split thresholds, with NaN/inf/0 mixed in."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, len(m.feature_names)))
    for j in range(X.shape[1]):
        t = m.threshold[m.feature == j]
        lo, hi = (t.min(), t.max()) if t.size else (-1.0, 1.0)
        X[:, j] = rng.uniform(lo - 0.1 * (hi - lo) - 1e-3, hi + 0.1 * (hi - lo) + 1e-3, n)
    edge = rng.random(X.shape) < 0.03
    X[edge] = rng.choice([np.nan, np.inf, -np.inf, 0.0], edge.sum())
    return X


@pytest.mark.skipif(not HAVE_YASA_LGBM, reason="yasa/lightgbm/joblib not installed: the shipped "
                    "models cannot be compared with YASA's original LightGBM classifiers")
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_models_equal_lightgbm(name: str) -> None:
    import joblib
    import yasa

    src = Path(yasa.__file__).parent / "classifiers" / f"clf_{name}_lgb_0.5.0.joblib"
    if not src.is_file():
        pytest.skip(f"{src} not in the installed yasa {yasa.__version__}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = joblib.load(src)
    m = load_tree_model(shipped_tree_model_path(name))
    assert m.feature_names == list(clf.feature_name_)
    assert [c.replace("R", "REM") if c == "R" else c for c in clf.classes_] == m.classes
    X = _rows_over_thresholds(m, 60, seed=len(name))
    ref = clf.booster_.predict(X.astype(np.float32), raw_score=True)
    got = m.raw_scores(X)
    assert np.max(np.abs(got - ref)) <= 1e-9
    assert np.array_equal(got.argmax(1), ref.argmax(1))
    np.testing.assert_allclose(m.predict_proba(X), clf.predict_proba(X.astype(np.float32)),
                               rtol=0, atol=1e-12)
