"""The neurofeedback stage and the synthetic trainee, chunk by chunk (no loop, no threads)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from firmware_host.chunk import Chunk
from firmware_host.config import load_config, parse_config
from firmware_host.neurofeedback.stage import NeurofeedbackStage, build_neurofeedback_stage
from firmware_host.synthetic.trainee import SyntheticTrainee

BLOCKS = ["baseline 20s", "training 30s", "rest 5s", "training 30s"]


def _cfg(nf: dict | None = None, trainee: dict | None = None):
    return parse_config({
        "source": {"synthetic": {"mode": "neurofeedback", "eeg_channels": ["Cz", "Pz"],
                                 "eog_channels": ["E1", "E2"], "emg_channels": ["Chin"],
                                 "forearm_channels": [], "trainee": trainee or {}}},
        "neurofeedback": {"enabled": True, "channels": ["Pz"], "blocks": BLOCKS,
                          "threshold": {"adapt_every_s": 2.0}, **(nf or {})},
    })


def _chunks(tr: SyntheticTrainee, sizes, stop: int | None = None):
    stop = tr.n_samples if stop is None else stop
    pos, i = 0, 0
    while pos < stop:
        size = max(1, sizes[i % len(sizes)])
        hi = min(stop, pos + size)
        yield Chunk(tr.generate(pos, hi), pos, tr.sfreq, tr.channel_names, tr.channel_types,
                    np.arange(pos, hi) / tr.sfreq)
        pos, i = hi, i + 1


def _run(cfg, tr, sizes, stop=None):
    stage = NeurofeedbackStage(cfg.neurofeedback, tr.sfreq, tr.channel_names, tr.channel_types)
    out = []
    for chunk in _chunks(tr, sizes, stop):
        out += stage.update(chunk).decisions
    return out


@pytest.fixture(scope="module")
def trainee():
    cfg = _cfg()
    return cfg, SyntheticTrainee(cfg.source.synthetic, 90.0)


@settings(max_examples=6, deadline=None)
@given(sizes=st.lists(st.integers(1, 300), min_size=1, max_size=6))
def test_decisions_do_not_depend_on_chunking(trainee, sizes) -> None:
    cfg, tr = trainee
    stop = 40 * 250  # baseline and the start of training
    ref = _run(cfg, tr, [25], stop)
    got = _run(cfg, tr, sizes, stop)
    assert [(d.kind, d.sample, d.label) for d in got] == [(d.kind, d.sample, d.label) for d in ref]
    feats = [d.details["feature"] for d in got if d.kind == "neurofeedback"]
    assert feats == [d.details["feature"] for d in ref if d.kind == "neurofeedback"]


def test_phases_thresholds_and_update_rate(trainee) -> None:
    cfg, tr = trainee
    ds = _run(cfg, tr, [25])
    phases = [d for d in ds if d.kind == "neurofeedback_phase"]
    assert [p.label for p in phases] == ["baseline", "training", "rest", "training", "done"]
    assert [p.details["previous"] for p in phases[:2]] == [None, "baseline"]
    updates = [d for d in ds if d.kind == "neurofeedback"]
    assert len(updates) == pytest.approx(4 * 90, abs=2)  # 4 updates/s
    thresholds = [d for d in ds if d.kind == "neurofeedback_threshold"]
    assert thresholds[0].label == "baseline" and thresholds[0].sample == phases[1].sample
    assert {d.label for d in thresholds[1:]} == {"adapt"}
    base = [d for d in updates if d.details["phase"] == "baseline"]
    assert {d.label for d in base} <= {"no_reward", "gated"} and base[0].details["threshold"] is None
    train = [d for d in updates if d.details["phase"] == "training"]
    assert {"reward", "no_reward", "gated"} <= {d.label for d in train}
    assert all(d.details["feedback"] for d in train)
    assert not any(d.details["feedback"] for d in updates if d.details["phase"] in ("rest", "done"))
    # every update used samples up to its confirmation time, never beyond the chunk
    assert all(d.sample - d.details["feature_sample"] <= round(0.1 * 250) for d in updates)


def _scipy_power(x: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """Causal Butterworth band-pass (steady start) then a 1-s trailing mean of squares."""
    sos = signal.butter(4, band, btype="bandpass", fs=250.0, output="sos")
    y = signal.sosfilt(sos, x, zi=signal.sosfilt_zi(sos) * x[0])[0]
    return np.convolve(y**2, np.ones(250) / 250)[:x.size]


@pytest.mark.parametrize(("protocol", "channels", "combine"), [
    ("alpha_up", ["Pz"], "average"),
    ("theta_beta_down", ["Cz", "Pz"], "average"),
    ("smr_up", ["Cz", "Pz"], "difference"),
])
def test_feature_equals_scipy_band_power(trainee, protocol, channels, combine) -> None:
    cfg, tr = trainee
    nf = parse_config({"neurofeedback": {"enabled": True, "protocol": protocol, "channels": channels,
                                         "combine": combine, "smoothing": 1.0,
                                         "blocks": BLOCKS}}).neurofeedback
    stage = NeurofeedbackStage(nf, tr.sfreq, tr.channel_names, tr.channel_types)
    ds = [d for c in _chunks(tr, [50], 20 * 250) for d in stage.update(c).decisions
          if d.kind == "neurofeedback"]
    data = tr.generate(0, 20 * 250)
    x = data[0] - data[1] if combine == "difference" else data[[tr.channel_names.index(c)
                                                                 for c in channels]].mean(axis=0)
    spec = nf.feature_spec
    band = _scipy_power(x, spec.band)
    ref = _scipy_power(x, spec.reference_band)
    inhibits = [_scipy_power(x, b) for b in spec.inhibit_bands]
    for d in ds[-10:]:
        k = d.details["feature_sample"]
        assert d.details["powers"]["band"] == pytest.approx(band[k], rel=1e-9)
        want = band[k] if spec.kind == "absolute" else band[k] / ref[k]
        assert d.details["raw_feature"] == pytest.approx(want, rel=1e-9)
        for i, power in enumerate(inhibits):
            assert d.details["powers"][f"inhibit{i}"] == pytest.approx(power[k], rel=1e-9)


def test_gap_and_non_finite_restart_the_signal_path(trainee) -> None:
    cfg, tr = trainee
    stage = NeurofeedbackStage(cfg.neurofeedback, tr.sfreq, tr.channel_names, tr.channel_types)
    chunks = list(_chunks(tr, [250], 30 * 250))
    for c in chunks[:10]:
        stage.update(c)
    ds = [d for c in chunks[15:] for d in stage.update(c).decisions if d.kind == "neurofeedback"]
    before = [d for d in ds if d.details["feature_sample"] < 10 * 250]  # decided at the gap
    after = [d for d in ds if d.details["feature_sample"] >= 15 * 250]
    assert before and all(d.sample < 10 * 250 for d in before)
    assert "warmup" in after[0].details["gated_by"] and after[0].details["phase"] == "baseline"
    warm = [d.details["feature_sample"] for d in after if "warmup" not in d.details["gated_by"]]
    assert warm and warm[0] - 15 * 250 >= 250  # a whole power window after the gap
    data = chunks[0].data.copy()
    data[1, 5] = np.nan
    bad = Chunk(data, 30 * 250, tr.sfreq, tr.channel_names, tr.channel_types, chunks[0].timestamps + 30)
    out = stage.update(bad).decisions
    assert out[-1].label == "gated" and out[-1].details["gated_by"] == ["non_finite"]


def test_build_stage_from_config() -> None:
    cfg = _cfg()
    tr = SyntheticTrainee(cfg.source.synthetic, 10.0)
    assert isinstance(build_neurofeedback_stage(cfg, tr), NeurofeedbackStage)
    assert build_neurofeedback_stage(parse_config({}), tr) is None
    with pytest.raises(ValueError, match="'O1' is not an EEG channel"):
        build_neurofeedback_stage(_cfg({"channels": ["O1"]}), tr)


def test_trainee_is_seeded_chunking_invariant_and_knows_its_truth() -> None:
    cfg = _cfg(trainee={"learning": 1.0})
    a = SyntheticTrainee(cfg.source.synthetic, 60.0)
    b = SyntheticTrainee(cfg.source.synthetic, 60.0)
    whole = a.generate(0, a.n_samples)
    parts = np.concatenate([b.generate(lo, min(lo + 977, b.n_samples))
                            for lo in range(0, b.n_samples, 977)], axis=1)
    np.testing.assert_array_equal(whole, parts)
    assert a.channel_types == ("eeg", "eeg", "eog", "eog", "emg")
    kinds = {e.kind for e in a.transients} | {e.kind for e in a.artefacts}
    assert kinds == {"blink", "saccade", "clench"}
    blink = next(e for e in a.transients if e.kind == "blink")
    assert np.abs(whole[2, blink.start_sample:blink.stop_sample]).max() > 150  # on EOG
    clench = a.artefacts[0]
    hf = signal.sosfilt(signal.butter(4, 60, "highpass", fs=250, output="sos"), whole[0])
    inside = hf[clench.start_sample:clench.stop_sample].std()
    assert inside > 5 * hf[:clench.start_sample].std()
    assert a.trained_gain(a.n_samples - 1) / a.trained_gain(0) == pytest.approx(2.0, rel=0.35)


def test_a_flat_line_is_never_rewarded_even_when_training_down(trainee) -> None:
    cfg, tr = trainee
    nf = parse_config({"neurofeedback": {"enabled": True, "protocol": "theta_beta_down", "channels": ["Pz"],
                                         "blocks": ["baseline 20s", "training 30s"]}}).neurofeedback
    stage = NeurofeedbackStage(nf, tr.sfreq, tr.channel_names, tr.channel_types)
    ds = []
    for c in _chunks(tr, [50], 40 * 250):
        if c.first_sample >= 30 * 250:  # the Pz electrode comes off: a constant offset
            data = c.data.copy()
            data[1] = 123.0
            c = Chunk(data, c.first_sample, c.sfreq, c.channel_names, c.channel_types, c.timestamps)
        ds += [d for d in stage.update(c).decisions if d.kind == "neurofeedback"]
    before = [d for d in ds if 22 * 250 <= d.details["feature_sample"] < 30 * 250]
    after = [d for d in ds if d.details["feature_sample"] >= 30 * 250]
    assert any(d.label == "reward" for d in before)
    assert after and all(d.label == "gated" for d in after)
    assert all("flat" in d.details["gated_by"] for d in after if d.details["feature_sample"] >= 33 * 250)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shipped_protocol_on_other_trainees(seed: int) -> None:
    """configs/neurofeedback.toml on other seeds: target held, feature rising, no artefact rewarded."""
    base = load_config(Path(__file__).resolve().parents[3] / "configs" / "neurofeedback.toml")
    tr = SyntheticTrainee(dataclasses.replace(base.source.synthetic, seed=seed), 14 * 60)
    updates = [d for d in _run(base, tr, [62]) if d.kind == "neurofeedback"]
    rates, means = [], []
    for block in sorted({d.details["block"] for d in updates if d.details["phase"] == "training"}):
        clean = [d for d in updates if d.details["block"] == block and not d.details["gated_by"]]
        rates.append(sum(d.label == "reward" for d in clean) / len(clean))
        means.append(float(np.mean([d.details["feature"] for d in clean])))
    assert len(rates) == 3 and all(abs(r - 0.65) <= 0.10 for r in rates), rates
    assert means == sorted(means), means
    events = [*tr.transients, *tr.artefacts]
    rewarded = [d.details["feature_sample"] for d in updates if d.label == "reward"]
    assert not [s for s in rewarded for e in events if e.start_sample <= s < e.stop_sample]


def test_down_training_rewards_below_the_threshold() -> None:
    base = load_config(Path(__file__).resolve().parents[3] / "configs" / "neurofeedback.toml")
    nf = dataclasses.replace(base.neurofeedback, protocol="theta_beta_down", channels=("Cz",))
    cfg = dataclasses.replace(base, neurofeedback=nf)
    tr = SyntheticTrainee(base.source.synthetic, 14 * 60)
    updates = [d for d in _run(cfg, tr, [62]) if d.kind == "neurofeedback"]
    train = [d for d in updates if d.details["phase"] == "training" and not d.details["gated_by"]]
    rate = sum(d.label == "reward" for d in train) / len(train)
    assert abs(rate - 0.65) <= 0.10
    for d in train:
        assert (d.label == "reward") == (d.details["feature"] < d.details["threshold"])
