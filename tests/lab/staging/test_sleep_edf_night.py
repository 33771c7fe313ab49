"""The whole-night tools end to end on synthetic nights written in the Sleep-EDF layout.

Whole-night PSG recordings are not in the shared data, so two synthetic nights in bed are
written as Sleep-EDF files would be: ``SC4ssNE0-PSG.edf`` with ``EEG Fpz-Cz``, ``EEG Pz-Oz``,
``EOG horizontal`` and ``EMG submental`` at 100 Hz, an hour of wake on either side of the
night, and ``SC4ssNEC-Hypnogram.edf`` with one ``Sleep stage W/1/2/3/4/R`` annotation per run
of equal stages (R&K: N3 written as stages 3 and 4), a ``Movement time`` epoch and a trailing
``Sleep stage ?``. ``tools/train_stager.py`` and ``tools/eval_stager.py`` must run on them
with the options a user with the real data needs (``--trim-wake-min 30``, ``--eog``,
``--emg``, ``--loso``) and report the whole-night figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dsp._jit import JIT_DISABLED
from firmware_host.staging.model import load_model
from night_yardstick import in_bed_night
from somnoloop_lab.staging.datasets import (
    Recording,
    find_sleep_edf_pairs,
    load_edf_recording,
    trim_to_sleep,
)

mne = pytest.importorskip("mne")
pytest.importorskip("edfio", reason="mne.export needs edfio to write EDF")

REPO = Path(__file__).resolve().parents[3]

CH = ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"]
RK = {"W": "W", "N1": "1", "N2": "2", "REM": "R"}
HOURS = 4.5  # 1 h of wake, 2.5 h of scripted night, 1 h of wake
PAD_MIN = 60.0


def _runs(labels: list[str]) -> list[tuple[int, int, str]]:
    """``(start, stop, label)`` of every run of equal labels."""
    out, start = [], 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            out.append((start, i, labels[start]))
            start = i
    return out


def _write_sleep_edf(folder: Path, seed: int) -> tuple[Path, Path, Recording]:
    rec = in_bed_night(seed, HOURS, lead_wake_min=PAD_MIN, tail_wake_min=PAD_MIN, sfreq=100.0)
    eeg, eog, emg = rec.data
    x = np.vstack([eeg, 0.7 * eeg, eog, emg])
    raw = mne.io.RawArray(x * 1e-6, mne.create_info(CH, 100.0, ["eeg", "eeg", "eog", "emg"],
                                                     verbose=False), verbose=False)
    psg = folder / f"SC4{seed:02d}1E0-PSG.edf"
    mne.export.export_raw(psg, raw, fmt="edf", overwrite=True, verbose=False)
    labels = list(rec.stages)
    labels[5] = "MT"  # one movement-time epoch in the leading wake
    desc, onset, dur = [], [], []
    for a, b, lab in _runs(labels):
        if lab == "N3":  # R&K: the first half of a slow-wave run as stage 3, the rest as 4
            m = (a + b) // 2
            parts = [(a, m, "Sleep stage 3"), (m, b, "Sleep stage 4")]
        else:
            parts = [(a, b, "Movement time" if lab == "MT" else f"Sleep stage {RK[lab]}")]
        for s, e, d in parts:
            if e > s:
                desc.append(d)
                onset.append(30.0 * s)
                dur.append(30.0 * (e - s))
    desc.append("Sleep stage ?")  # Sleep-EDF hypnograms often end with an unscored stretch
    onset.append(30.0 * len(labels))
    dur.append(600.0)
    hraw = mne.io.RawArray(np.zeros((1, x.shape[1] + 60_000)),
                           mne.create_info(["dummy"], 100.0, verbose=False), verbose=False)
    hraw.set_annotations(mne.Annotations(onset, dur, desc))
    hyp = folder / f"SC4{seed:02d}1EC-Hypnogram.edf"
    mne.export.export_raw(hyp, hraw, fmt="edf", overwrite=True, verbose=False)
    return psg, hyp, rec


@pytest.fixture(scope="module")
def sleep_edf(tmp_path_factory):  # noqa: ANN001, ANN201
    folder = tmp_path_factory.mktemp("sleep-edf")
    return folder, [_write_sleep_edf(folder, s) for s in (31, 32)]


def test_loader_and_trimming_on_the_sleep_edf_layout(sleep_edf) -> None:  # noqa: ANN001
    folder, nights = sleep_edf
    assert [(p.name, h.name) for p, h in find_sleep_edf_pairs(folder)] == [
        (p.name, h.name) for p, h, _ in nights]
    psg, hyp, rec = nights[0]
    got = load_edf_recording(psg, hyp, eeg=CH[0], eog=CH[2], emg=CH[3])
    assert got.channel_types == ("eeg", "eog", "emg") and got.sfreq == 100.0
    want = list(rec.stages)
    want[5] = "?"  # movement time is not a stage
    assert got.stages == want  # stages 3 and 4 both read as N3; the trailing '?' is cut
    trimmed = trim_to_sleep(got, 60)
    first = next(i for i, s in enumerate(want) if s not in ("W", "?"))
    last = max(i for i, s in enumerate(want) if s not in ("W", "?"))
    assert trimmed.stages == want[first - 60 : last + 61]
    assert trimmed.data.shape[1] == len(trimmed.stages) * 3000
    np.testing.assert_array_equal(trimmed.data[:, :3000],
                                  got.data[:, (first - 60) * 3000 : (first - 59) * 3000])
    awake = Recording("w", got.data[:, :6000], 100.0, ("a",), ("eeg",), ["W", "W"])
    assert trim_to_sleep(awake) is awake


@pytest.mark.skipif(JIT_DISABLED, reason="stages two 4.5-h nights several times (minutes "
                    "without numba)")
def test_eval_and_train_tools_run_on_whole_nights(sleep_edf, tmp_path) -> None:  # noqa: ANN001
    folder, nights = sleep_edf
    base = [sys.executable, str(REPO / "tools" / "eval_stager.py"), "--sleep-edf", str(folder),
            "--channel", CH[0], "--trim-wake-min", "30"]
    runs = {}
    for name, extra in (("shipped", ["--eog", CH[2], "--emg", CH[3]]), ("loso", ["--loso"])):
        res = subprocess.run(base + extra, capture_output=True, text=True, cwd=REPO,
                             timeout=600, check=False)
        assert res.returncode == 0, res.stderr
        runs[name] = json.loads(res.stdout)
    n_sleep = [trim_to_sleep(load_edf_recording(p, h, eeg=CH[0])) for p, h, _ in nights]
    for out in runs.values():
        assert out["n_epochs"] == sum(len(r.stages) for r in n_sleep)
        assert out["cold_start_wake_epochs"] == 2 * 60
        assert out["final_wake_epochs"] == 2 * 60
        assert len(out["rem_entry_delays"]) >= 4
    # leave-subject-out holds out by subject, the fixed model reports each night
    assert set(runs["loso"]["per_excerpt"]) == {"SC431", "SC432"}
    assert set(runs["shipped"]["per_excerpt"]) == {p.stem for p, _, _ in nights}
    shipped = runs["shipped"]
    assert shipped["mode"] == "fixed-model" and shipped["model"] == load_model().tag
    # EEG+EOG+EMG on synthetic nights: nothing deep in the first 30 min of wake, REM found
    assert shipped["cold_start_false_deep"] == 0
    assert shipped["kappa"] > 0.6 and shipped["rem_entry_delay_epochs"] < 5
    assert runs["loso"]["mode"] == "leave-one-out"

    model = tmp_path / "night.json"
    cmd = [sys.executable, str(REPO / "tools" / "train_stager.py"), "--channel", CH[0],
           "--trim-wake-min", "30", "--out", str(model)]
    for psg, hyp, _ in nights:
        cmd += ["--psg", str(psg), "--hypnogram", str(hyp)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    m = load_model(model)
    assert m.meta["n_train_epochs"] == sum(len(r.stages) for r in n_sleep)
    assert m.meta["train_counts"]["W"] == sum(r.stages.count("W") for r in n_sleep)
