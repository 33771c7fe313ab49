"""``somnoloop bench stager``: the stager's live per-epoch cost and a whole night in batch,
with YASA's own staging of the same night timed in the same run."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.staging.batch import stage_night
from firmware_host.staging.config import StagerConfig
from firmware_host.staging.model import load_model
from firmware_host.staging.stager import SleepStager

#: The issue's targets for the stager.
TARGETS = {"stager_epoch_us": "<= 1000", "stager_night_s": "<= 0.7"}
#: Rate (Hz) of the benchmark night (YASA's own staging rate).
NIGHT_SFREQ = 100.0


def benchmark_night(hours: float) -> np.ndarray:
    """The ``(1, n)`` µV EEG night every figure of this suite is measured on (seeded)."""
    rng = np.random.default_rng(0)
    return 20 * rng.standard_normal((1, int(hours * 3600 * NIGHT_SFREQ)))


def bench_stager(hours: float = 8.0, repeats: int = 3) -> dict[str, Any]:
    """Per-epoch live cost and a night in batch, with the shipped real-EEG model.

    Returns
    -------
    dict
        ``stager_epoch_us`` (one 30-s 250-Hz chunk through the live stager → one decision,
        best of ``repeats``×20), ``stager_night_s`` (an ``hours`` 100-Hz EEG night through
        :func:`stage_night`, HMM on, best of ``repeats``), ``stager_night_hours``,
        ``stager_model`` and ``stager_expert``.
    """
    model = load_model(None)
    rng = np.random.default_rng(1)
    sf_live = 250.0
    n_live = int(30 * sf_live)
    stager = SleepStager(StagerConfig(), model, sf_live, {"eeg": 0})

    def chunk(k: int) -> Chunk:
        d = 20 * rng.standard_normal((1, n_live))
        return Chunk(data=d, first_sample=k * n_live, sfreq=sf_live, channel_names=("C4-M1",),
                     channel_types=("eeg",), timestamps=np.arange(n_live) / sf_live)

    chunks = [chunk(k) for k in range(20 * repeats + 2)]
    stager.update(chunks[0])  # warm-up / compile
    stager.update(chunks[1])
    best = np.inf
    for r in range(repeats):
        t0 = time.perf_counter()
        for c in chunks[2 + 20 * r : 2 + 20 * (r + 1)]:
            stager.update(c)
        best = min(best, (time.perf_counter() - t0) / 20)
    night = benchmark_night(hours)
    stage_night(night[:, : int(120 * NIGHT_SFREQ)], NIGHT_SFREQ, model)
    best_night = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        stage_night(night, NIGHT_SFREQ, model, StagerConfig(hmm=True))
        best_night = min(best_night, time.perf_counter() - t0)
    return {"stager_epoch_us": best * 1e6, "stager_night_s": best_night,
            "stager_night_hours": hours, "stager_model": model.tag,
            "stager_expert": "yasa" if model.expert else "none"}


def run_stager_bench(night_hours: float = 8.0, yasa: bool = True, repeats: int = 3) -> dict:
    """The ``stager`` suite of ``somnoloop bench``: :func:`bench_stager` and, when YASA is
    importable, YASA's whole staging (features + trees) of the same night, as a ratio.

    Returns
    -------
    dict
        The :func:`bench_stager` figures, ``stager_night_yasa_s``,
        ``stager_night_yasa_ratio`` (YASA's time / ours), ``machine``, ``targets`` and
        ``missing`` (figures that could not be measured, with the reason).
    """
    from somnoloop_lab.bench_dsp import machine_info

    out: dict[str, Any] = {"machine": machine_info(), **bench_stager(night_hours, repeats),
                           "stager_night_yasa_s": None, "stager_night_yasa_ratio": None}
    missing: dict[str, str] = {}
    if not yasa:
        missing["stager_night_yasa_ratio"] = "skipped (--no-yasa)"
    else:
        try:
            import mne
            import yasa as yasa_mod
        except ImportError as exc:
            missing["stager_night_yasa_ratio"] = f"yasa not importable: {exc}"
        else:
            info = mne.create_info(["EEG"], NIGHT_SFREQ, ["eeg"], verbose=False)
            raw = mne.io.RawArray(benchmark_night(night_hours) * 1e-6, info, verbose=False)
            with warnings.catch_warnings():  # its pickled classifier's sklearn-version notice
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                yasa_mod.SleepStaging(raw, eeg_name="EEG").predict()
            out["stager_night_yasa_s"] = time.perf_counter() - t0
            out["stager_night_yasa_ratio"] = out["stager_night_yasa_s"] / out["stager_night_s"]
    out["targets"] = dict(TARGETS)
    out["missing"] = missing
    return out
