"""dsp.trees: the ensemble kernel against a naive traversal (and LightGBM itself when installed)
on every split kind, NaN/±inf/zero/tiny inputs; batch invariance; array validation."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.trees import (
    K_ZERO_THRESHOLD,
    bench_trees,
    check_tree_arrays,
    decision_type_code,
    random_ensemble,
    tree_raw_scores,
)
from tests.reference.trees import flat_raw_scores, lgbm_model_string

HAVE_LGBM = importlib.util.find_spec("lightgbm") is not None
K = K_ZERO_THRESHOLD
#: Thresholds around LightGBM's zero band and ordinary values.
NASTY_THRESHOLDS = np.array([0.0, 1e-37, -1e-37, K, -K, 0.5, -0.5, 1e-300, 2e-35])
#: Inputs: missing, infinite, signed zeros, inside/at/just outside the zero band, thresholds.
NASTY_INPUTS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-36, -1e-36, 1e-37, -1e-37, K, -K,
                         np.nextafter(K, 1), -np.nextafter(K, 1), 2e-35, 1e-300, 0.5, -0.5, 1.5,
                         -1.5])
ALL_CODES = [decision_type_code(dl, mt) for dl in (False, True) for mt in ("None", "Zero", "NaN")]


def nasty_ensemble(seed: int = 0, n_trees: int = 12, depth: int = 3, n_features: int = 3):  # noqa: ANN201
    """Every split kind (6 codes) at thresholds around zero, on few features."""
    tr = random_ensemble(n_trees, 3, n_features, depth, seed=seed)
    rng = np.random.default_rng(seed)
    n = tr.feature.size
    return tr._replace(
        decision_type=np.resize(np.asarray(ALL_CODES, np.uint8), n),
        threshold=rng.choice(NASTY_THRESHOLDS, n))


def nasty_rows(n: int, n_features: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.choice(NASTY_INPUTS, size=(n, n_features))
    X[: n // 4] = rng.standard_normal((n // 4, n_features))
    return X


def test_decision_type_codes_are_lightgbms() -> None:
    # LightGBM: bit 1 default_left, bits 2-3 missing type (None 0, Zero 1, NaN 2).
    assert decision_type_code(False, "None") == 0
    assert decision_type_code(True, "None") == 2
    assert decision_type_code(True, "Zero") == 6
    assert decision_type_code(False, "NaN") == 8
    with pytest.raises(ValueError, match="missing_type must be one of"):
        decision_type_code(True, "Inf")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_matches_naive_traversal(seed: int) -> None:
    tr = nasty_ensemble(seed)
    X = nasty_rows(300, tr.n_features, seed)
    got = tree_raw_scores(X, tr)
    assert np.array_equal(got, flat_raw_scores(X, tr))


def test_every_split_kind_on_every_input() -> None:
    """One single-split tree per (code, threshold); each nasty input alone on that feature."""
    feats, thrs, lefts, rights, dts, leaves, roots = [], [], [], [], [], [], []
    for code in ALL_CODES:
        for thr in NASTY_THRESHOLDS:
            i = len(feats)
            feats.append(0)
            thrs.append(thr)
            dts.append(code)
            lefts.append(~(2 * i))
            rights.append(~(2 * i + 1))
            leaves += [-1.0, 1.0]
            roots.append(i)
    n_trees = len(roots)
    tr = check_tree_arrays(feats, thrs, lefts, rights, dts, leaves, roots, np.arange(n_trees),
                           n_trees, 1)
    X = NASTY_INPUTS[:, None]
    got = tree_raw_scores(X, tr)
    assert np.array_equal(got, flat_raw_scores(X, tr))
    # Spot checks of the rules: NaN with missing None goes as 0.0; with NaN it goes default.
    none_right, nan_left = ALL_CODES.index(0), ALL_CODES.index(decision_type_code(True, "NaN"))
    thr0 = list(NASTY_THRESHOLDS).index(-0.5)
    assert got[0, none_right * len(NASTY_THRESHOLDS) + thr0] == 1.0   # NaN -> 0.0 > -0.5: right
    assert got[0, nan_left * len(NASTY_THRESHOLDS) + thr0] == -1.0    # NaN -> default left
    # 1e-36 is read as 0.0 (LightGBM's row reader), so it is <= a 1e-37 threshold.
    thr_tiny = list(NASTY_THRESHOLDS).index(1e-37)
    assert got[list(NASTY_INPUTS).index(1e-36), none_right * len(NASTY_THRESHOLDS) + thr_tiny] == -1.0


def test_single_leaf_trees() -> None:
    tr = random_ensemble(4, 2, 3, 0, seed=5)
    X = nasty_rows(5, 3)
    want = np.zeros((5, 2))
    want[:, 0] = tr.leaf_value[0] + tr.leaf_value[2]
    want[:, 1] = tr.leaf_value[1] + tr.leaf_value[3]
    assert np.array_equal(tree_raw_scores(X, tr), want)


@pytest.mark.skipif(not HAVE_LGBM, reason="lightgbm not installed: comparison with LightGBM itself skipped")
def test_kernel_equals_lightgbm_itself() -> None:
    import lightgbm as lgb

    tr = nasty_ensemble(7, n_trees=15)
    X = nasty_rows(400, tr.n_features, 7)
    booster = lgb.Booster(model_str=lgbm_model_string(tr))
    assert np.array_equal(tree_raw_scores(X, tr), booster.predict(X, raw_score=True))


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, 40), max_size=5))
def test_batch_invariance(cuts: list[int]) -> None:
    tr = nasty_ensemble(3)
    X = nasty_rows(40, tr.n_features, 3)
    whole = tree_raw_scores(X, tr)
    edges = [0, *sorted(cuts), 40]
    parts = [tree_raw_scores(X[a:b], tr) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    assert np.array_equal(np.concatenate(parts), whole)
    assert np.array_equal(tree_raw_scores(X[7], tr), whole[7])


def test_input_checks() -> None:
    tr = nasty_ensemble(0)
    with pytest.raises(ValueError, match="X has 2 features, the ensemble expects 3"):
        tree_raw_scores(np.zeros((4, 2)), tr)
    with pytest.raises(ValueError, match="shape"):
        tree_raw_scores(np.zeros((2, 2, 3)), tr)
    with pytest.raises(ValueError, match="real numeric"):
        tree_raw_scores(np.array([["a", "b", "c"]]), tr)
    assert tree_raw_scores(np.zeros((0, 3)), tr).shape == (0, 3)


def _two_leaf(**over):  # noqa: ANN003, ANN202
    args = {"feature": [0], "threshold": [0.5], "left": [-1], "right": [-2], "decision_type": [0],
            "leaf_value": [1.0, 2.0], "tree_root": [0], "tree_class": [0], "n_classes": 1,
            "n_features": 1}
    args.update(over)
    return check_tree_arrays(**args)


@pytest.mark.parametrize(("over", "message"), [
    ({"threshold": [0.5, 1.0]}, "threshold has 2 entries, feature has 1"),
    ({"tree_class": [0, 0]}, "tree_class has 2 entries"),
    ({"feature": [3]}, r"feature indices must be in \[0, 1\)"),
    ({"tree_class": [1]}, r"tree_class must be in \[0, 1\)"),
    ({"decision_type": [1]}, "categorical splits are not supported"),
    ({"decision_type": [12]}, "unknown missing type"),
    ({"leaf_value": [1.0, np.nan]}, "leaf_value must be finite"),
    ({"threshold": [np.nan]}, "threshold must be finite"),
    ({"left": [-3]}, "child/root references must be in"),
    ({"left": [0]}, "referenced exactly once"),           # a cycle: node 0 is its own child
    ({"right": [-1]}, "referenced exactly once"),         # leaf 0 twice, leaf 1 never
    ({"tree_root": [], "tree_class": []}, "no trees"),
    ({"feature": [0.0]}, "feature must have dtype kind"),
    ({"left": [[-1]]}, "left must be 1-D"),
    ({"n_features": 0}, "n_classes and n_features must be >= 1"),
])
def test_array_validation_errors(over: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _two_leaf(**over)


def test_bench_trees_reports_figures() -> None:
    res = bench_trees(random_ensemble(10, 2, 4, 2), batch=8, repeat=3)
    assert res["n_trees"] == 10 and res["n_nodes"] == 30 and res["n_leaves"] == 40 and res["batch"] == 8
    assert res["us_per_row_single"] > 0 and res["us_per_row_batch"] > 0
