"""Tree-ensemble model files (``.npz``): gradient-boosted trees as plain numeric arrays.

Used for YASA's pre-trained LightGBM sleep-staging classifiers (converted once by
``tools/convert_yasa.py``), evaluated by our own kernel (:mod:`dsp.trees`). At run time
nothing is unpickled and neither lightgbm, joblib nor scikit-learn is needed.

File layout (``numpy.savez_compressed``, loaded with ``allow_pickle=False``):

``header``
    0-d unicode array holding a JSON object: ``format`` (:data:`TREE_FORMAT`),
    ``format_version`` (:data:`TREE_FORMAT_VERSION`), ``name``, ``version``, ``classes``,
    ``feature_names``, ``objective`` (``"multiclass-softmax"``) and ``meta``.
``feature`` (int16), ``threshold`` (float64), ``left``, ``right`` (int32), ``decision_type`` (uint8)
    One entry per internal node (LightGBM's ``decision_type`` bit field; children ``>= 0``
    are internal nodes, ``< 0`` are leaves ``~c``; see :mod:`dsp.trees`).
``leaf_value`` (float64)
    One entry per leaf (already multiplied by the learning rate, as LightGBM stores it).
``tree_root`` (int32), ``tree_class`` (uint8)
    One entry per tree.

Thresholds and leaf values stay float64 so the margins equal LightGBM's to the last bit.

Speed of the shipped models (JSON: µs per row for one row and for a 960-row batch, load time):
``python -m firmware_host.staging.tree_model``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dsp.trees import (
    CATEGORICAL_MASK,
    TreeArrays,
    bench_trees,
    check_tree_arrays,
    decision_type_code,
    tree_raw_scores,
)
from firmware_host.npz import NpzError, read_npz
from firmware_host.staging.model import ModelFormatError

TREE_FORMAT = "somnoloop-trees"
TREE_FORMAT_VERSION = 1
#: The only output transform format version 1 knows.
OBJECTIVE = "multiclass-softmax"
#: Folder of the shipped models.
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
#: Class names of other conventions mapped to the AASM names the stager uses.
AASM_NAMES = {"R": "REM", "REM": "REM", "WAKE": "W", "W": "W", "N1": "N1", "N2": "N2", "N3": "N3"}
#: Array names in the file and the dtypes they are stored with.
ARRAY_DTYPES: dict[str, type] = {
    "feature": np.int16, "threshold": np.float64, "left": np.int32, "right": np.int32,
    "decision_type": np.uint8, "leaf_value": np.float64, "tree_root": np.int32,
    "tree_class": np.uint8,
}


@dataclass(frozen=True, eq=False)
class TreeEnsembleModel:
    """A multiclass tree ensemble with softmax output.

    Parameters
    ----------
    name, version
        Identify the model; ``tag`` = ``"name@version"``.
    classes
        AASM class names in output order.
    feature_names
        Column names of ``X`` (exactly the classifier's ``feature_name_``).
    meta
        Provenance (source file and sha256, converter command, licence, ...).
    feature, threshold, left, right, decision_type, leaf_value, tree_root, tree_class
        The flat ensemble (module docstring, :mod:`dsp.trees`). Validated on construction and
        kept as read-only copies.

    Raises
    ------
    ValueError
        The arrays are inconsistent, or ``classes`` / ``feature_names`` do not match them.
    """

    name: str
    version: str
    classes: list[str]
    feature_names: list[str]
    meta: dict[str, Any]
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    decision_type: np.ndarray
    leaf_value: np.ndarray
    tree_root: np.ndarray
    tree_class: np.ndarray
    _trees: TreeArrays = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(set(self.classes)) != len(self.classes) or not self.classes:
            raise ValueError(f"classes must be non-empty and distinct, got {self.classes}")
        if len(set(self.feature_names)) != len(self.feature_names) or not self.feature_names:
            raise ValueError("feature_names must be non-empty and distinct")
        for name in ARRAY_DTYPES:  # private read-only copies: a validated model stays valid
            arr = np.array(getattr(self, name))
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        trees = check_tree_arrays(
            self.feature, self.threshold, self.left, self.right, self.decision_type,
            self.leaf_value, self.tree_root, self.tree_class, len(self.classes),
            len(self.feature_names))
        object.__setattr__(self, "_trees", trees)

    @property
    def tag(self) -> str:
        """``name@version`` as stamped into decisions."""
        return f"{self.name}@{self.version}"

    @property
    def trees(self) -> TreeArrays:
        """The validated flat ensemble, as :func:`dsp.trees.tree_raw_scores` takes it."""
        return self._trees

    @property
    def n_trees(self) -> int:
        """Number of trees (iterations × classes)."""
        return int(self.tree_root.size)

    def raw_scores(self, X: np.ndarray) -> np.ndarray:
        """Raw margins, equal to LightGBM's ``predict(X.astype(float32), raw_score=True)``.

        Parameters
        ----------
        X
            ``(n, n_features)`` (or ``(n_features,)``) in ``feature_names`` order. Cast to
            float32 and back (what LightGBM received in YASA); NaN/±inf are allowed and follow
            LightGBM's missing-value rules.

        Returns
        -------
        numpy.ndarray
            ``(n, n_classes)`` (or ``(n_classes,)``) float64.
        """
        arr = np.asarray(X)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"X must be a real numeric array, got dtype {arr.dtype}")
        return tree_raw_scores(arr.astype(np.float32).astype(np.float64), self._trees)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities: softmax of :meth:`raw_scores`, columns in ``classes`` order."""
        z = self.raw_scores(X)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def header(self) -> dict[str, Any]:
        """The JSON header written to the file."""
        return {
            "format": TREE_FORMAT, "format_version": TREE_FORMAT_VERSION, "name": self.name,
            "version": self.version, "classes": list(self.classes),
            "feature_names": list(self.feature_names), "objective": OBJECTIVE, "meta": self.meta,
        }


def shipped_tree_model_path(name: str) -> Path:
    """Path of a shipped YASA model, e.g. ``"eeg"`` → ``models/yasa_eeg_0.5.0.npz``."""
    return MODELS_DIR / f"yasa_{name}_0.5.0.npz"


def save_tree_model(model: TreeEnsembleModel, path: str | Path) -> None:
    """Write ``model`` as a compressed ``.npz`` (no pickled objects).

    The path is used as given (``numpy`` would append ``.npz`` to a name without it; we
    write through an open file so it does not).
    """
    arrays = {name: np.asarray(getattr(model, name)).astype(dtype, casting="unsafe")
              for name, dtype in ARRAY_DTYPES.items()}
    for name, dtype in ARRAY_DTYPES.items():
        if not np.array_equal(arrays[name], np.asarray(getattr(model, name))):
            raise ValueError(f"{name} does not fit the file's dtype {np.dtype(dtype).name}")
    with open(path, "wb") as fh:
        np.savez_compressed(fh, header=np.array(json.dumps(model.header())), **arrays)


def load_tree_model(path: str | Path) -> TreeEnsembleModel:
    """Load and validate a tree-ensemble model file.

    Raises
    ------
    ModelFormatError
        The file is missing or unreadable, is not an ``.npz`` (or is truncated/corrupt), is
        not a ``somnoloop-trees`` file, has an unsupported ``format_version``, or holds
        missing or inconsistent arrays.
    """
    p = Path(path)
    what = f"tree model {p}"
    if not p.is_file():
        raise ModelFormatError(f"{what}: file not found")
    try:
        contents = read_npz(p)
    except NpzError as exc:
        raise ModelFormatError(f"{what}: {exc}") from None
    if "header" not in contents:
        raise ModelFormatError(f"{what}: no 'header' entry, not a '{TREE_FORMAT}' file")
    try:
        head = json.loads(str(contents["header"]))
    except (ValueError, RecursionError) as exc:  # ValueError: JSON errors, over-long integers
        raise ModelFormatError(f"{what}: header is not JSON ({str(exc)[:200]})") from None
    if not isinstance(head, dict) or head.get("format") != TREE_FORMAT:
        got = head.get("format") if isinstance(head, dict) else None
        raise ModelFormatError(f"{what}: format is {got!r}, expected '{TREE_FORMAT}'")
    if head.get("format_version") != TREE_FORMAT_VERSION:
        raise ModelFormatError(
            f"{what}: format_version {head.get('format_version')!r} is not supported; this "
            f"somnoloop reads format_version {TREE_FORMAT_VERSION} (convert the model again with "
            "tools/convert_yasa.py or update somnoloop)")
    if head.get("objective") != OBJECTIVE:
        raise ModelFormatError(
            f"{what}: objective {head.get('objective')!r} is not supported (only '{OBJECTIVE}')")
    missing = [k for k in ARRAY_DTYPES if k not in contents]
    extra = sorted(set(contents) - set(ARRAY_DTYPES) - {"header"})
    if missing or extra:
        raise ModelFormatError(f"{what}: missing arrays {missing}, unexpected arrays {extra}")
    wrong = {k: str(contents[k].dtype) for k, dtype in ARRAY_DTYPES.items()
             if contents[k].dtype != np.dtype(dtype)}
    if wrong:
        raise ModelFormatError(f"{what}: arrays of the wrong dtype {wrong}; expected "
                               f"{ {k: np.dtype(d).name for k, d in ARRAY_DTYPES.items()} }")
    if not np.all(np.isfinite(contents["leaf_value"])) or np.any(np.isinf(contents["threshold"])):
        raise ModelFormatError(f"{what}: leaf values must be finite and thresholds not infinite")
    lists = [head.get("classes"), head.get("feature_names")]
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists):
        raise ModelFormatError(f"{what}: header classes and feature_names must be lists of strings")
    try:
        return TreeEnsembleModel(
            name=str(head["name"]), version=str(head["version"]),
            classes=[str(c) for c in head["classes"]],
            feature_names=[str(f) for f in head["feature_names"]], meta=dict(head.get("meta", {})),
            **{k: contents[k] for k in ARRAY_DTYPES})
    except KeyError as exc:
        raise ModelFormatError(f"{what}: header lacks field {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{what}: inconsistent model: {exc}") from None


class UnsupportedModelError(ValueError):
    """A LightGBM model uses something this format cannot represent exactly."""


def convert_lgbm(booster_dump: dict, *, name: str, version: str, classes: list[str],
                 meta: dict[str, Any]) -> TreeEnsembleModel:
    """Convert a LightGBM multiclass model (``Booster.dump_model()``) to a tree model.

    Tree ``t`` adds to class ``t % num_class`` (LightGBM's layout). Leaf values in the dump
    already include the learning rate (``shrinkage``), and LightGBM folds the initial score
    (``boost_from_average``) into the first iteration's trees, so the raw margin is the plain
    sum of leaf values.

    Parameters
    ----------
    booster_dump
        ``lightgbm.Booster.dump_model()``.
    name, version
        Model identity (``tag``).
    classes
        Class names in LightGBM's class-index order (mapped to AASM names: ``R`` → ``REM``,
        ``WAKE`` → ``W``).
    meta
        Provenance stored in the file; ``n_trees`` and ``lightgbm_dump_version`` are added.

    Raises
    ------
    UnsupportedModelError
        Not a ``multiclass`` (softmax) model, ``average_output`` (random forest), class count
        mismatch, categorical or non-``<=`` splits, linear trees, unknown missing types.
    """
    d = booster_dump
    objective = str(d.get("objective", ""))
    if objective.split(" ")[0] != "multiclass":
        raise UnsupportedModelError(
            f"objective {objective!r} is not supported: only 'multiclass' (softmax) models")
    n_class = int(d.get("num_class", 0))
    if n_class != len(classes) or int(d.get("num_tree_per_iteration", 0)) != n_class:
        raise UnsupportedModelError(
            f"the model has num_class {n_class} and num_tree_per_iteration "
            f"{d.get('num_tree_per_iteration')}, but {len(classes)} class names were given")
    if d.get("average_output"):
        raise UnsupportedModelError("average_output (random-forest mode) is not supported")
    feature_names = [str(f) for f in d["feature_names"]]
    mapped = []
    for c in classes:
        if str(c).upper() not in AASM_NAMES:
            raise UnsupportedModelError(f"class {c!r} has no AASM name; known: {sorted(AASM_NAMES)}")
        mapped.append(AASM_NAMES[str(c).upper()])

    feats: list[int] = []
    thrs: list[float] = []
    lefts: list[int] = []
    rights: list[int] = []
    dtypes: list[int] = []
    leaves: list[float] = []
    roots: list[int] = []

    def add(node: dict, where: str) -> int:
        if "split_index" not in node:
            if "leaf_value" not in node or "leaf_coeff" in node:
                raise UnsupportedModelError(f"{where}: not a constant leaf (linear trees are not supported)")
            leaves.append(float(node["leaf_value"]))
            return ~(len(leaves) - 1)
        if node.get("decision_type") != "<=":
            raise UnsupportedModelError(
                f"{where}: decision_type {node.get('decision_type')!r} is not supported "
                "(categorical splits are refused; only numerical '<=')")
        try:
            code = decision_type_code(bool(node["default_left"]), str(node["missing_type"]))
        except ValueError as exc:
            raise UnsupportedModelError(f"{where}: {exc}") from None
        if code & CATEGORICAL_MASK:  # pragma: no cover - decision_type_code never sets it
            raise UnsupportedModelError(f"{where}: categorical split")
        i = len(feats)
        feats.append(int(node["split_feature"]))
        thrs.append(float(node["threshold"]))
        dtypes.append(code)
        lefts.append(0)
        rights.append(0)
        lefts[i] = add(node["left_child"], where)
        rights[i] = add(node["right_child"], where)
        return i

    tree_info = d["tree_info"]
    if len(tree_info) % n_class:
        raise UnsupportedModelError(f"{len(tree_info)} trees is not a multiple of num_class {n_class}")
    for t, info in enumerate(tree_info):
        if int(info.get("num_cat", 0)):
            raise UnsupportedModelError(f"tree {t}: categorical splits are not supported")
        roots.append(add(info["tree_structure"], f"tree {t}"))

    meta = {**meta, "n_trees": len(tree_info), "lightgbm_dump_version": d.get("version")}
    try:
        return TreeEnsembleModel(
            name=name, version=version, classes=mapped, feature_names=feature_names, meta=meta,
            feature=np.asarray(feats, np.int16), threshold=np.asarray(thrs, np.float64),
            left=np.asarray(lefts, np.int32), right=np.asarray(rights, np.int32),
            decision_type=np.asarray(dtypes, np.uint8), leaf_value=np.asarray(leaves, np.float64),
            tree_root=np.asarray(roots, np.int32),
            tree_class=(np.arange(len(tree_info)) % n_class).astype(np.uint8))
    except ValueError as exc:
        raise UnsupportedModelError(f"conversion produced an inconsistent model: {exc}") from None


def bench_shipped(names: tuple[str, ...] = ("eeg", "eeg+eog+emg")) -> dict[str, dict]:
    """Load time, file size and :func:`dsp.trees.bench_trees` figures of the shipped models."""
    out = {}
    for name in names:
        path = shipped_tree_model_path(name)
        t0 = time.perf_counter()
        model = load_tree_model(path)
        load_ms = (time.perf_counter() - t0) * 1e3
        out[model.tag] = {"bytes": path.stat().st_size, "load_ms": round(load_ms, 1),
                          **bench_trees(model.trees)}
    return out


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(bench_shipped()))
