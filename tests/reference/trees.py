"""Naive tree-ensemble evaluation, written from LightGBM's C++ (tree.h ``NumericalDecision``,
c_api.cpp row readers), in plain Python: a recursive traversal of ``Booster.dump_model()``
dicts and a loop over the flat arrays of :mod:`dsp.trees`. Also builds LightGBM model text
from flat arrays so tests can ask LightGBM itself."""

from __future__ import annotations

import math

import numpy as np

#: LightGBM's ``kZeroThreshold = 1e-35f`` (a float literal, so float32(1e-35) as a double).
K_ZERO = float(np.float32(1e-35))
MISSING_NAMES = ("None", "Zero", "NaN")


def read_value(x: float) -> float:
    """LightGBM's dense row reader keeps only ``|x| > kZeroThreshold`` or NaN; the rest is 0."""
    x = float(x)
    if not math.isnan(x) and abs(x) <= K_ZERO:
        return 0.0
    return x


def goes_left(x: float, threshold: float, default_left: bool, missing_type: str) -> bool:
    """One numerical split, LightGBM ``Tree::NumericalDecision``."""
    fval = read_value(x)
    if math.isnan(fval) and missing_type != "NaN":
        fval = 0.0
    if missing_type == "Zero" and -K_ZERO <= fval <= K_ZERO:
        return default_left
    if missing_type == "NaN" and math.isnan(fval):
        return default_left
    return fval <= threshold


def dump_tree_value(node: dict, x: np.ndarray) -> float:
    """Recursive traversal of one ``tree_structure`` dict."""
    if "split_index" not in node:
        return float(node["leaf_value"])
    assert node["decision_type"] == "<="
    left = goes_left(x[node["split_feature"]], node["threshold"], node["default_left"],
                     node["missing_type"])
    return dump_tree_value(node["left_child" if left else "right_child"], x)


def dump_raw_scores(dump: dict, X: np.ndarray) -> np.ndarray:
    """Raw margins of a multiclass dump: tree ``t`` adds to class ``t % num_class``."""
    k = dump["num_class"]
    out = np.zeros((len(X), k))
    for r, x in enumerate(X):
        for t, info in enumerate(dump["tree_info"]):
            out[r, t % k] += dump_tree_value(info["tree_structure"], x)
    return out


def flat_raw_scores(X: np.ndarray, trees) -> np.ndarray:  # noqa: ANN001 - dsp.trees.TreeArrays
    """The flat arrays of :mod:`dsp.trees`, walked one row and one tree at a time."""
    out = np.zeros((len(X), trees.n_classes))
    for r, x in enumerate(X):
        for t in range(len(trees.tree_root)):
            node = int(trees.tree_root[t])
            while node >= 0:
                dt = int(trees.decision_type[node])
                left = goes_left(x[trees.feature[node]], float(trees.threshold[node]),
                                 bool(dt & 2), MISSING_NAMES[(dt >> 2) & 3])
                node = int(trees.left[node] if left else trees.right[node])
            out[r, trees.tree_class[t]] += float(trees.leaf_value[-node - 1])
    return out


def _local_layout(trees, root: int) -> tuple[list[list[int]], list[int]]:  # noqa: ANN001
    """One tree renumbered as LightGBM stores it: ``[[global node, left, right], ...]`` with
    tree-local children (``~leaf`` for leaves), and the global leaf index of each local leaf."""
    nodes: list[list[int]] = []
    leaves: list[int] = []

    def visit(ref: int) -> int:
        if ref < 0:
            leaves.append(~ref)
            return ~(len(leaves) - 1)
        i = len(nodes)
        nodes.append([ref, 0, 0])
        nodes[i][1] = visit(int(trees.left[ref]))
        nodes[i][2] = visit(int(trees.right[ref]))
        return i

    visit(root)
    return nodes, leaves


def lgbm_model_string(trees, objective: str = "multiclass") -> str:  # noqa: ANN001
    """LightGBM model text (``Booster(model_str=...)``) of a flat ensemble whose trees are laid
    out as LightGBM does (tree ``t`` → class ``t % n_classes``)."""
    k = trees.n_classes
    fmt = " ".join
    lines = ["tree", "version=v4", f"num_class={k}", f"num_tree_per_iteration={k}",
             "label_index=0", f"max_feature_idx={trees.n_features - 1}",
             f"objective={objective} num_class:{k}",
             "feature_names=" + fmt(f"f{i}" for i in range(trees.n_features)),
             "feature_infos=" + fmt("none" for _ in range(trees.n_features)), ""]
    for t in range(len(trees.tree_root)):
        nodes, leaves = _local_layout(trees, int(trees.tree_root[t]))
        g = [n[0] for n in nodes]
        lines += [f"Tree={t}", f"num_leaves={len(leaves)}", "num_cat=0"]
        if nodes:
            lines += [
                "split_feature=" + fmt(str(int(trees.feature[i])) for i in g),
                "split_gain=" + fmt("1" for _ in g),
                "threshold=" + fmt(repr(float(trees.threshold[i])) for i in g),
                "decision_type=" + fmt(str(int(trees.decision_type[i])) for i in g),
                "left_child=" + fmt(str(n[1]) for n in nodes),
                "right_child=" + fmt(str(n[2]) for n in nodes),
            ]
        lines += ["leaf_value=" + fmt(repr(float(trees.leaf_value[j])) for j in leaves),
                  "leaf_weight=" + fmt("1" for _ in leaves), "leaf_count=" + fmt("1" for _ in leaves)]
        if nodes:
            lines += ["internal_value=" + fmt("0" for _ in g), "internal_weight=" + fmt("0" for _ in g),
                      "internal_count=" + fmt("1" for _ in g)]
        lines += ["is_linear=0", "shrinkage=1", "", ""]
    lines += ["end of trees", ""]
    return "\n".join(lines)
