"""dsp.yasa_features vs naive references, vs YASA itself (when installed), batching, bad input.

Tolerances: against the float64 naive references rtol 1e-9 (nzc exact); against YASA's own
feature table, which YASA down-casts to float32, rtol 2.4e-7 (two float32 ulps); against the
antropy/scipy/yasa functions YASA calls, in float64, rtol 1e-9.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from dsp.yasa_features import (
    YASA_KINDS,
    _quantile_pair,
    _simpson,
    welch_median_psd,
    yasa_epoch_features,
    yasa_feature_names,
)
from tests.paths import DATA
from tests.reference import yasa_features as ref

DREAMS1 = DATA / "dreams-spindles" / "excerpt1.txt"

SF = 100.0
RTOL_REF = 1e-9
RTOL_F32 = 2.4e-7  # YASA's table is float32: two ulps
# skew and kurt of symmetric signals are ~1e-16 (rounding noise): compared with this atol
ATOL_MOMENTS = {"skew": 1e-12, "kurt": 1e-12}

EXPECTED_NAMES = {
    "eeg": ("abspow alpha at beta db ds dt fdelta hcomp higuchi hmob iqr kurt nzc perm petrosian "
            "sdelta sigma skew std theta"),
    "eog": ("abspow alpha beta fdelta hcomp higuchi hmob iqr kurt nzc perm petrosian "
            "sdelta sigma skew std theta"),
    "emg": "abspow hcomp higuchi hmob iqr kurt nzc perm petrosian skew std",
}


# ------------------------------------------------------------------------------ signals


def _random(n_ep: int, n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=15.0, size=(n_ep, n))


def _sines(n_ep: int, n: int, sfreq: float = SF) -> np.ndarray:
    # one sine in (nearly) every band, so no band power is pure rounding noise (ratios stay
    # well-conditioned)
    t = np.arange(n) / sfreq
    rows = [40 * np.sin(2 * np.pi * (0.8 + 0.9 * k) * t + k) + 8 * np.sin(2 * np.pi * (11 + k) * t)
            + 5 * np.sin(2 * np.pi * 6.3 * t) + 3 * np.sin(2 * np.pi * 14.1 * t) + np.sin(2 * np.pi * 21 * t)
            for k in range(n_ep)]
    return np.array(rows)


def _realistic(n_ep: int, n: int, sfreq: float = SF, seed: int = 1) -> np.ndarray:
    """Band-passed 1/f-like background with spindle bursts and slow waves, in µV."""
    rng = np.random.default_rng(seed)
    total = n_ep * n
    x = np.cumsum(rng.normal(size=total)) * 3.0 + rng.normal(scale=4.0, size=total)
    t = np.arange(total) / sfreq
    x += 60 * np.sin(2 * np.pi * 0.9 * t) * (np.sin(2 * np.pi * t / 45.0) > 0.3)
    x += 25 * np.sin(2 * np.pi * 13.0 * t) * (np.sin(2 * np.pi * t / 7.0) > 0.8)
    sos = signal.butter(4, [0.4, 30.0], btype="band", fs=sfreq, output="sos")
    return signal.sosfiltfilt(sos, x).reshape(n_ep, n)


# ----------------------------------------------------------------------------- names


@pytest.mark.parametrize("kind", YASA_KINDS)
def test_feature_names_are_yasas_sorted_lists(kind):
    names = yasa_feature_names(kind)
    assert names == tuple(EXPECTED_NAMES[kind].split())
    assert list(names) == sorted(names)


def test_feature_names_match_the_shipped_classifier():
    pytest.importorskip("yasa", reason="yasa not installed: cannot read its classifier's feature names")
    joblib = pytest.importorskip("joblib", reason="joblib not installed")
    import glob

    import yasa

    clf_dir = Path(yasa.__file__).parent / "classifiers"
    files = sorted(glob.glob(str(clf_dir / "clf_eeg+eog+emg_lgb_*.joblib")))
    if not files:
        pytest.skip(f"no eeg+eog+emg classifier in {clf_dir}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = joblib.load(files[-1])
    per_epoch = {n for n in clf.feature_name_ if not n.endswith("_norm") and not n.startswith("time_")}
    ours = {f"{k}_{n}" for k in YASA_KINDS for n in yasa_feature_names(k)}
    assert ours == per_epoch


# ----------------------------------------------------------------- naive references


@pytest.mark.parametrize("kind", YASA_KINDS)
@pytest.mark.parametrize("make", [_random, _sines, _realistic], ids=["random", "sines", "realistic"])
def test_matches_naive_reference_30s_100hz(kind, make):
    x = make(2, 3000)
    names = yasa_feature_names(kind)
    got = yasa_epoch_features(x, SF, kind)
    want = ref.features_table(x, SF, kind, names)
    assert got.shape == (2, len(names)) and got.dtype == np.float64
    for j, name in enumerate(names):
        np.testing.assert_allclose(got[:, j], want[:, j], rtol=RTOL_REF, atol=ATOL_MOMENTS.get(name, 0.0),
                                   err_msg=name)
    np.testing.assert_array_equal(got[:, names.index("nzc")], want[:, names.index("nzc")])


@pytest.mark.parametrize(("sfreq", "n"), [(100.0, 2750), (128.0, 2560), (256.0, 1280)],
                         ids=["even-segment-count", "128Hz", "256Hz-5s"])
def test_matches_naive_reference_other_rates_and_lengths(sfreq, n):
    x = _realistic(2, n, sfreq=sfreq, seed=4)
    names = yasa_feature_names("eeg")
    got = yasa_epoch_features(x, sfreq, "eeg")
    want = ref.features_table(x, sfreq, "eeg", names)
    np.testing.assert_allclose(got, want, rtol=RTOL_REF, atol=0)


def test_welch_equals_scipy_median_welch():
    x = _realistic(3, 3000)
    for n in (3000, 2750):  # odd and even number of segments
        freqs, psd = welch_median_psd(np.ascontiguousarray(x[:, :n]), SF)
        f_ref, p_ref = signal.welch(x[:, :n], SF, window="hamming", nperseg=500, average="median")
        np.testing.assert_array_equal(freqs, f_ref)
        np.testing.assert_allclose(psd, p_ref, rtol=1e-12, atol=0)


def test_ties_and_signed_zeros_follow_antropy():
    # quantised values: many ties in the ordinal patterns; -0.0 counts as negative for nzc
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(scale=2.0, size=(1, 3000)))
    x[0, ::7] = -0.0
    names = yasa_feature_names("eeg")
    got = yasa_epoch_features(x, SF, "eeg")
    want = ref.features_table(x, SF, "eeg", names)
    np.testing.assert_allclose(got, want, rtol=RTOL_REF, atol=0)


def test_flat_epoch_gives_yasas_nan_and_inf_without_raising():
    x = np.full((1, 3000), 5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = dict(zip(yasa_feature_names("eeg"), yasa_epoch_features(x, SF, "eeg")[0], strict=True))
    assert got["std"] == 0.0 and got["iqr"] == 0.0 and got["abspow"] == 0.0
    assert got["nzc"] == 0.0 and got["perm"] == 0.0 and got["petrosian"] == 1.0
    for name in ("skew", "kurt", "hmob", "hcomp", "higuchi", "sdelta", "beta", "dt", "at"):
        assert np.isnan(got[name]), name


# ------------------------------------------------------------------ kernels alone


@pytest.mark.parametrize("n", [2, 3, 4, 5, 16, 21, 71, 149])
def test_simpson_kernel_equals_scipy(n):
    from scipy.integrate import simpson

    y = np.random.default_rng(n).uniform(0.1, 5.0, size=n + 7)
    np.testing.assert_allclose(_simpson(y, 3, 3 + n, 0.2), simpson(y[3:3 + n], dx=0.2), rtol=1e-13)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=2, max_value=200), levels=st.sampled_from([3, 1000, 0]),
       seed=st.integers(0, 2**16))
def test_quantile_selection_equals_np_quantile(n, levels, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) if levels == 0 else rng.integers(0, levels, size=n).astype(float)
    a = x.copy()
    q25, nxt = _quantile_pair(a, 0, 0.25)
    q75, _ = _quantile_pair(a, nxt, 0.75)
    want = np.quantile(x, [0.25, 0.75])
    assert (q25, q75) == (want[0], want[1])
    np.testing.assert_array_equal(np.sort(a), np.sort(x))  # only reordered


# ------------------------------------------------------------- epoch independence


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=5), max_size=4, unique=True),
       kind=st.sampled_from(YASA_KINDS))
def test_batch_equals_epoch_by_epoch(cuts, kind):
    x = _realistic(6, 500, seed=3)
    whole = yasa_epoch_features(x, SF, kind)
    bounds = [0, *sorted(cuts), 6]
    parts = [yasa_epoch_features(x[a:b], SF, kind) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    np.testing.assert_array_equal(np.vstack(parts), whole)


def test_input_not_modified_and_views_accepted():
    x = _realistic(3, 3200)
    keep = x.copy()
    view = x[:, 100:3100]  # non-contiguous rows
    np.testing.assert_array_equal(yasa_epoch_features(view, SF, "eeg"),
                                  yasa_epoch_features(np.ascontiguousarray(view), SF, "eeg"))
    np.testing.assert_array_equal(x, keep)


def test_zero_epochs_give_an_empty_table():
    assert yasa_epoch_features(np.empty((0, 3000)), SF, "eog").shape == (0, len(yasa_feature_names("eog")))


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("epochs", "sfreq", "kind", "match"),
    [
        (np.zeros((2, 3000)), SF, "ecg", "kind must be one of"),
        (np.zeros((2, 3000)), SF, None, "kind must be one of"),
        (np.zeros(3000), SF, "eeg", "2-D"),
        (np.zeros((1, 2, 3000)), SF, "eeg", "2-D"),
        (np.zeros((2, 3000), dtype=complex), SF, "eeg", "real numeric"),
        (np.zeros((2, 499)), SF, "eeg", "at least 5 s = 500 samples"),
        (np.zeros((2, 3000)), 50.0, "eeg", ">= 60"),
        (np.zeros((2, 3000)), -1.0, "eeg", "sfreq"),
        (np.zeros((2, 3000)), "fast", "eeg", "sfreq"),
        (np.where(np.arange(6000).reshape(2, 3000) == 4242, np.nan, 0.0), SF, "eeg",
         "non-finite.*channel 1, sample 1242"),
        (np.where(np.arange(6000).reshape(2, 3000) == 7, np.inf, 0.0), SF, "emg", "non-finite"),
    ],
)
def test_bad_input_raises_naming_the_problem(epochs, sfreq, kind, match):
    with pytest.raises(ValueError, match=match):
        yasa_epoch_features(epochs, sfreq, kind)


def test_unknown_kind_in_names_raises():
    with pytest.raises(ValueError, match=r"\('eeg', 'eog', 'emg'\)"):
        yasa_feature_names("EEG")


# --------------------------------------------------------------------- YASA itself


def _yasa_tables(data_uv: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], object, object]:
    """YASA's own filtered epochs and feature columns per kind (3 channels in µV), yasa, the table."""
    mne = pytest.importorskip("mne", reason="mne not installed")
    yasa = pytest.importorskip("yasa", reason="yasa not installed: comparison with YASA skipped")
    pytest.importorskip("antropy", reason="antropy not installed: comparison with YASA skipped")
    info = mne.create_info(["EEG", "EOG", "EMG"], SF, ["eeg", "eog", "emg"])
    raw = mne.io.RawArray(data_uv * 1e-6, info, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sls = yasa.SleepStaging(raw, eeg_name="EEG", eog_name="EOG", emg_name="EMG")
        table = sls.get_features()
    filt = mne.filter.filter_data(sls.data, SF, l_freq=0.4, h_freq=30, verbose=False)
    epochs = {k: yasa.sliding_window(filt[i], sf=SF, window=30)[1] for i, k in enumerate(YASA_KINDS)}
    cols = {k: table[[f"{k}_{n}" for n in yasa_feature_names(k)]].to_numpy(np.float64) for k in YASA_KINDS}
    return epochs, cols, yasa, table


def _assert_equal_to_yasa(data_uv: np.ndarray) -> None:
    epochs, cols, _, _ = _yasa_tables(data_uv)
    for kind in YASA_KINDS:
        got = yasa_epoch_features(epochs[kind], SF, kind)
        assert got.shape == cols[kind].shape
        for j, name in enumerate(yasa_feature_names(kind)):
            np.testing.assert_allclose(got[:, j], cols[kind][:, j], rtol=RTOL_F32,
                                       atol=ATOL_MOMENTS.get(name, 0.0), err_msg=f"{kind}_{name}")


def test_equals_yasa_feature_table_synthetic():
    rng = np.random.default_rng(11)
    n = int(SF * 60 * 6)
    eeg = _realistic(1, n, seed=5)[0] + rng.normal(scale=2.0, size=n)
    eog = 4 * np.cumsum(rng.normal(size=n)) + 80 * np.sin(2 * np.pi * 0.3 * np.arange(n) / SF)
    emg = rng.normal(scale=10.0, size=n) * (1 + np.sin(2 * np.pi * np.arange(n) / SF / 90.0) ** 2)
    _assert_equal_to_yasa(np.vstack([eeg, eog, emg]))


def test_equals_antropy_and_scipy_in_float64():
    epochs, _, yasa, _ = _yasa_tables(np.vstack([_realistic(1, 6000 * 6, seed=k)[0] for k in range(3)]))
    import antropy as ant

    ep = epochs["eeg"]
    names = yasa_feature_names("eeg")
    got = dict(zip(names, yasa_epoch_features(ep, SF, "eeg").T, strict=True))
    hmob, hcomp = ant.hjorth_params(ep, axis=1)
    freqs, psd = signal.welch(ep, SF, window="hamming", nperseg=500, average="median")
    bands = [(lo, hi, name) for lo, hi, name in ref.BANDS]
    bp = yasa.bandpower_from_psd_ndarray(psd, freqs, bands=bands)
    want = {
        "hmob": hmob, "hcomp": hcomp,
        "nzc": ant.num_zerocross(ep, axis=1),
        "perm": np.apply_along_axis(ant.perm_entropy, 1, ep, normalize=True),
        "higuchi": np.apply_along_axis(ant.higuchi_fd, 1, ep),
        "petrosian": ant.petrosian_fd(ep, axis=1),
        **{name: bp[j] for j, (_, _, name) in enumerate(bands)},
    }
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=RTOL_REF, atol=0, err_msg=name)


def test_equals_yasa_feature_table_in_float64(monkeypatch):
    """YASA's whole ``fit`` with its final float32 down-cast turned into float64 (rtol 1e-9)."""
    import types

    rng = np.random.default_rng(12)
    n = int(SF * 60 * 6)
    data = np.vstack([_realistic(1, n, seed=8)[0], 3 * np.cumsum(rng.normal(size=n)),
                      rng.normal(scale=9, size=n)])
    staging = pytest.importorskip("yasa.staging", reason="yasa not installed: comparison with YASA skipped")

    class _Float64Numpy(types.ModuleType):
        float32 = np.float64

        def __getattr__(self, name):
            return getattr(np, name)

    monkeypatch.setattr(staging, "np", _Float64Numpy("numpy"))
    epochs, cols, _, table = _yasa_tables(data)
    if (table.dtypes == np.float32).any():  # pragma: no cover - yasa changed how it down-casts
        pytest.skip("could not keep YASA's feature table in float64 (yasa's staging code changed)")
    for kind in YASA_KINDS:
        got = yasa_epoch_features(epochs[kind], SF, kind)
        for j, name in enumerate(yasa_feature_names(kind)):
            np.testing.assert_allclose(got[:, j], cols[kind][:, j], rtol=RTOL_REF,
                                       atol=ATOL_MOMENTS.get(name, 0.0), err_msg=f"{kind}_{name}")


@pytest.mark.skipif(not DREAMS1.exists(), reason=f"DREAMS data not found at {DREAMS1} (set SOMNOLOOP_DATA)")
def test_equals_yasa_on_dreams_excerpt1():
    x = np.loadtxt(DREAMS1, skiprows=1)
    assert x.size == 180_000  # 30 min at 100 Hz (README)
    # the same real EEG as all three kinds: every feature of every kind on real data
    _assert_equal_to_yasa(np.vstack([x, x, x]))


@pytest.mark.skipif(not DREAMS1.exists(), reason=f"DREAMS data not found at {DREAMS1} (set SOMNOLOOP_DATA)")
def test_matches_naive_reference_on_dreams_excerpt1():
    # runs without yasa: real EEG, band-passed with scipy, four 30-s epochs from the middle
    x = np.loadtxt(DREAMS1, skiprows=1)
    sos = signal.butter(4, [0.4, 30.0], btype="band", fs=SF, output="sos")
    epochs = signal.sosfiltfilt(sos, x)[60_000:72_000].reshape(4, 3000)
    for kind in YASA_KINDS:
        names = yasa_feature_names(kind)
        got = yasa_epoch_features(epochs, SF, kind)
        want = ref.features_table(epochs, SF, kind, names)
        np.testing.assert_allclose(got, want, rtol=RTOL_REF, atol=0, err_msg=kind)
