"""The synthetic night: determinism, chunking invariance, stage signatures, truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import butter, hilbert, sosfiltfilt, welch

from firmware_host.config.schema import SyntheticSourceConfig
from firmware_host.synthetic import GestureEvent, SyntheticNight
from firmware_host.vocabulary import STAGES

FS = 100.0
QUIET = SyntheticSourceConfig(seed=3, sfreq=FS, artefacts=False, gestures=False)


@pytest.fixture(scope="module")
def night() -> SyntheticNight:
    return SyntheticNight(SyntheticSourceConfig(seed=11, sfreq=FS), 150.0)


@pytest.fixture(scope="module")
def whole(night: SyntheticNight) -> np.ndarray:
    return SyntheticNight(SyntheticSourceConfig(seed=11, sfreq=FS), 150.0).generate(
        0, night.n_samples
    )


def test_shape_names_types(night: SyntheticNight, whole: np.ndarray) -> None:
    assert whole.shape == (13, 15000)
    assert whole.dtype == np.float64
    assert night.channel_names[:5] == ("C4-M1", "C3-M2", "E1-M2", "E2-M1", "Chin")
    assert night.channel_types == ("eeg",) * 2 + ("eog",) * 2 + ("emg",) + ("forearm_emg",) * 8
    assert np.all(np.isfinite(whole))


def test_same_seed_same_night_other_seed_other_night(whole: np.ndarray) -> None:
    again = SyntheticNight(SyntheticSourceConfig(seed=11, sfreq=FS), 150.0).generate(0, 15000)
    other = SyntheticNight(SyntheticSourceConfig(seed=12, sfreq=FS), 150.0).generate(0, 15000)
    np.testing.assert_array_equal(again, whole)
    assert not np.allclose(other, whole)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, 15000), max_size=12))
def test_any_chunking_gives_the_same_samples(whole: np.ndarray, cuts: list[int]) -> None:
    fresh = SyntheticNight(SyntheticSourceConfig(seed=11, sfreq=FS), 150.0)
    bounds = sorted({0, 15000, *cuts})
    pieces = [fresh.generate(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole)


@settings(max_examples=15, deadline=None)
@given(ranges=st.lists(st.tuples(st.integers(0, 15000), st.integers(0, 400)), min_size=1,
                       max_size=6))
def test_random_access_matches_sequential(whole: np.ndarray, ranges: list) -> None:
    fresh = SyntheticNight(SyntheticSourceConfig(seed=11, sfreq=FS), 150.0)
    for start, length in ranges:
        stop = min(15000, start + length)
        np.testing.assert_array_equal(fresh.generate(start, stop), whole[:, start:stop])


def test_block_edges_are_seamless() -> None:
    nt = SyntheticNight(QUIET, 300.0, hypnogram=["N2"] * 10)
    x = nt.generate(0, nt.n_samples)[0]
    steps = np.abs(np.diff(x))
    edges = np.arange(1, 10) * int(30 * FS) - 1
    assert steps[edges].max() < 5 * steps.std() + steps.mean()


def test_generate_rejects_out_of_range(night: SyntheticNight) -> None:
    with pytest.raises(ValueError, match="n_samples=15000"):
        night.generate(10, 15001)
    with pytest.raises(ValueError, match="start <= stop"):
        night.generate(20, 10)


def test_unknown_stage_is_refused_with_allowed_list() -> None:
    with pytest.raises(ValueError, match=r"unknown stages \['S4'\].*'N3'"):
        SyntheticNight(QUIET, 60.0, hypnogram=["W", "S4"])


def test_truth_lies_inside_the_night() -> None:
    nt = SyntheticNight(SyntheticSourceConfig(seed=8, sfreq=FS), 10 * 60 + 7.0)
    records = nt.transients + nt.artefacts + nt.gestures
    assert records
    assert all(0 <= r.start_sample < r.stop_sample <= nt.n_samples for r in records)


def test_given_hypnogram_is_padded_with_wake_and_cut() -> None:
    short = SyntheticNight(QUIET, 120.0, hypnogram=["N2"])
    assert short.hypnogram == ("N2", "W", "W", "W")
    long = SyntheticNight(QUIET, 60.0, hypnogram=["N3"] * 10)
    assert long.hypnogram == ("N3", "N3")
    assert long.stage_at(0) == "N3" and long.stage_at(5999) == "N3"
    with pytest.raises(IndexError):
        long.stage_at(6000)


# ---------------------------------------------------------------- stage signatures
@pytest.fixture(scope="module")
def staged() -> tuple[SyntheticNight, np.ndarray]:
    nt = SyntheticNight(QUIET, 3000.0, hypnogram=[s for s in STAGES for _ in range(20)])
    return nt, nt.generate(0, nt.n_samples)


def _per_stage(nt: SyntheticNight, x: np.ndarray, fn) -> dict[str, np.ndarray]:
    e_len = int(nt.epoch_s * nt.sfreq)
    out: dict[str, list] = {s: [] for s in STAGES}
    for e, stage in enumerate(nt.hypnogram):
        # skip the cross-faded edges of each epoch
        out[stage].append(fn(x[:, e * e_len + 300:(e + 1) * e_len - 300]))
    return {s: np.array(v) for s, v in out.items()}


def _band_rms(sig: np.ndarray, lo: float, hi: float) -> float:
    f, p = welch(sig, FS, nperseg=400)
    sel = (f >= lo) & (f < hi)
    return float(np.sqrt(np.sum(p[sel]) * (f[1] - f[0])))


def test_wake_has_most_alpha_and_chin_tone(staged) -> None:
    nt, x = staged
    alpha = _per_stage(nt, x, lambda s: _band_rms(s[0], 8, 12))
    chin = _per_stage(nt, x, lambda s: s[4].std())
    assert np.median(alpha["W"]) > 1.5 * max(np.median(alpha[s]) for s in STAGES[1:])
    assert np.median(chin["W"]) > np.median(chin["N2"]) > 2 * np.median(chin["REM"])


def test_n1_theta_replaces_alpha(staged) -> None:
    nt, x = staged
    ratio = _per_stage(nt, x, lambda s: _band_rms(s[0], 4, 7) / _band_rms(s[0], 8, 12))
    assert np.median(ratio["N1"]) > 1.5 * np.median(ratio["W"])


def test_n2_has_spindles_and_k_complexes(staged) -> None:
    nt, x = staged
    sigma = _per_stage(nt, x, lambda s: _band_rms(s[0], 11, 16))
    assert np.median(sigma["N2"]) > 1.3 * np.median(sigma["N1"])
    n2_minutes = nt.hypnogram.count("N2") * nt.epoch_s / 60
    spindles = [t for t in nt.transients if t.kind == "spindle" and nt.stage_at(t.start_sample) == "N2"]
    assert 3 <= len(spindles) / n2_minutes <= 8
    assert any(t.kind == "k_complex" for t in nt.transients)


def test_n3_meets_the_slow_wave_criterion_and_n2_does_not(staged) -> None:
    nt, x = staged
    sos = butter(4, [0.5, 2.0], "bandpass", fs=FS, output="sos")
    delta = sosfiltfilt(sos, x[0])
    frac = _per_stage(nt, delta[None, :], lambda s: np.mean(2 * np.abs(hilbert(s[0])) >= 75))
    assert frac["N3"].min() >= 0.2
    assert np.median(frac["N2"]) < 0.1


def test_rem_eye_movements_are_opposite_on_e1_e2(staged) -> None:
    nt, x = staged
    eog = _per_stage(nt, x, lambda s: s[2].std())
    corr = _per_stage(nt, x, lambda s: np.corrcoef(s[2], s[3])[0, 1])
    assert np.median(eog["REM"]) > 2 * np.median(eog["N2"])
    assert np.median(corr["REM"]) < -0.3
    kinds = {t.kind for t in nt.transients if nt.stage_at(t.start_sample) == "REM"}
    assert {"rapid_eye_movement", "sawtooth", "twitch"} <= kinds


# ---------------------------------------------------------------- forearm EMG
def test_gestures_follow_the_script_with_grip_specific_patterns() -> None:
    script = [GestureEvent(int(t * FS), int((t + 3) * FS), g, 0.8)
              for t, g in ((5, "power"), (15, "open"), (25, "power"), (35, "pinch"), (45, "key"))]
    nt = SyntheticNight(SyntheticSourceConfig(seed=5, sfreq=FS, artefacts=False), 60.0,
                        hypnogram=["W", "W"], gesture_script=script)
    assert nt.gestures == tuple(script)
    fa = nt.generate(0, nt.n_samples)[nt.channel_types.index("forearm_emg"):]
    rest = fa[:, int(9 * FS):int(14 * FS)].std(axis=1)
    assert np.all((rest > 1.0) & (rest < 8.0))

    def rms(t: float) -> np.ndarray:
        return fa[:, int((t + 0.5) * FS):int((t + 2.5) * FS)].std(axis=1)

    power1, power2, opened = rms(5), rms(25), rms(15)
    assert power1.max() > 5 * rest.max()
    same = np.corrcoef(power1, power2)[0, 1]
    other = np.corrcoef(power1, opened)[0, 1]
    assert same > 0.9 and same > other + 0.2
    assert nt.grip_at(int(6 * FS)) == "power" and nt.grip_at(int(10 * FS)) == "rest"


def test_default_gestures_and_artefacts_are_in_the_truth() -> None:
    nt = SyntheticNight(SyntheticSourceConfig(seed=2, sfreq=FS), 3600.0)
    assert len(nt.gestures) >= 18
    assert all(0 <= g.start_sample < g.stop_sample <= nt.n_samples for g in nt.gestures)
    assert {g.grip for g in nt.gestures} == {"power", "open", "pinch", "tripod", "key", "point"}
    off = SyntheticNight(SyntheticSourceConfig(seed=2, sfreq=FS, gestures=False,
                                               artefacts=False), 3600.0)
    assert off.gestures == () and off.artefacts == ()


def test_artefacts_look_like_their_kind() -> None:
    nt = SyntheticNight(SyntheticSourceConfig(seed=4, sfreq=FS, gestures=False), 8 * 3600.0)
    kinds = {a.kind for a in nt.artefacts}
    assert kinds == {"movement", "electrode_pop", "flat_line"}
    for art in nt.artefacts:
        x = nt.generate(art.start_sample, art.stop_sample)
        rows = [nt.channel_names.index(c) for c in art.channels]
        if art.kind == "flat_line":
            assert np.ptp(x[rows[0]]) == 0.0
        elif art.kind == "electrode_pop":
            assert np.abs(x[rows[0], :3]).max() > 60.0
        else:
            assert np.abs(x[0]).max() > 60.0


def test_block_filtering_equals_a_continuous_reference_filter() -> None:
    """Each block's rhythm equals scipy's lfilter run over the night's continuous noise."""
    from scipy.signal import lfilter

    nt = SyntheticNight(QUIET, 120.0)
    taps, e_len = nt._fir.shape[1], nt._epoch_len
    noise = nt._noise(-(taps - 1), 3 * e_len)  # seeded per block, stitched
    for stream in (0, 2, len(nt._fir) - 1):
        ref = lfilter(nt._fir[stream], 1.0, noise[stream])[taps - 1:]
        got = np.concatenate([nt._render_filtered(b)[stream] for b in range(3)])
        np.testing.assert_allclose(got, ref, atol=1e-9)
