"""Hostile model files: a valid model or the loader's own error naming the file, nothing else.

The stager's JSON model, the YASA tree-ensemble ``.npz`` and the per-user EMG ``.npz``:
arbitrary bytes, truncated and bit-flipped archives, missing and extra arrays, wrong dtypes
and shapes, NaN/inf weights, pickled objects (never loaded), and junk header fields.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_host.emg.model import EmgModel, ModelFileError, save_model
from firmware_host.emg.model import load_model as load_emg_model
from firmware_host.staging.model import DEFAULT_MODEL, ModelFormatError, load_model
from firmware_host.staging.tree_model import TreeEnsembleModel, load_tree_model, save_tree_model
from firmware_host.staging.yasa_expert import ExpertSpec
from tests.fuzz.strategies import batch, junk

raw_bytes = st.binary(max_size=300)


# --- the stager's JSON model ----------------------------------------------------------------
STAGER_DOC = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
WEIGHTS = ("mean", "scale", "coef", "intercept", "prior", "transition")


def _poison(doc: dict, key: str, at: int, value: float) -> dict:
    """``doc`` with one number of array ``key`` replaced (NaN, inf, 0, negative...)."""
    flat = np.array(doc[key], dtype=float)
    flat.reshape(-1)[at % flat.size] = value
    return {**doc, key: flat.tolist()}


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.one_of(
    st.dictionaries(st.sampled_from(sorted(STAGER_DOC)), junk, min_size=1).map(
        lambda d: json.dumps({**STAGER_DOC, **d})),
    st.tuples(st.sampled_from(WEIGHTS), st.integers(0, 500),
              st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1.0, 1e308])).map(
        lambda c: json.dumps(_poison(STAGER_DOC, *c))),
    st.sampled_from(sorted(STAGER_DOC)).map(
        lambda k: json.dumps({x: v for x, v in STAGER_DOC.items() if x != k})),
    st.dictionaries(st.sampled_from(["trees", "weight", "prior_epochs", "night_hours", "prior"]),
                    junk, min_size=1).map(
        lambda d: json.dumps({**STAGER_DOC, "expert": {**STAGER_DOC["expert"], **d}})),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.text(max_size=200),
)))
def test_stager_model_files(scratch, cases):
    for case in cases:
        _stager_model_files(scratch, case)


def _stager_model_files(scratch, case) -> None:
    path = scratch / "stager.json"
    path.write_text(case, encoding="utf-8", errors="surrogatepass")
    try:
        model = load_model(path)
    except ModelFormatError as exc:
        assert str(path) in str(exc)
        return
    for name in WEIGHTS:
        assert np.all(np.isfinite(getattr(model, name)))
    assert model.temperature > 0 and model.sfreq > 0 and model.epoch_s > 0
    if model.expert:  # parsed when the stager is built: a ValueError naming the key
        try:
            ExpertSpec.from_json(model.expert)
        except ValueError as exc:
            assert "expert" in str(exc)

# --- .npz archives -------------------------------------------------------------------------
def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _arrays_of(raw: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


#: Arrays no loader should take as they are: every dtype family, empty and odd shapes,
#: NaN/inf, Python objects (saved as a pickle) and text.
BAD_ARRAYS = (
    *(np.full(shape, fill).astype(dtype, casting="unsafe")
      for shape in ((), (0,), (1,), (2,), (4,), (3, 2))
      for dtype in ("<f8", "<f4", "<i2", "<i4", "<u1", "<c16", "?", "<U3", "|S2")
      for fill in (0, 1, -1, 7, math.nan, math.inf)),
    np.array([{"pickled": "object"}], dtype=object), np.array("not json"),
)
#: Header keys of both archive kinds (trees and EMG).
HEADER_KEYS = ("format", "format_version", "magic", "name", "version", "classes",
               "feature_names", "objective", "meta", "channel_names", "sfreq", "window",
               "increment", "highpass_hz", "thresholds", "activations", "rest_level", "mvc_level")
#: ``(kind, argument)``: how one archive is damaged.
npz_edits = st.one_of(
    raw_bytes.map(lambda b: ("bytes", b)),
    st.integers(0, 1 << 20).map(lambda n: ("truncate", n)),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(1, 255)), min_size=1, max_size=4).map(
        lambda f: ("flip", f)),
    st.tuples(st.integers(0, 99), st.booleans(), st.sampled_from(BAD_ARRAYS)).map(
        lambda c: ("array", c)),
    st.integers(0, 99).map(lambda i: ("drop", i)),
    st.dictionaries(st.sampled_from(HEADER_KEYS), junk, min_size=1, max_size=3).map(
        lambda d: ("header", d)),
)


def _damaged(good: bytes, contents: dict[str, np.ndarray], edit) -> bytes:
    """``good`` (holding ``contents``) damaged as ``edit`` says; an index picks an array."""
    kind, arg = edit
    if kind == "bytes":
        return arg
    if kind == "truncate":
        return good[:arg % len(good)]
    if kind == "flip":
        out = bytearray(good)
        for at, bits in arg:
            out[at % len(out)] ^= bits
        return bytes(out)
    arrays = dict(contents)
    names = sorted(arrays)
    if kind == "array":  # replace an array, or add one under a new name
        index, extra, array = arg
        arrays[f"extra{index}" if extra else names[index % len(names)]] = array
    elif kind == "drop":
        arrays.pop(names[arg % len(names)])
    else:
        arrays["header"] = np.array(json.dumps({**json.loads(str(arrays["header"])), **arg}))
    return _npz(arrays)


def _tiny_trees(scratch) -> tuple[bytes, dict[str, np.ndarray]]:
    """A two-class, two-feature ensemble of two stumps."""
    model = TreeEnsembleModel(
        name="tiny", version="1", classes=["W", "N2"], feature_names=["a", "b"], meta={},
        feature=np.array([0, 1], np.int16), threshold=np.array([0.5, -1.0]),
        left=np.array([-1, -3], np.int32), right=np.array([-2, -4], np.int32),
        decision_type=np.array([2, 2], np.uint8), leaf_value=np.array([0.1, -0.1, 0.2, -0.2]),
        tree_root=np.array([0, 1], np.int32), tree_class=np.array([0, 1], np.uint8))
    save_tree_model(model, scratch / "tiny_trees.npz")
    good = (scratch / "tiny_trees.npz").read_bytes()
    return good, _arrays_of(good)


@pytest.fixture(scope="module")
def tiny_trees(scratch) -> tuple[bytes, dict[str, np.ndarray]]:
    return _tiny_trees(scratch)


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(npz_edits))
def test_tree_model_files(scratch, tiny_trees, cases):
    for case in cases:
        _tree_model_files(scratch, tiny_trees, case)


def _tree_model_files(scratch, tiny_trees, edit) -> None:
    path = scratch / "trees.npz"
    path.write_bytes(_damaged(*tiny_trees, edit))
    try:
        model = load_tree_model(path)
    except ModelFormatError as exc:
        assert str(path) in str(exc)
        return
    assert np.all(np.isfinite(model.leaf_value))
    rows = np.array([[0.0, 0.0], [np.nan, 9.0]]).repeat(len(model.feature_names), axis=1)
    probs = model.predict_proba(rows[:, :len(model.feature_names)])
    assert probs.shape == (2, len(model.classes)) and np.allclose(probs.sum(axis=1), 1)

def _tiny_emg(scratch) -> tuple[bytes, dict[str, np.ndarray]]:
    from dsp.emg_features import feature_index

    n_in = len(feature_index(2, ("LOGMAV", "ZC")))
    rng = np.random.default_rng(0)
    model = EmgModel(
        classes=("rest", "power"), channel_names=("FA0", "FA1"), sfreq=250.0, window=38,
        increment=6, highpass_hz=20.0, feature_names=("LOGMAV", "ZC"), thresholds=(0.0, 0.0, 10.0),
        mean=rng.normal(size=n_in), scale=rng.uniform(0.5, 2, n_in),
        layers=[(rng.normal(size=(n_in, 2)), rng.normal(size=2), "linear")], rest_level=2.0,
        mvc_level=30.0, name="tiny")
    good = save_model(model, scratch / "tiny_emg.npz").read_bytes()
    return good, _arrays_of(good)


@pytest.fixture(scope="module")
def tiny_emg(scratch) -> tuple[bytes, dict[str, np.ndarray]]:
    return _tiny_emg(scratch)


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(npz_edits))
def test_emg_model_files(scratch, tiny_emg, cases):
    for case in cases:
        _emg_model_files(scratch, tiny_emg, case)


def _emg_model_files(scratch, tiny_emg, edit) -> None:
    path = scratch / "emg.npz"
    path.write_bytes(_damaged(*tiny_emg, edit))
    try:
        model = load_emg_model(path)
    except ModelFileError as exc:
        assert str(path) in str(exc)
        return
    features = np.zeros((3, max(model._idx.max(), model._mav_idx.max()) + 1))
    probs = model.predict_proba(features)
    assert np.all(np.isfinite(probs)) and np.allclose(probs.sum(axis=1), 1)
