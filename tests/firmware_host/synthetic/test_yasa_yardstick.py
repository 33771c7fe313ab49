"""An independent stager trained on real PSG (YASA) recognises the synthetic night's stages.

This is the check that the stage signatures are the ones real stagers use, not just ones
our own stager could learn. YASA is an optional yardstick (``pip install .[yasa]``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from firmware_host.config.schema import SyntheticSourceConfig
from firmware_host.synthetic import SyntheticNight
from tests.jit import needs_jit

yasa = pytest.importorskip("yasa", reason="YASA (optional extra [yasa]) is not installed")
sklearn_metrics = pytest.importorskip("sklearn.metrics")

pytestmark = [
    pytest.mark.slow,
    needs_jit("YASA's feature code (antropy) is numba-heavy: too slow without JIT"),
]


def test_yasa_stages_a_synthetic_night_like_a_scorer_would() -> None:
    import mne

    night = SyntheticNight(SyntheticSourceConfig(seed=2, sfreq=100.0, artefacts=False,
                                                 gestures=False), 1.5 * 3600.0)
    x = night.generate(0, night.n_samples)[:5] * 1e-6  # YASA wants volts
    info = mne.create_info(list(night.channel_names[:5]), night.sfreq,
                           ["eeg", "eeg", "eog", "eog", "emg"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = mne.io.RawArray(x, info, verbose="error")
        hyp = yasa.SleepStaging(raw, eeg_name="C4-M1", eog_name="E1-M2",
                                emg_name="Chin").predict()
    rename = {"WAKE": "W", "R": "REM"}
    pred = [rename.get(str(s), str(s)) for s in getattr(hyp, "hypno", hyp)]
    truth = list(night.hypnogram[:len(pred)])
    accuracy = float(np.mean([p == t for p, t in zip(pred, truth, strict=True)]))
    kappa = sklearn_metrics.cohen_kappa_score(truth, pred)
    assert accuracy > 0.8 and kappa > 0.7, (accuracy, kappa)


def test_yasa_finds_the_inserted_spindles() -> None:
    fs = 100.0
    night = SyntheticNight(SyntheticSourceConfig(seed=4, sfreq=fs, artefacts=False,
                                                 gestures=False), 900.0, hypnogram=["N2"] * 30)
    x = night.generate(0, night.n_samples)[0]
    truth = [(t.start_sample, t.stop_sample) for t in night.transients if t.kind == "spindle"]
    found = yasa.spindles_detect(x, fs, verbose="error")
    assert found is not None
    detected = [(int(r.Start * fs), int(r.End * fs)) for r in found.summary().itertuples()]

    def overlaps(a: tuple[int, int], others: list[tuple[int, int]]) -> bool:
        return any(min(a[1], b[1]) > max(a[0], b[0]) for b in others)

    recall = np.mean([overlaps(t, detected) for t in truth])
    precision = np.mean([overlaps(d, truth) for d in detected])
    assert 3 <= len(truth) / 15 <= 8  # spindles per minute of N2
    assert recall > 0.6 and precision > 0.85, (recall, precision)
