"""Whole-system tests: the real loop (sources, stages, programme, safety, serial drivers talking to
device simulators over ptys, recorder) on synthetic nights, replayed as fast as possible."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from firmware_host.cli import main
from firmware_host.config import load_config
from firmware_host.session import Session
from firmware_host.synthetic.night import SyntheticNight
from somnoloop_lab.staging.metrics import agreement
from tests.jit import needs_jit


def _stage_labels(session: Session) -> list[tuple[int, str]]:
    return [(e.sample, e.payload["label"]) for e in session.events("decision")
            if e.payload["kind"] == "stage" and not e.payload["details"].get("provisional")]


def _info(capsys, path: Path) -> dict:
    assert main(["info", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
@needs_jit("8 h of data through pure-Python kernels takes ~50 min; the 10-min "
                    "whole-system tests below cover the no-JIT path")
def test_full_synthetic_night_end_to_end(tmp_path, capsys):
    """An 8-hour night through the whole loop: every sample recorded, stages follow the truth,
    the mattress and hand are driven and acknowledge, nothing faults."""
    path = tmp_path / "night"
    assert main(["run", "--duration", "8h", "--speed", "max", "--quiet",
                 "--session-dir", str(path)]) == 0
    out = capsys.readouterr().out
    assert "finished in" in out and str(path) in out
    info = _info(capsys, path)
    assert info["duration_s"] == pytest.approx(8 * 3600)
    assert info["n_samples"] == 8 * 3600 * 250 and info["n_gaps"] == 0
    assert info["complete"] is True
    events = info["events"]
    assert events["command"] > 100 and events["ack"] > 100

    session = Session(path)
    # Nothing in the loop faulted. A device exchange may time out when the simulators' threads
    # are starved of CPU on a loaded machine, but no device may be lost over the night.
    faults = [e.payload for e in session.events("fault")]
    assert [f for f in faults if "where" in f] == []
    assert len(faults) <= 10, faults
    assert not [e for e in session.events("alarm") if e.payload["code"].startswith("device_lost")]
    labels = _stage_labels(session)
    assert len(labels) == 8 * 120
    truth = SyntheticNight(load_config().source.synthetic, 8 * 3600).hypnogram
    pred = [lab for _, lab in labels]
    scored = [(t, p) for t, p in zip(truth, pred, strict=True) if p != "unscorable"]
    stats = agreement([t for t, _ in scored], [p for _, p in scored])
    assert stats["kappa"] >= 0.5, stats
    decisions = session.events("decision")
    assert {d.payload["model"].split("@")[0] for d in decisions if d.payload["kind"] == "stage"}
    grips = Counter(d.payload["label"] for d in decisions if d.payload["kind"] == "grip")
    assert set(grips) - {"rest"}, "scripted gestures were never decoded"
    targets = Counter(e.payload.get("target") for e in session.events("command"))
    assert targets["mattress"] > 0 and targets["hand"] > 0


@needs_jit("2 h of data through the pure-Python YASA feature and tree kernels "
                    "takes many minutes; their kernels are covered one by one")
def test_device_stager_with_yasa_expert_in_the_whole_loop(tmp_path, capsys):
    """The device's own real-EEG model (not the synthetic demo model) inside the real loop on a
    synthetic night it has never seen: YASA's EEG+EOG+EMG trees join it (the night has EOG and
    chin EMG), REM is found, and stages follow the truth."""
    cfg = tmp_path / "device-model.toml"
    cfg.write_text('name = "device-model"\n[stager]\nmodel_path = ""\n', encoding="utf-8")
    path = tmp_path / "night"
    assert main(["run", "--config", str(cfg), "--duration", "2h", "--speed", "max", "--quiet",
                 "--session-dir", str(path)]) == 0
    capsys.readouterr()
    session = Session(path)
    stages = [e.payload for e in session.events("decision") if e.payload["kind"] == "stage"]
    assert len(stages) == 240
    assert {d["model"] for d in stages} == {"somnoloop-logreg@3.1.0"}
    scored = [d for d in stages if d["label"] != "unscorable"]
    assert {d["details"]["expert"] for d in scored} == {"yasa-eeg+eog+emg-lgb@0.5.0"}
    truth = SyntheticNight(load_config(cfg).source.synthetic, 2 * 3600).hypnogram
    pred = [d["label"] for d in stages]
    stats = agreement(truth[: len(pred)], pred)
    assert stats["kappa"] >= 0.6, stats
    rem = [p for t, p in zip(truth, pred, strict=False) if t == "REM"]
    assert rem and rem.count("REM") / len(rem) >= 0.6


def test_replays_are_deterministic(tmp_path):
    """Same config, same seed → the same samples and the same decisions, sample for sample."""
    runs = []
    for k in range(2):
        path = tmp_path / f"run{k}"
        assert main(["run", "--duration", "10m", "--speed", "max", "--quiet",
                     "--session-dir", str(path)]) == 0
        s = Session(path)
        data, idx, _ = s.read()
        decisions = [(e.sample, e.payload["kind"], e.payload["label"],
                      json.dumps(e.payload["probabilities"], sort_keys=True))
                     for e in s.events("decision")]
        runs.append((data, idx, decisions))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]
    assert len(runs[0][2]) > 30


def test_sigterm_stops_cleanly_and_goes_safe(tmp_path):
    """systemd's stop: SIGTERM ends the night with a stop event and actuators in safe state."""
    path = tmp_path / "night"
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_host", "run", "--quiet", "--speed", "1",
         "--duration", "10m", "--session-dir", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            if Session(path).n_samples > 250 * 2:
                break
        except Exception:  # noqa: BLE001 - not started yet
            pass
        if proc.poll() is not None:
            pytest.fail(proc.stderr.read().decode())
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    s = Session(path)
    summary = s.summary()
    assert summary["complete"] is True
    assert s.events("stop")[0].payload["stop_reason"] == "signal SIGTERM"
    assert summary["events"].get("safe_state", 0) >= 1


def test_run_on_a_brainflow_synthetic_board(tmp_path):
    """The BrainFlow path of the same loop, on BrainFlow's own synthetic board (real time)."""
    cfg = tmp_path / "bf.toml"
    cfg.write_text('name = "bf"\n[source]\nkind = "brainflow"\n'
                   '[source.brainflow]\nboard = "SYNTHETIC_BOARD"\n[stager]\neeg_channel = "C4"\n'
                   '[run]\nduration = "4s"\nspeed = "1"\n[recorder]\nfsync = false\n')
    path = tmp_path / "s"
    assert main(["run", "--config", str(cfg), "--quiet", "--session-dir", str(path)]) == 0
    s = Session(path)
    assert s.sfreq == 250
    assert s.n_samples >= 250 * 3
    assert "eeg" in s.channel_types


def test_brainflow_refuses_accelerated_speed(tmp_path, capsys):
    cfg = tmp_path / "bf.toml"
    cfg.write_text('[source]\nkind = "brainflow"\n')
    assert main(["run", "--config", str(cfg), "--speed", "max", "--duration", "1m",
                 "--session-dir", str(tmp_path / "s")]) == 2
    assert "allowed: --speed 1" in capsys.readouterr().err


def test_shipped_replay_config_runs_on_the_real_dreams_file(tmp_path, capsys):
    """configs/replay.toml as shipped: the real DREAMS PSG excerpt through the live path."""
    repo = Path(__file__).resolve().parents[2]
    cfg = load_config(repo / "configs" / "replay.toml")
    edf = repo / cfg.source.replay.path
    if not edf.exists():
        pytest.skip(f"shared data absent: {edf} (see /work/shared/data/dreams-spindles/README.md)")
    cwd = os.getcwd()
    os.chdir(repo)  # the config's data path is relative to the repository root
    try:
        assert main(["run", "--config", "configs/replay.toml", "--quiet",
                     "--session-dir", str(tmp_path / "s")]) == 0
    finally:
        os.chdir(cwd)
    capsys.readouterr()
    info = _info(capsys, tmp_path / "s")
    assert info["duration_s"] == pytest.approx(1800) and info["sfreq"] == 50
    assert sum(info["stages"].values()) == 60
