"""Evaluate an ensemble of binary decision trees stored as flat arrays (LightGBM semantics).

The ensemble is a list of trees; tree ``t`` adds its leaf value to the raw margin of class
``tree_class[t]``. All trees share flat arrays:

* internal nodes ``i``: ``feature[i]`` (column of ``X``), ``threshold[i]`` (float64),
  ``left[i]`` / ``right[i]`` (children), ``decision_type[i]`` (LightGBM's bit field, below);
* leaves ``j``: ``leaf_value[j]`` (float64);
* a child or root reference ``c >= 0`` is internal node ``c``; ``c < 0`` is leaf ``~c``
  (``-c - 1``), as in LightGBM's own arrays. ``tree_root[t]`` is the root reference of tree
  ``t`` (a single-leaf tree has a negative root).

``decision_type`` uses LightGBM's encoding: bit 0 categorical (not supported: refused by
:func:`check_tree_arrays`), bit 1 ``default_left``, bits 2–3 the missing type
(0 ``None``, 1 ``Zero``, 2 ``NaN``). The split rule is LightGBM's ``NumericalDecision``:

1. a NaN input counts as 0.0 unless the missing type is ``NaN``;
2. missing type ``Zero`` and ``|x| <= kZeroThreshold`` (``1e-35f``), or missing type ``NaN``
   and ``x`` is NaN: go the default way (left if ``default_left``);
3. otherwise left if ``x <= threshold`` else right (±inf compare as usual).

Before that, like LightGBM's row readers (which keep only entries with
``|x| > kZeroThreshold`` or NaN), inputs with ``|x| <= kZeroThreshold`` are read as 0.0.

Unlike the signal kernels of :mod:`dsp`, NaN and ±inf inputs are **accepted** here: the
rules above give them a defined path, exactly as in LightGBM.

Margins are summed in tree order per class starting from 0.0, which is LightGBM's order, so
results equal ``Booster.predict(raw_score=True)`` to the last bit.

Run ``python -m dsp.trees`` for a speed figure (JSON) on a random ensemble of YASA's size.
"""

from __future__ import annotations

import json
import time
from typing import NamedTuple

import numpy as np

from dsp._jit import njit

#: LightGBM's ``kZeroThreshold`` (declared as the float literal ``1e-35f``, stored as double).
K_ZERO_THRESHOLD = float(np.float32(1e-35))
#: ``decision_type`` bits (LightGBM ``kCategoricalMask``, ``kDefaultLeftMask``).
CATEGORICAL_MASK = 1
DEFAULT_LEFT_MASK = 2
#: Missing types (bits 2–3 of ``decision_type``).
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2
MISSING_TYPES = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}


class TreeArrays(NamedTuple):
    """A validated ensemble in the flat layout described in the module docstring.

    Build it with :func:`check_tree_arrays` (which checks it once); :func:`tree_raw_scores`
    then only checks ``X``.
    """

    feature: np.ndarray        # (n_nodes,) int16/int32
    threshold: np.ndarray      # (n_nodes,) float64
    left: np.ndarray           # (n_nodes,) int32
    right: np.ndarray          # (n_nodes,) int32
    decision_type: np.ndarray  # (n_nodes,) uint8
    leaf_value: np.ndarray     # (n_leaves,) float64
    tree_root: np.ndarray      # (n_trees,) int32
    tree_class: np.ndarray     # (n_trees,) int16/int32
    n_classes: int
    n_features: int


def decision_type_code(default_left: bool, missing_type: str) -> int:
    """LightGBM ``decision_type`` byte of a numerical ``<=`` split.

    Raises
    ------
    ValueError
        ``missing_type`` is not one of ``None``, ``Zero``, ``NaN``.
    """
    if missing_type not in MISSING_TYPES:
        raise ValueError(f"missing_type must be one of {list(MISSING_TYPES)}, got {missing_type!r}")
    return (DEFAULT_LEFT_MASK if default_left else 0) | (MISSING_TYPES[missing_type] << 2)


def check_tree_arrays(
    feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
    decision_type: np.ndarray, leaf_value: np.ndarray, tree_root: np.ndarray,
    tree_class: np.ndarray, n_classes: int, n_features: int,
) -> TreeArrays:
    """Validate a flat ensemble and return it as contiguous arrays of the kernel's dtypes.

    Checks lengths, dtypes (integers where indices are expected), index ranges, that every
    internal node and leaf is referenced exactly once (by a parent or as a root: so every tree
    is a proper tree and traversal terminates), that no split is categorical and that every
    missing type is known.

    Parameters
    ----------
    feature, threshold, left, right, decision_type
        Per internal node (see the module docstring).
    leaf_value
        Per leaf.
    tree_root, tree_class
        Per tree: root reference and the class the tree's value is added to.
    n_classes, n_features
        Width of the output and of ``X``.

    Returns
    -------
    TreeArrays

    Raises
    ------
    ValueError
        Naming the array and what is wrong with it.
    """
    n_classes = int(n_classes)
    n_features = int(n_features)
    if n_classes < 1 or n_features < 1:
        raise ValueError(f"n_classes and n_features must be >= 1, got {n_classes} and {n_features}")

    def as_1d(x: object, name: str, kind: str, dtype: type) -> np.ndarray:
        arr = np.asarray(x)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
        if arr.dtype.kind not in kind and arr.size:
            raise ValueError(f"{name} must have dtype kind {kind!r}, got {arr.dtype}")
        if kind == "f":
            return np.ascontiguousarray(arr, dtype=np.float64)
        if arr.size and (arr.min() < np.iinfo(dtype).min or arr.max() > np.iinfo(dtype).max):
            raise ValueError(f"{name} has values outside the {np.dtype(dtype).name} range")
        return np.ascontiguousarray(arr, dtype=dtype)

    feat = as_1d(feature, "feature", "iu", np.int32)
    thr = as_1d(threshold, "threshold", "f", np.float64)
    lch = as_1d(left, "left", "iu", np.int32)
    rch = as_1d(right, "right", "iu", np.int32)
    dt = as_1d(decision_type, "decision_type", "iu", np.uint8)
    leaves = as_1d(leaf_value, "leaf_value", "f", np.float64)
    roots = as_1d(tree_root, "tree_root", "iu", np.int32)
    tcls = as_1d(tree_class, "tree_class", "iu", np.int32)
    n_nodes, n_leaves, n_trees = feat.size, leaves.size, roots.size
    for name, arr in (("threshold", thr), ("left", lch), ("right", rch), ("decision_type", dt)):
        if arr.size != n_nodes:
            raise ValueError(f"{name} has {arr.size} entries, feature has {n_nodes} (one per internal node)")
    if tcls.size != n_trees:
        raise ValueError(f"tree_class has {tcls.size} entries, tree_root has {n_trees} (one per tree)")
    if n_trees == 0:
        raise ValueError("the ensemble has no trees")
    if n_nodes and (feat.min() < 0 or feat.max() >= n_features):
        raise ValueError(f"feature indices must be in [0, {n_features}), got [{feat.min()}, {feat.max()}]")
    if tcls.min() < 0 or tcls.max() >= n_classes:
        raise ValueError(f"tree_class must be in [0, {n_classes}), got [{tcls.min()}, {tcls.max()}]")
    if np.any(dt & CATEGORICAL_MASK):
        raise ValueError("categorical splits are not supported (decision_type bit 0 set)")
    if np.any((dt >> 2) > MISSING_NAN) or np.any(dt >> 4):
        raise ValueError("decision_type has an unknown missing type or unknown bits")
    if not np.isfinite(leaves).all():
        raise ValueError("leaf_value must be finite")
    if np.isinf(thr).any() or np.isnan(thr).any():
        # LightGBM clamps thresholds to finite values; a NaN threshold would send everything right.
        raise ValueError("threshold must be finite")
    refs = np.concatenate([roots, lch, rch])
    if refs.size and (refs.max() >= n_nodes or refs.min() < -n_leaves):
        raise ValueError(
            f"child/root references must be in [-{n_leaves}, {n_nodes}) "
            f"(internal node index, or ~leaf index), got [{refs.min()}, {refs.max()}]")
    node_refs = np.bincount(refs[refs >= 0], minlength=n_nodes)
    leaf_refs = np.bincount(~refs[refs < 0], minlength=n_leaves)
    if np.any(node_refs != 1) or np.any(leaf_refs != 1):
        bad_n = np.flatnonzero(node_refs != 1)[:5].tolist()
        bad_l = np.flatnonzero(leaf_refs != 1)[:5].tolist()
        raise ValueError(
            "every internal node and leaf must be referenced exactly once (by its parent or as "
            f"a root); nodes {bad_n} and leaves {bad_l} are not")
    return TreeArrays(feat, thr, lch, rch, dt, leaves, roots, tcls, n_classes, n_features)


def tree_raw_scores(X: np.ndarray, trees: TreeArrays) -> np.ndarray:
    """Raw margins of an ensemble: per row and class, the sum of that class's tree outputs.

    Parameters
    ----------
    X
        ``(n_features,)`` or ``(n_rows, n_features)`` real values; NaN/±inf allowed (see the
        module docstring). Converted to float64 (cast to float32 first yourself if the model
        was evaluated on float32 inputs, as LightGBM's sklearn wrapper in YASA was).
    trees
        From :func:`check_tree_arrays`.

    Returns
    -------
    numpy.ndarray
        ``(n_classes,)`` or ``(n_rows, n_classes)`` float64.

    Raises
    ------
    ValueError
        ``X`` is not real, not 1-D/2-D, or has the wrong number of columns.
    """
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"X must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"X must have shape (n_features,) or (n_rows, n_features), got {arr.shape}")
    one = arr.ndim == 1
    x2 = np.ascontiguousarray(np.atleast_2d(arr), dtype=np.float64)
    if x2.shape[1] != trees.n_features:
        raise ValueError(f"X has {x2.shape[1]} features, the ensemble expects {trees.n_features}")
    out = np.zeros((x2.shape[0], trees.n_classes))
    _ensemble_kernel(x2, trees.feature, trees.threshold, trees.left, trees.right,
                     trees.decision_type, trees.leaf_value, trees.tree_root, trees.tree_class,
                     K_ZERO_THRESHOLD, out)
    return out[0] if one else out


@njit
def _ensemble_kernel(x, feature, threshold, left, right, decision_type, leaf_value,  # noqa: ANN001, PLR0913
                     tree_root, tree_class, zero_thr, out):  # noqa: ANN001
    n_rows, n_feat = x.shape
    n_trees = tree_root.shape[0]
    # LightGBM's row reader: |x| <= kZeroThreshold is read as 0.0 (NaN kept).
    xr = np.empty((n_rows, n_feat))
    for r in range(n_rows):
        for j in range(n_feat):
            v = x[r, j]
            xr[r, j] = 0.0 if -zero_thr <= v <= zero_thr else v
    # Tree-outer loop: one tree stays in cache across a batch of rows; each (row, class) sum
    # still runs over that class's trees in order.
    for t in range(n_trees):
        root = tree_root[t]
        k = tree_class[t]
        for r in range(n_rows):
            node = root
            while node >= 0:
                fval = xr[r, feature[node]]
                dtype = decision_type[node]
                missing = (dtype >> 2) & 3
                if missing == 0:  # None: NaN counts as 0.0
                    if np.isnan(fval):
                        fval = 0.0
                    node = left[node] if fval <= threshold[node] else right[node]
                elif (missing == 1 and (np.isnan(fval) or fval == 0.0)) or (missing == 2 and np.isnan(fval)):
                    # Zero: NaN -> 0.0 and (after the row reader) |x| <= kZeroThreshold is 0.0.
                    node = left[node] if dtype & 2 else right[node]
                elif fval <= threshold[node]:
                    node = left[node]
                else:
                    node = right[node]
            out[r, k] += leaf_value[-node - 1]


def random_ensemble(n_trees: int, n_classes: int, n_features: int, depth: int,
                    seed: int = 0) -> TreeArrays:
    """A random complete ensemble (benchmarks and tests): every tree has ``2**depth`` leaves.

    Split kinds (default direction, missing type) are drawn at random; thresholds are drawn
    from a standard normal.
    """
    rng = np.random.default_rng(seed)
    n_int = 2 ** depth - 1
    feats, thrs, lefts, rights, dts, leaves, roots = [], [], [], [], [], [], []
    node0 = leaf0 = 0
    for _ in range(n_trees):
        roots.append(node0 if depth > 0 else ~leaf0)
        for i in range(n_int):  # heap order: children of i are 2i+1, 2i+2
            kids = []
            for c in (2 * i + 1, 2 * i + 2):
                kids.append(node0 + c if c < n_int else ~(leaf0 + c - n_int))
            lefts.append(kids[0])
            rights.append(kids[1])
        feats.append(rng.integers(0, n_features, n_int))
        thrs.append(rng.standard_normal(n_int))
        dts.append(rng.integers(0, 2, n_int) * DEFAULT_LEFT_MASK + (rng.integers(0, 3, n_int) << 2))
        leaves.append(rng.standard_normal(n_int + 1) * 0.1)
        node0 += n_int
        leaf0 += n_int + 1
    return check_tree_arrays(
        np.concatenate(feats), np.concatenate(thrs), np.asarray(lefts, np.int64),
        np.asarray(rights, np.int64), np.concatenate(dts), np.concatenate(leaves),
        np.asarray(roots), np.arange(n_trees) % n_classes, n_classes, n_features)


def bench_trees(trees: TreeArrays | None = None, batch: int = 960, repeat: int = 200) -> dict:
    """Time :func:`tree_raw_scores` for one row and for a ``batch``-row block.

    Default ensemble: random, YASA-sized (2000 trees, 5 classes, 65 features, depth 5).

    Returns
    -------
    dict
        ``us_per_row_single``: best of ``repeat`` one-row calls (µs, validation included);
        ``us_per_row_batch``: best of a few ``batch``-row calls divided by ``batch``.
    """
    if trees is None:
        trees = random_ensemble(2000, 5, 65, 5)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((batch, trees.n_features))
    tree_raw_scores(X[0], trees)  # compile / warm up
    single = []
    for i in range(repeat):
        t0 = time.perf_counter()
        tree_raw_scores(X[i % batch], trees)
        single.append(time.perf_counter() - t0)
    whole = []
    for _ in range(5):
        t0 = time.perf_counter()
        tree_raw_scores(X, trees)
        whole.append(time.perf_counter() - t0)
    return {
        "n_trees": int(trees.tree_root.size), "n_nodes": int(trees.feature.size),
        "n_leaves": int(trees.leaf_value.size), "batch": batch,
        "us_per_row_single": round(min(single) * 1e6, 2),
        "us_per_row_batch": round(min(whole) / batch * 1e6, 2),
    }


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(bench_trees()))
