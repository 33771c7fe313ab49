"""FilterStage and QualityStage: per-type filtering, gaps, chunking, decisions, config, real EEG."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from firmware_host.chunk import Chunk
from firmware_host.config import ConfigError, parse_config
from firmware_host.runtime.pipeline import Pipeline
from firmware_host.stages.base import Stage
from firmware_host.stages.filtering import FilterConfig, FilterStage
from firmware_host.stages.quality import QualityConfig, QualityStage
from tests.paths import require_data

#: The stage mechanics are checked on one-second windows (the shipped default is 0.5 s).
ONE_S = QualityConfig(window_s=1.0)

FS = 100.0
NAMES = ("C4-M1", "E1-M2", "Chin", "Aux")
TYPES = ("eeg", "eog", "emg", "misc")


def _data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    x = 30 * rng.standard_normal((4, n)) + 40 * np.sin(2 * np.pi * 10 * t)
    return x + np.array([[200.0], [-100.0], [0.0], [5.0]])


def _chunk(x: np.ndarray, first: int, names=NAMES, types=TYPES) -> Chunk:
    n = x.shape[1]
    return Chunk(x, first, FS, names, types, (first + np.arange(n)) / FS)


def _split(x: np.ndarray, sizes: list[int], first: int = 0) -> list[Chunk]:
    chunks, pos = [], 0
    for s in sizes:
        chunks.append(_chunk(x[:, pos : pos + s], first + pos))
        pos += s
    return chunks


# ------------------------------------------------------------------ FilterStage


def test_filter_stage_is_a_stage_and_filters_each_type() -> None:
    stage = FilterStage(FilterConfig(enabled=True))
    assert isinstance(stage, Stage)
    x = _data(400)
    original = x.copy()
    out = stage.update(_chunk(x, 0)).chunk
    np.testing.assert_array_equal(x, original)  # input untouched
    cfg = FilterConfig(enabled=True)
    for row, ctype in enumerate(TYPES[:3]):
        sos = cfg.design(ctype, FS)
        zi = signal.sosfilt_zi(sos)[:, None, :] * x[row, 0]
        ref, _ = signal.sosfilt(sos, x[row : row + 1], axis=-1, zi=zi)
        np.testing.assert_allclose(out.data[row], ref[0], rtol=0, atol=1e-9 * np.abs(x).max())
    np.testing.assert_array_equal(out.data[3], x[3])  # misc untouched
    assert out.first_sample == 0 and out.channel_names == NAMES
    assert abs(out.data[0, 200:].mean()) < 20  # DC removed by the band-pass


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(1, 120), min_size=1, max_size=8))
def test_filter_stage_chunking_invariance(sizes: list[int]) -> None:
    x = _data(sum(sizes), seed=2)
    whole = FilterStage(FilterConfig(enabled=True)).update(_chunk(x, 0)).chunk.data
    stage = FilterStage(FilterConfig(enabled=True))
    parts = [stage.update(c).chunk.data for c in _split(x, sizes)]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, rtol=0, atol=1e-9 * 400)
    assert stage.n_resets == 0


def test_filter_stage_resets_on_gap() -> None:
    x = _data(300)
    stage = FilterStage(FilterConfig(enabled=True))
    stage.update(_chunk(x[:, :100], 0))
    after_gap = stage.update(_chunk(x[:, 200:], 200)).chunk.data  # samples 100..199 lost
    fresh = FilterStage(FilterConfig(enabled=True)).update(_chunk(x[:, 200:], 200)).chunk.data
    np.testing.assert_array_equal(after_gap, fresh)
    assert stage.n_resets == 1


def test_filter_stage_nan_group_becomes_nan_and_recovers() -> None:
    x = _data(200)
    bad = x[:, 50:100].copy()
    bad[1, 10] = np.nan  # EOG channel
    stage = FilterStage(FilterConfig(enabled=True))
    stage.update(_chunk(x[:, :50], 0))
    out = stage.update(_chunk(bad, 50)).chunk.data
    assert np.isnan(out[1]).all()
    assert np.isfinite(out[[0, 2, 3]]).all()
    nxt = stage.update(_chunk(x[:, 100:], 100)).chunk.data
    assert np.isfinite(nxt).all()


def test_filter_stage_interleaved_types_equal_consecutive_types() -> None:
    """Rows of one type that are not adjacent (index path) filter like adjacent ones (slice)."""
    x = _data(300)
    types = ("eeg", "eog", "eeg", "emg")
    inter = FilterStage(FilterConfig(enabled=True)).update(_chunk(x, 0, types=types)).chunk.data
    order = [0, 2, 1, 3]
    grouped = FilterStage(FilterConfig(enabled=True)).update(
        _chunk(x[order], 0, names=tuple(NAMES[i] for i in order),
               types=tuple(types[i] for i in order))
    ).chunk.data
    np.testing.assert_array_equal(inter[order], grouped)
    assert not np.array_equal(inter, x)


def test_impossible_band_names_the_key() -> None:
    stage = FilterStage(FilterConfig(enabled=True, eeg_band_hz=(0.3, 60.0)))
    with pytest.raises(ValueError, match=r"filters.eeg_band_hz = \[0.3, 60\].*fs=100 Hz.*Nyquist"):
        stage.check(FS, TYPES)
    with pytest.raises(ValueError, match="filters.eeg_band_hz"):
        stage.update(_chunk(_data(10), 0))


def test_filter_design_variants() -> None:
    cfg = FilterConfig(enabled=True, eeg_band_hz=(0.0, 30.0), eog_band_hz=(0.0, 0.0), notch_hz=0.0)
    assert cfg.design("eeg", FS).shape == (2, 6)  # low-pass only, order 4
    assert cfg.design("eog", FS) is None
    assert cfg.design("misc", FS) is None
    # 50 Hz is Nyquist at 100 Hz: no notch there; at 250 Hz notch 50 and 100 Hz.
    assert FilterConfig().design("eeg", 100.0).shape == (4, 6)
    assert FilterConfig().design("eeg", 250.0).shape == (6, 6)


def test_filter_stage_disabled_and_empty_pass_through() -> None:
    chunk = _chunk(_data(20), 0)
    assert FilterStage(FilterConfig(enabled=False)).update(chunk).chunk is chunk
    empty = _chunk(np.empty((4, 0)), 0)
    assert FilterStage(FilterConfig(enabled=True)).update(empty).chunk is empty


# ------------------------------------------------------------------ QualityStage


def _quality_decisions(stage: QualityStage, chunks: list[Chunk]) -> list:
    return [d for c in chunks for d in stage.update(c).decisions]


def test_quality_stage_one_decision_per_second_with_flags() -> None:
    x = _data(350)
    x[2] = 3.0  # flat chin EMG
    stage = QualityStage(ONE_S)
    assert isinstance(stage, Stage)
    out = stage.update(_chunk(x, 1000))
    assert out.chunk.data is x
    ds = out.decisions
    assert [d.sample for d in ds] == [1099, 1199, 1299]
    assert all(d.kind == "quality" and d.model for d in ds)
    d = ds[0]
    assert d.label == "bad" and d.details["bad_channels"] == ["Chin"]
    assert d.details["start"] == 1000 and d.details["window"] == 100
    assert set(d.details["channels"]) == {"C4-M1", "E1-M2", "Chin"}  # misc not checked
    assert d.details["channels"]["Chin"]["flat"] is True
    assert d.details["channels"]["C4-M1"] == {
        **d.details["channels"]["C4-M1"],
        "flat": False,
        "clipped": False,
        "artefact": False,
    }


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(1, 150), min_size=1, max_size=6))
def test_quality_stage_chunking_invariance(sizes: list[int]) -> None:
    x = _data(sum(sizes), seed=4)
    whole = QualityStage(ONE_S).update(_chunk(x, 0)).decisions
    parts = _quality_decisions(QualityStage(ONE_S), _split(x, sizes))
    assert [d.sample for d in parts] == [d.sample for d in whole]
    for a, b in zip(parts, whole, strict=True):
        assert a.label == b.label and a.details["bad_channels"] == b.details["bad_channels"]
        for name, info in a.details["channels"].items():
            assert info["std_uv"] == pytest.approx(b.details["channels"][name]["std_uv"], rel=1e-12)


def test_quality_stage_gap_restarts_the_second() -> None:
    x = _data(400)
    stage = QualityStage(ONE_S)
    first = stage.update(_chunk(x[:, :150], 0)).decisions
    assert [d.sample for d in first] == [99]
    after = stage.update(_chunk(x[:, 170:], 170)).decisions  # 150..169 lost, 50 pending dropped
    assert [d.details["start"] for d in after] == [170, 270]


def test_quality_stage_non_finite_chunk() -> None:
    x = _data(250)
    x[0, 120] = np.inf
    stage = QualityStage(ONE_S)
    ds = stage.update(_chunk(x[:, :100], 0)).decisions
    ds += stage.update(_chunk(x[:, 100:150], 100)).decisions
    ds += stage.update(_chunk(x[:, 150:], 150)).decisions
    assert [d.label for d in ds] == ["ok", "bad", "ok"]
    assert ds[1].details["non_finite"] and ds[1].details["bad_channels"] == ["C4-M1"]
    assert ds[1].sample == 149
    assert ds[2].details["start"] == 150  # counting restarts after the bad chunk


def test_quality_config_thresholds_per_type() -> None:
    thr = ONE_S.thresholds(("eeg", "emg", "forearm_emg", "eog"))
    assert thr.ptp_max_uv == (500.0, 5000.0, 5000.0, 500.0)
    stage = QualityStage(QualityConfig(window_s=1.0, channel_types=("misc",)))
    assert len(stage.update(_chunk(_data(100), 0)).decisions) == 1
    assert QualityStage(QualityConfig(enabled=False)).update(_chunk(_data(100), 0)).decisions == []


def test_pipeline_quality_then_filters() -> None:
    x = _data(200)
    pipe = Pipeline([QualityStage(ONE_S), FilterStage(FilterConfig(enabled=True))])
    decisions = pipe.update(_chunk(x, 0))
    assert [d.kind for d in decisions] == ["quality", "quality"]
    pipe.reset()


def test_config_sections_load_and_validate() -> None:
    cfg = parse_config(
        {"filters": {"eeg_band_hz": [0.5, 30], "notch_hz": 60}, "quality": {"window_s": 2}}
    )
    assert cfg.filters.eeg_band_hz == (0.5, 30.0) and cfg.filters.notch_hz == 60.0
    assert cfg.quality.window_s == 2.0
    with pytest.raises(ConfigError, match=r"filters.notch_hz = 55.*allowed"):
        parse_config({"filters": {"notch_hz": 55}})
    with pytest.raises(ConfigError, match="unknown key 'quality.bogus'"):
        parse_config({"quality": {"bogus": 1}})


# ------------------------------------------------------------------ real EEG


def test_real_dreams_eeg_mostly_good_quality_and_filter_matches_scipy() -> None:
    path = require_data("dreams-spindles/excerpt1.txt")
    eeg = np.loadtxt(path, skiprows=1, max_rows=12000)[None, :]  # 2 min at 100 Hz
    chunks = [
        Chunk(eeg[:, i : i + 25], i, FS, ("C3-A1",), ("eeg",), np.arange(i, i + 25) / FS)
        for i in range(0, eeg.shape[1], 25)
    ]
    quality, filters = QualityStage(ONE_S), FilterStage(FilterConfig(enabled=True))
    decisions, filtered = [], []
    for c in chunks:
        decisions += quality.update(c).decisions
        filtered.append(filters.update(c).chunk.data)
    assert len(decisions) == 120
    good = sum(d.label == "ok" for d in decisions)
    assert good >= 100, f"only {good}/120 seconds of real sleep EEG rated ok"
    sos = FilterConfig().design("eeg", FS)
    ref, _ = signal.sosfilt(sos, eeg, axis=-1, zi=signal.sosfilt_zi(sos)[:, None, :] * eeg[0, 0])
    got = np.concatenate(filtered, axis=1)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9 * np.abs(eeg).max())
