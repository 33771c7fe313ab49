"""SpindleStage: criteria vs a scipy/naive reference, planted spindles found, chunking
invariance, causality, gaps, bad channel."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_host.chunk import Chunk
from firmware_host.errors import UsageError
from firmware_host.microstructure.spindles import SpindleConfig, SpindleCriteria, SpindleStage
from tests.firmware_host.microstructure.synthetic import background, plant_spindles, stream
from tests.reference.microstructure import spindle_criteria_naive

FS = 100.0
ON = SpindleConfig(enabled=True)


def _night(seed: int = 0, minutes: float = 4.0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    x = background(int(minutes * 60 * FS), FS, seed)
    return x, plant_spindles(x, FS, seed + 100)


def _iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return max(inter, 0.0) / (max(a[1], b[1]) - min(a[0], b[0]))


def test_criteria_match_naive_reference() -> None:
    x, _ = _night(minutes=1.0)
    cfg = replace(ON, baseline_s=10.0)
    got = SpindleCriteria(cfg, FS).process(x)
    ref = spindle_criteria_naive(x, FS, cfg)
    for key in ("sigma", "rel_power", "correlation"):
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-7, atol=1e-9, err_msg=key)
    np.testing.assert_allclose(got["rms_z"], ref["rms_z"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_spindles_are_found(seed: int) -> None:
    x, planted = _night(seed)
    decisions = stream(SpindleStage(ON), x, FS)
    ends = [d for d in decisions if d.label == "end" and d.details["valid"]]
    found = [(d.details["onset_sample"] / FS, (d.details["end_sample"] + 1) / FS) for d in ends]
    hits = [p for p in planted if any(_iou(p, f) >= 0.2 for f in found)]
    true_found = [f for f in found if any(_iou(p, f) >= 0.2 for p in planted)]
    recall, precision = len(hits) / len(planted), len(true_found) / max(len(found), 1)
    assert len(planted) >= 18
    assert recall >= 0.85, (recall, precision)
    assert precision >= 0.85, (recall, precision)
    onsets = {d.details["onset_sample"]: d for d in decisions if d.label == "onset"}
    for d in ends:  # every end follows its onset decision, made within 0.5 s of the onset
        on = onsets[d.details["onset_sample"]]
        assert on.sample < d.sample
        assert on.details["latency_s"] <= 0.5
        assert 10.0 <= d.details["frequency_hz"] <= 17.0
        assert d.details["amplitude_uv"] > 0
        assert d.kind == "spindle"
    for d in decisions:  # journal-ready: plain JSON types only
        assert json.loads(json.dumps(d.to_json()))["details"] == d.details
        assert all(type(v) in (int, float, bool) for v in d.details.values())


@settings(max_examples=10, deadline=None)
@given(sizes=st.lists(st.integers(1, 250), min_size=1, max_size=8))
def test_chunking_invariance(sizes: list[int]) -> None:
    x, _ = _night(3, minutes=1.5)
    cfg = replace(ON, baseline_s=10.0)
    assert stream(SpindleStage(cfg), x, FS, sizes) == stream(SpindleStage(cfg), x, FS)


def test_causality_future_samples_never_change_past_decisions() -> None:
    x, _ = _night(4, minutes=2.0)
    full = stream(SpindleStage(ON), x, FS)
    cut = int(95 * FS)
    part = stream(SpindleStage(ON), x[:cut].copy(), FS)
    assert part == [d for d in full if d.sample < cut]
    assert len(part) >= 4


def test_gap_and_non_finite_restart_the_detector() -> None:
    x, _ = _night(5, minutes=1.0)
    stage = SpindleStage(replace(ON, baseline_s=5.0))

    def chunk(a: int, b: int, first: int, data: np.ndarray | None = None) -> Chunk:
        return Chunk(data=(x[None, a:b] if data is None else data), first_sample=first, sfreq=FS,
                     channel_names=("C3",), channel_types=("eeg",),
                     timestamps=np.arange(b - a) / FS)

    for a in range(0, 3000, 100):
        stage.update(chunk(a, a + 100, a))
    bad = np.full((1, 100), np.nan)
    assert stage.update(chunk(3000, 3100, 3000, bad)).decisions == []
    # after a gap, the stream restarts at the new sample: detections are absolute and after it
    out = []
    for a in range(3100, 6000, 100):
        out += stage.update(chunk(a, a + 100, a + 10_000)).decisions
    assert out
    assert all(d.sample >= 13_100 + 5 * FS for d in out)


def test_bad_channel_is_a_usage_error() -> None:
    x, _ = _night(minutes=0.1)
    with pytest.raises(UsageError, match="'Fz' is not in the source"):
        stream(SpindleStage(replace(ON, channel="Fz")), x, FS)
    chunk = Chunk(data=x[None, :100], first_sample=0, sfreq=FS, channel_names=("chin",),
                  channel_types=("emg",), timestamps=np.arange(100) / FS)
    with pytest.raises(UsageError, match="needs an EEG channel"):
        SpindleStage(ON).update(chunk)
