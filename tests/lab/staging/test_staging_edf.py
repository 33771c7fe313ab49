"""EDF tooling on synthetic nights written to EDF+: loader units, hypnograms, ``somnoloop stage``,
and ``tools/train_stager.py`` on whole-night EDF pairs (Sleep-EDF style PSG + Hypnogram)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from firmware_host.config.schema import SyntheticSourceConfig
from firmware_host.staging.model import load_model
from firmware_host.synthetic.night import SyntheticNight
from somnoloop_lab.staging.datasets import load_edf_recording

mne = pytest.importorskip("mne")
pytest.importorskip("edfio", reason="mne.export needs edfio to write EDF")


REPO = Path(__file__).resolve().parents[3]
HYP = ["W"] * 4 + ["N1"] * 3 + ["N2"] * 8 + ["N3"] * 6 + ["REM"] * 5 + ["N2"] * 4
CH = ["EEG C4-M1", "EOG E1-M2", "EMG Chin"]
AASM_TO_SLEEPEDF = {"W": "W", "N1": "1", "N2": "2", "N3": "3", "REM": "R"}


def _write_night(folder: Path, seed: int) -> tuple[Path, Path, np.ndarray]:
    cfg = SyntheticSourceConfig(seed=seed, sfreq=100.0, artefacts=False, gestures=False)
    night = SyntheticNight(cfg, len(HYP) * 30.0, hypnogram=HYP)
    rows = [night.channel_names.index(n) for n in ("C4-M1", "E1-M2", "Chin")]
    x = night.generate(0, night.n_samples)[rows]
    info = mne.create_info(CH, 100.0, ["eeg", "eog", "emg"], verbose=False)
    raw = mne.io.RawArray(x * 1e-6, info, verbose=False)
    psg = folder / f"SC4{seed:02d}1E0-PSG.edf"
    mne.export.export_raw(psg, raw, fmt="edf", overwrite=True, verbose=False)
    ann = mne.Annotations(onset=[30.0 * i for i in range(len(HYP))], duration=[30.0] * len(HYP),
                          description=[f"Sleep stage {AASM_TO_SLEEPEDF[s]}" for s in HYP])
    hraw = mne.io.RawArray(np.zeros((1, x.shape[1])), mne.create_info(["dummy"], 100.0,
                                                                      verbose=False),
                           verbose=False)
    hraw.set_annotations(ann)
    hyp = folder / f"SC4{seed:02d}1EC-Hypnogram.edf"
    mne.export.export_raw(hyp, hraw, fmt="edf", overwrite=True, verbose=False)
    return psg, hyp, x


@pytest.fixture(scope="module")
def nights(tmp_path_factory):  # noqa: ANN001, ANN201
    folder = tmp_path_factory.mktemp("edf")
    return folder, [_write_night(folder, s) for s in (21, 22)]


def test_loader_units_and_hypnogram(nights) -> None:  # noqa: ANN001
    _, [(psg, hyp, x), _] = nights
    rec = load_edf_recording(psg, hyp, eeg=CH[0], eog=CH[1], emg=CH[2])
    assert rec.channel_types == ("eeg", "eog", "emg")
    assert rec.sfreq == 100.0
    assert rec.stages == HYP
    # µV back out, up to EDF's 16-bit quantisation
    span = np.ptp(x, axis=1, keepdims=True)
    assert np.max(np.abs(rec.data - x[:, : rec.data.shape[1]]) / span) < 1e-3
    with pytest.raises(ValueError, match="available"):
        load_edf_recording(psg, hyp, eeg="Fpz-Cz")


def test_stage_command_on_edf(nights, capsys) -> None:  # noqa: ANN001
    from somnoloop_lab.cli import cmd_stage

    _, [(psg, hyp, _), _] = nights
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    cmd_stage.register(sub)
    args = p.parse_args(["stage", str(psg), "--channel", CH[0], "--hypnogram", str(hyp), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_epochs"] == len(HYP)
    assert out["model"] == load_model().tag
    assert len(out["stages"]) == len(HYP)
    for key in ("accuracy", "kappa", "macro_f1", "confusion"):
        assert key in out["agreement"]
    # the shipped EEG-only DREAMS model has never seen REM (see staging README); it must
    # still separate wake/light from deep sleep on this night
    assert out["agreement"]["kappa"] > 0.2


def test_train_tool_on_edf_pairs(nights, tmp_path) -> None:  # noqa: ANN001
    _, pairs = nights
    out = tmp_path / "model.json"
    cmd = [sys.executable, str(REPO / "tools" / "train_stager.py"), "--channel", CH[0],
           "--loo", "--out", str(out)]
    for psg, hyp, _ in pairs:
        cmd += ["--psg", str(psg), "--hypnogram", str(hyp)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    loo = json.loads(res.stdout.splitlines()[0])
    assert loo["n_epochs"] == 2 * len(HYP)
    model = load_model(out)
    assert model.meta["trained_on"] == [p.stem for p, _, _ in pairs]
    assert model.meta["train_counts"]["REM"] == 2 * 5


def test_eval_tool_on_sleep_edf_layout(nights) -> None:  # noqa: ANN001
    from somnoloop_lab.staging.datasets import find_sleep_edf_pairs

    folder, pairs = nights
    found = find_sleep_edf_pairs(folder)
    assert [(a.name, b.name) for a, b in found] == [(p.name, h.name) for p, h, _ in pairs]
    cmd = [sys.executable, str(REPO / "tools" / "eval_stager.py"), "--sleep-edf", str(folder),
           "--channel", CH[0], "--loso"]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["mode"] == "leave-one-out"
    assert out["n_epochs"] == 2 * len(HYP)
    assert len(out["confusion"]) == 5
    assert set(out["per_excerpt"]) == {"SC421", "SC422"}
