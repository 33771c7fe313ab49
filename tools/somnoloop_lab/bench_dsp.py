"""DSP benchmark: per-block filter cost vs scipy, whole-night and per-epoch sleep features,
EMG window features, resampling and quality, with machine information.

``run_dsp_bench()`` returns a JSON-ready dict; ``somnoloop bench dsp [--json]`` and
``tools/bench_dsp.py`` print it. Timings are medians over ``repeats`` batches (each batch
times many calls and divides), after a warm-up that compiles every kernel. Keys whose module
is missing are ``null`` and explained under ``"missing"``.
"""

from __future__ import annotations

import importlib
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy
from scipy import signal

from dsp import _jit
from dsp.filters import StreamingFilter, chain, design_bandpass, design_notch, sosfilt_zi
from dsp.quality import StreamingQuality
from dsp.resample import StreamingResampler

#: Targets from issue 3 (documentation only; the bench never asserts them).
TARGETS = {
    "block_filter_speedup": ">= 15",
    "night_features_s": "<= 0.5",
    "epoch_features_us": "<= 1000",
    "emg_window_us": "<= 100",
}

BLOCK_FS = 250.0
BLOCK_SHAPE = (8, 10)


def _per_call_us(fn: Callable[[], Any], repeats: int, inner: int) -> float:
    """Median over ``repeats`` batches of the mean time of ``inner`` calls, in µs.

    Batches shrink with ``repeats`` (never below 2 calls) so a smoke run stays quick.
    """
    inner = max(2, min(inner, 2 * repeats))
    fn()
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter_ns()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter_ns() - t0) / inner / 1e3)
    return float(statistics.median(times))


def machine_info() -> dict[str, Any]:
    """CPU count, platform and library versions, and whether numba JIT is off."""
    try:
        import numba

        numba_version = numba.__version__
    except ImportError:  # pragma: no cover
        numba_version = None
    return {
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba_version,
        "jit_disabled": bool(_jit.JIT_DISABLED),
    }


def bench_block_filter(repeats: int, inner: int = 200) -> dict[str, float]:
    """One 8 × 10 block through band-pass 0.3–35 Hz (order 4) + 50 Hz notch at 250 Hz."""
    sos = chain(
        design_bandpass(0.3, 35.0, BLOCK_FS, order=4),
        design_notch(50.0, BLOCK_FS, harmonics=False),
    )
    rng = np.random.default_rng(0)
    block = np.ascontiguousarray(50.0 * rng.standard_normal(BLOCK_SHAPE))
    out = np.empty_like(block)
    filt = StreamingFilter(sos, BLOCK_SHAPE[0])
    ours = _per_call_us(lambda: filt.process_into(block, out), repeats, inner)
    ours_alloc = _per_call_us(lambda: filt.process(block), repeats, inner)
    state = {"zi": sosfilt_zi(sos, block[:, 0])}

    def scipy_block() -> None:
        _, state["zi"] = signal.sosfilt(sos, block, axis=-1, zi=state["zi"])

    theirs = _per_call_us(scipy_block, repeats, max(1, inner // 10))

    # Accuracy: 10 s (1 s in smoke runs) of 8 channels in 10-sample blocks vs one scipy call.
    seconds = 10 if repeats >= 10 else 1
    x = 50.0 * rng.standard_normal((BLOCK_SHAPE[0], int(seconds * BLOCK_FS))) + 300.0
    stream = StreamingFilter(sos, BLOCK_SHAPE[0])
    ys = np.concatenate([stream.process(x[:, i : i + 10]) for i in range(0, x.shape[1], 10)], 1)
    ref, _ = signal.sosfilt(sos, x, axis=-1, zi=sosfilt_zi(sos, x[:, 0]))
    err = float(np.abs(ys - ref).max())
    return {
        "block_filter_us": ours,
        "block_filter_alloc_us": ours_alloc,
        "block_filter_scipy_us": theirs,
        "block_filter_speedup": theirs / ours,
        "max_abs_err_vs_scipy": err,
        "max_rel_err_vs_scipy": err / float(np.abs(x).max()),
    }


def _night_signal(hours: float, sfreq: float, seed: int = 0) -> np.ndarray:
    """A seeded 1/f-like EEG stand-in (µV) for timing; content does not matter for speed."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 * sfreq)
    white = rng.standard_normal(n)
    b, a = signal.butter(1, 2.0, fs=sfreq)
    return 30.0 * signal.lfilter(b, a, white) + 10.0 * white


def bench_spectral(repeats: int, night_hours: float, yasa: bool) -> tuple[dict, dict]:
    """Whole-night and per-epoch sleep features (dsp.spectral), and YASA's time for comparison."""
    results: dict[str, Any] = {
        "night_features_s": None,
        "night_features_yasa_ratio": None,
        "epoch_features_us": None,
    }
    missing: dict[str, str] = {}
    try:
        spectral = importlib.import_module("dsp.spectral")
    except ImportError as exc:
        note = f"dsp.spectral not importable: {exc}"
        missing.update({k: note for k in results})
        return results, missing
    sfreq = 100.0
    x = _night_signal(night_hours, sfreq)
    spectral.night_features(x[: int(60 * sfreq)], sfreq, epoch_s=30.0)  # warm-up / compile
    runs = []
    for _ in range(max(1, min(repeats, 3))):
        t0 = time.perf_counter()
        feats = spectral.night_features(x, sfreq, epoch_s=30.0)
        runs.append(time.perf_counter() - t0)
    ours = min(runs)
    results["night_features_s"] = ours
    results["night_features_shape"] = list(feats.shape)
    epoch = np.ascontiguousarray(x[: int(30 * sfreq)])
    results["epoch_features_us"] = _per_call_us(
        lambda: spectral.epoch_features(epoch, sfreq), repeats, 10
    )
    if not yasa:
        missing["night_features_yasa_ratio"] = "skipped (yasa=False / --no-yasa)"
        return results, missing
    try:
        import mne
        import yasa as yasa_mod
    except ImportError as exc:
        missing["night_features_yasa_ratio"] = f"yasa not importable: {exc}"
        return results, missing
    info = mne.create_info(["EEG"], sfreq, ch_types=["eeg"])
    raw = mne.io.RawArray(x[None, :] * 1e-6, info, verbose="error")  # MNE wants volts
    t0 = time.perf_counter()
    yasa_mod.SleepStaging(raw, eeg_name="EEG").get_features()
    yasa_s = time.perf_counter() - t0
    results["night_features_yasa_s"] = yasa_s
    results["night_features_yasa_ratio"] = yasa_s / ours
    return results, missing


def bench_emg(repeats: int) -> tuple[dict, dict]:
    """One 10-channel × 200-sample EMG window through dsp.emg_features.window_features."""
    try:
        emg = importlib.import_module("dsp.emg_features")
    except ImportError as exc:
        return {"emg_window_us": None}, {"emg_window_us": f"dsp.emg_features not importable: {exc}"}
    rng = np.random.default_rng(1)
    window = np.ascontiguousarray(40.0 * rng.standard_normal((10, 200)))
    return {"emg_window_us": _per_call_us(lambda: emg.window_features(window), repeats, 50)}, {}


def bench_streaming_misc(repeats: int) -> dict[str, float]:
    """Resampling 250 → 100 Hz (8 × 25 block) and one second of quality (8 × 250)."""
    rng = np.random.default_rng(2)
    res = StreamingResampler(250.0, 100.0, 8)
    block = 30.0 * rng.standard_normal((8, 25))
    resample_us = _per_call_us(lambda: res.process(block), repeats, 50)
    sq = StreamingQuality(250.0, 8)
    second = 30.0 * rng.standard_normal((8, 250))
    quality_us = _per_call_us(lambda: sq.process(second), repeats, 20)
    return {"resample_us": resample_us, "quality_second_us": quality_us}


def run_dsp_bench(repeats: int = 200, night_hours: float = 8.0, yasa: bool = True) -> dict:
    """Run every DSP benchmark; return a JSON-ready dict (see module docstring for keys).

    Parameters
    ----------
    repeats
        Timed batches per micro-benchmark (the median is reported).
    night_hours
        Length of the synthetic night for ``night_features_s`` (8 h in the issue).
    yasa
        Also time YASA's feature extraction on the same night (slow: tens of seconds).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if night_hours <= 0:
        raise ValueError(f"night_hours must be > 0, got {night_hours}")
    out: dict[str, Any] = {"machine": machine_info(), "repeats": repeats, "night_hours": night_hours}
    missing: dict[str, str] = {}
    out.update(bench_block_filter(repeats))
    spectral_res, spectral_missing = bench_spectral(repeats, night_hours, yasa)
    out.update(spectral_res)
    missing.update(spectral_missing)
    emg_res, emg_missing = bench_emg(repeats)
    out.update(emg_res)
    missing.update(emg_missing)
    out.update(bench_streaming_misc(repeats))
    out["targets"] = dict(TARGETS)
    out["missing"] = missing
    return out
