"""EMG model files: round trip, version check, corrupt files; calibration bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from firmware_host.config import parse_config
from firmware_host.emg import model as model_mod
from firmware_host.emg.calibrate import prompt_schedule, train_from_recording
from firmware_host.emg.model import EmgModel, ModelFileError, load_model, save_model
from firmware_host.emg.train import CalibrationError


def _model(n_ch: int = 2) -> EmgModel:
    from dsp.emg_features import feature_index

    rng = np.random.default_rng(0)
    n_in = len(feature_index(n_ch, ("LOGMAV", "ZC", "LOGCOV")))
    return EmgModel(
        classes=("rest", "power", "open"),
        channel_names=tuple(f"FA{i}" for i in range(n_ch)),
        sfreq=250.0, window=38, increment=6, highpass_hz=20.0,
        feature_names=("LOGMAV", "ZC", "LOGCOV"), thresholds=(0.0, 0.0, 10.0),
        mean=rng.normal(size=n_in), scale=rng.uniform(0.5, 2, n_in),
        layers=[(rng.normal(size=(n_in, 3)), rng.normal(size=3), "linear")],
        rest_level=2.0, mvc_level=30.0, name="test", meta={"created": "X", "cv_accuracy": 0.9},
    )  # fmt: skip


def test_round_trip_gives_identical_predictions(tmp_path):
    m = _model()
    path = save_model(m, tmp_path / "m.npz")
    back = load_model(path)
    feats = np.random.default_rng(1).normal(size=(5, 2 * 19 + 3))
    np.testing.assert_array_equal(back.predict_proba(feats), m.predict_proba(feats))
    np.testing.assert_array_equal(back.force(feats), m.force(feats))
    assert back.tag == m.tag and m.tag.startswith("test@v1-") and len(m.version) == len("v1-") + 12
    assert back.classes == m.classes and back.meta == m.meta


def test_version_names_what_the_model_computes_not_when_it_was_made():
    a, b = _model(), _model()
    b.meta["created"] = "another day"
    assert a.version == b.version  # same weights: the same version, whenever trained
    c = _model()
    c.layers[0][0][0, 0] += 1e-9
    assert c.version != a.version


def test_version_mismatch_is_a_clear_error(tmp_path, monkeypatch):
    path = save_model(_model(), tmp_path / "m.npz")
    monkeypatch.setattr(model_mod, "MODEL_FORMAT_VERSION", 2)
    with pytest.raises(ModelFileError, match="format version 1.*reads version 2.*calibrate-emg"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04garbage"])
def test_corrupt_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="corrupt or not a model file"):
        load_model(path)


def test_truncated_and_foreign_files(tmp_path):
    good = save_model(_model(), tmp_path / "m.npz").read_bytes()
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelFileError):
        load_model(trunc)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, header=np.array(json.dumps({"magic": "other"})))
    with pytest.raises(ModelFileError, match="not a somnoloop EMG model"):
        load_model(foreign)
    missing_arrays = tmp_path / "missing.npz"
    hdr = {"magic": "somnoloop-emg-model", "format_version": 1, "activations": ["linear"]}
    np.savez(missing_arrays, header=np.array(json.dumps(hdr)))
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model(missing_arrays)
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "nope.npz")


def _prompted(n_ch=3, sfreq=250.0, grips=("rest", "power", "open"), reps=2, active=None):
    """Synthetic prompted recording: each grip is a distinct channel pattern of noise."""
    cfg = parse_config({}).emg
    prompts = prompt_schedule(grips, reps, 2.0, 2.0, sfreq, 1.0)
    n = prompts[-1].stop + int(2 * sfreq)
    rng = np.random.default_rng(5)
    gain = np.ones((n_ch, n))
    patterns = {"power": [20, 2, 2], "open": [2, 20, 2], "pinch": [2, 2, 20]}
    for p in prompts:
        if p.grip != "rest" and (active is None or p.grip in active):
            gain[:, p.start : p.stop] = np.array(patterns[p.grip])[:n_ch, None]
    return rng.normal(size=(n_ch, n)) * gain, prompts, cfg


def test_calibration_trains_on_prompted_data():
    x, prompts, cfg = _prompted()
    m, rep = train_from_recording(x, 250.0, ("a", "b", "c"), prompts, cfg)
    assert m.classes == ("rest", "power", "open")
    assert rep["cv_accuracy"] > 0.95
    assert m.mvc_level > m.rest_level


def test_calibration_missing_class_is_named():
    # 'open' was prompted, but the recording is cut before any open window completes
    x, prompts, cfg = _prompted()
    first_open = next(p for p in prompts if p.grip == "open")
    with pytest.raises(CalibrationError, match=r"no training windows for classes \['open'\]"):
        train_from_recording(x[:, : first_open.start + 10], 250.0, ("a", "b", "c"),
                             [p for p in prompts if p.rep == 0], cfg)


def test_calibration_wrong_channel_count():
    x, prompts, cfg = _prompted()
    with pytest.raises(CalibrationError, match=r"must be \(2, n\)"):
        train_from_recording(x, 250.0, ("a", "b"), prompts, cfg)
