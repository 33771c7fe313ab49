"""Signal quality: kernel vs numpy reference, each flag on a made-up fault, chunking, bad input.

Tolerance against the reference: 1e-9 relative (std/ptp/fractions), 1e-9 absolute (line ratio).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.quality import QualityThresholds, StreamingQuality, signal_quality
from tests.reference.quality import quality_naive

FS = 100.0


def _faults(n_sec: int = 3, fs: float = FS, seed: int = 0) -> np.ndarray:
    """Rows: clean EEG-like noise, flat, 50 Hz hum, clipped, railed, huge artefact."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(n_sec * fs)) / fs
    clean = 20 * rng.standard_normal(t.size)
    flat = np.full(t.size, 12.0) + 0.01 * rng.standard_normal(t.size)
    hum = 5 * rng.standard_normal(t.size) + 60 * np.sin(2 * np.pi * 50 * t + 0.3)
    clipped = np.clip(150 * np.sin(2 * np.pi * 2 * t) + rng.standard_normal(t.size), -100, 100)
    railed = np.where(t % 1 < 0.5, 187500.0, 20 * rng.standard_normal(t.size))
    big = 20 * rng.standard_normal(t.size) + 2000 * np.exp(-(((t % 1) - 0.5) ** 2) / 0.001)
    return np.vstack([clean, flat, hum, clipped, railed, big])


@pytest.mark.parametrize("fs", [100.0, 250.0, 256.0])
def test_kernel_matches_numpy_reference(fs: float) -> None:
    x = _faults(2, fs)
    thr = QualityThresholds()
    r = signal_quality(x, fs, thr)
    n = int(round(fs))
    ref = quality_naive(x, fs, n, thr.rail_uv * (1 - thr.rail_margin), thr.line_freq_hz)
    scale = float(np.abs(x).max())
    np.testing.assert_allclose(r.std, ref["std"], rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(r.ptp, ref["ptp"], rtol=0, atol=1e-9 * scale)
    np.testing.assert_array_equal(r.rail_fraction, ref["rail"])
    np.testing.assert_array_equal(r.plateau_fraction, ref["plateau"])
    np.testing.assert_allclose(r.line_ratio, ref["line"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(r.start, n * np.arange(2))


def test_each_fault_raises_its_flag_only() -> None:
    r = signal_quality(_faults(), FS)
    flags = np.stack([r.flat, r.clipped, r.line_noise, r.artefact])  # (4, ch, sec)
    expected = np.array(
        [  # flat, clipped, line_noise, artefact per row of _faults
            [0, 0, 0, 0],
            [1, 0, 0, 0],
            [0, 0, 1, 0],
            [0, 1, 0, 0],
            [0, 1, 0, 1],
            [0, 0, 0, 1],
        ],
        dtype=bool,
    ).T
    for sec in range(r.n_windows):
        np.testing.assert_array_equal(flags[:, :, sec], expected, err_msg=f"second {sec}")
    assert r.bad[:, 0].tolist() == [False, True, True, True, True, True]
    info = r.channel_window(2, 0)
    assert info["line_noise"] is True and info["line_ratio"] > 0.9


def test_line_frequency_above_nyquist_is_nan_not_flagged() -> None:
    x = _faults(1, 80.0)
    r = signal_quality(x, 80.0, QualityThresholds(line_freq_hz=60.0))
    assert np.isnan(r.line_ratio).all() and not r.line_noise.any()
    assert r.channel_window(0, 0)["line_ratio"] is None


def test_per_channel_ptp_limits() -> None:
    x = _faults(1)
    limits = (500.0, 500.0, 500.0, 500.0, 500.0, 5000.0)
    r = signal_quality(x, FS, QualityThresholds(ptp_max_uv=limits))
    assert not r.artefact[5, 0] and r.artefact[4, 0]
    with pytest.raises(ValueError, match="one per channel"):
        signal_quality(x, FS, QualityThresholds(ptp_max_uv=(1.0, 2.0)))


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_streaming_chunking_invariance(data: st.DataObject) -> None:
    x = _faults(3)[:, :290]  # 2 whole seconds + 90 pending samples
    whole = signal_quality(x, FS)
    sq = StreamingQuality(FS, x.shape[0])
    results, pos = [], 0
    while pos < x.shape[1]:
        size = data.draw(st.integers(1, x.shape[1] - pos), label="chunk")
        results.append(sq.process(x[:, pos : pos + size]))
        pos += size
    assert sq.pending == 90
    starts = np.concatenate([r.start for r in results])
    np.testing.assert_array_equal(starts, whole.start)
    for name in ("std", "ptp", "rail_fraction", "plateau_fraction", "line_ratio", "flat"):
        got = np.concatenate([getattr(r, name) for r in results], axis=1)
        np.testing.assert_allclose(got, getattr(whole, name), rtol=1e-12, atol=1e-12)


def test_streaming_reset_empty_and_views() -> None:
    x = _faults(2)
    sq = StreamingQuality(FS, 6)
    assert sq.process(x[:, :50]).n_windows == 0
    assert sq.process(np.empty((6, 0))).n_windows == 0 and sq.pending == 50
    sq.reset()
    view = np.asfortranarray(x)
    view.setflags(write=False)
    r = sq.process(view)
    assert r.n_windows == 2 and r.start.tolist() == [0, 100]


def test_bad_input() -> None:
    sq = StreamingQuality(FS, 2)
    with pytest.raises(ValueError, match=r"\(2, n_samples\), got shape \(3, 5\)"):
        sq.process(np.zeros((3, 5)))
    bad = np.zeros((2, 5))
    bad[0, 4] = np.nan
    with pytest.raises(ValueError, match="channel 0, sample 4"):
        sq.process(bad)
    assert sq.pending == 0
    with pytest.raises(ValueError, match="need at least 4"):
        StreamingQuality(FS, 1, window_s=0.01)
    with pytest.raises(ValueError, match="flat_std_uv"):
        QualityThresholds(flat_std_uv=0)
    with pytest.raises(ValueError, match="clip_min_fraction"):
        QualityThresholds(clip_min_fraction=2)


def test_window_channels_equal_channel_window():
    rng = np.random.default_rng(3)
    x = 20 * rng.standard_normal((3, 600))
    x[1, 100:200] = 0.0  # flat second
    x[2, 300:] = 5000.0 * np.sign(rng.standard_normal(300))  # clipped / artefact
    res = signal_quality(x, 200.0)
    for w in range(res.n_windows):
        assert res.window_channels(w) == [res.channel_window(c, w) for c in range(3)]
