"""Careless input to every command, each tried for real in a subprocess: one line on stderr
naming the file or key and what is allowed, exit code 2, no traceback, and nothing already
recorded touched.

The cases are the ones a careless user was seen to give (issue 17): junk or empty session
folders, a file where a folder should be, pictures and text given as recordings, configs,
models or hypnograms, truncated recordings, absurd durations, speeds and chunk lengths,
configs that would run silently without staging.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from edfio import Edf, EdfAnnotation, EdfSignal

from firmware_host import cli
from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock
from firmware_host.session import SessionRecorder
from tests.paths import REPO

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tools")])}


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> Path:
    """A folder of good and bad inputs (relative names below are resolved in it)."""
    d = tmp_path_factory.mktemp("careless")
    rec = SessionRecorder(d / "good", FakeClock(), fsync=False)
    rec.start(sfreq=100.0, channel_names=("C3",), channel_types=("eeg",), config={},
              extra={"config_name": "t"})
    idx = np.arange(400)
    rec.write_chunk(Chunk(np.sin(idx)[None] * 20, 0, 100.0, ("C3",), ("eeg",), idx / 100.0))
    rec.close()
    for name, damage in (("junk-db", "journal"), ("empty-db", "empty journal"), ("list-meta", "meta")):
        shutil.copytree(d / "good", d / name)
        for side in (d / name).glob("events.sqlite-*"):
            side.unlink()
        if damage == "journal":
            (d / name / "events.sqlite").write_bytes(os.urandom(4000))
        elif damage == "empty journal":
            (d / name / "events.sqlite").write_bytes(b"")
        else:
            (d / name / "meta.json").write_text("[]")
    t = np.arange(60 * 100) / 100
    Edf([EdfSignal(40 * np.sin(2 * np.pi * 10 * t), 100.0, label="C3-M2", physical_dimension="uV",
                   physical_range=(-500, 500))],
        annotations=[EdfAnnotation(0.0, 30.0, "Sleep stage W")]).write(d / "good.edf")
    whole = (d / "good.edf").read_bytes()
    (d / "truncated.edf").write_bytes(whole[: len(whole) // 3])
    (d / "header-cut.edf").write_bytes(whole[:200])
    (d / "text.edf").write_text("hello, I am not an EDF file\n")
    (d / "picture.png").write_bytes(PNG)
    (d / "afile").write_text("junk\n")
    for name in ("junk-journal", "empty-dir"):
        (d / name).mkdir()
    (d / "junk-journal" / "events.sqlite").write_bytes(os.urandom(3000))
    (d / "junk-labels.csv").write_text("onset,duration,description\n0,30,BANANA\n30,30,APPLE\n")
    (d / "not-a-hypnogram.txt").write_text("not a hypnogram\n")
    (d / "empty.csv").write_text("")
    (d / "no-eeg.toml").write_text("[source.synthetic]\neeg_channels = []\n")
    (d / "bad-model.toml").write_text(f'[stager]\nmodel_path = "{d / "picture.png"}"\n')
    (d / "missing-model.toml").write_text(f'[stager]\nmodel_path = "{d / "nothing.json"}"\n')
    (d / "replay-truncated.toml").write_text(
        f'[source]\nkind = "replay"\n[source.replay]\npath = "{d / "truncated.edf"}"\n')
    return d


#: (arguments, words the one line must contain). Names resolve in the ``place`` folder.
CASES = [
    (["info", "afile"], ["afile"]),
    (["info", "junk-journal"], ["junk-journal", "not a session"]),
    (["info", "empty-dir"], ["empty-dir", "not a session"]),
    (["info", "afile/sub"], ["afile/sub"]),
    (["info", "junk-db"], ["junk-db/events.sqlite", "cannot be read"]),
    (["info", "empty-db"], ["empty-db/events.sqlite", "cannot be read"]),
    (["info", "list-meta"], ["list-meta/meta.json", "sfreq"]),
    (["export", "junk-db", "--edf", "x.edf"], ["junk-db/events.sqlite"]),
    (["report", "empty-db"], ["empty-db/events.sqlite"]),
    (["replay", "list-meta"], ["list-meta/meta.json"]),
    (["export", "junk-journal", "--edf", "x.edf"], ["junk-journal"]),
    (["export", "good", "--edf", "afile/x.edf"], ["--edf"]),
    (["export", "good", "--edf", "/proc/x.edf"], ["/proc/x.edf", "cannot write"]),
    (["export", "good", "--edf", "y.edf", "--csv", "afile/h.csv"], ["--csv", "allowed"]),
    (["stage", "picture.png", "--channel", "C3-M2"], ["picture.png", "allowed"]),
    (["stage", "text.edf", "--channel", "C3-M2"], ["text.edf", "not a readable EDF"]),
    (["stage", "truncated.edf", "--channel", "C3-M2"], ["truncated.edf", "truncated"]),
    (["stage", "header-cut.edf", "--channel", "C3-M2"], ["header-cut.edf", "allowed"]),
    (["stage", "empty-dir", "--channel", "C3-M2"], ["empty-dir"]),
    (["stage", "good.edf", "--channel", "C3-M2", "--hypnogram", "junk-labels.csv"],
     ["junk-labels.csv", "no sleep-stage annotation", "allowed"]),
    (["stage", "good.edf", "--channel", "C3-M2", "--hypnogram", "not-a-hypnogram.txt"],
     ["not-a-hypnogram.txt", "not a hypnogram"]),
    (["stage", "good.edf", "--channel", "C3-M2", "--hypnogram", "empty.csv"], ["empty.csv"]),
    (["stage", "good.edf", "--channel", "C3-M2", "--hypnogram", "picture.png"], ["picture.png"]),
    (["stage", "good.edf", "--channel", "C3-M2", "--model", "picture.png"],
     ["picture.png", "not a model file"]),
    (["stage", "good.edf", "--channel", "C3-M2", "--chunk-s", "nan"], ["--chunk-s", "allowed"]),
    (["stage", "good.edf", "--channel", "C3-M2", "--chunk-s", "1e30"], ["--chunk-s", "allowed"]),
    (["check-config", "picture.png"], ["picture.png", "TOML"]),
    (["check-config", "no-eeg.toml"], ["no-eeg.toml", "no EEG channel", "enabled = false"]),
    (["run", "--duration", "1e30h", "--session-dir", "new1"], ["1e30h", "allowed"]),
    (["run", "--duration", "-5s", "--session-dir", "new1"], ["--duration", "--help"]),
    (["stage"], ["required", "--help"]),
    (["launch"], ["invalid choice", "--help"]),
    (["run", "--duration", "99999999h", "--session-dir", "new1"], ["31 days"]),
    (["run", "--speed", "1e-9", "--duration", "1s", "--session-dir", "new1"], ["1e-9", "allowed"]),
    (["run", "--speed", "1e30", "--duration", "1s", "--session-dir", "new1"], ["1e30", "allowed"]),
    (["run", "--config", "picture.png", "--session-dir", "new1"], ["picture.png", "TOML"]),
    (["run", "--config", "no-eeg.toml", "--session-dir", "new1"], ["no EEG channel"]),
    (["run", "--config", "bad-model.toml", "--session-dir", "new1"], ["picture.png", "model"]),
    (["run", "--config", "missing-model.toml", "--session-dir", "new1"], ["nothing.json"]),
    (["run", "--config", "replay-truncated.toml", "--session-dir", "new1"],
     ["truncated.edf", "truncated"]),
    (["run", "--overrides", "picture.png", "--duration", "1s", "--session-dir", "new1"],
     ["picture.png", "overrides"]),
    (["run", "--session-dir", "afile", "--duration", "1s"], ["afile", "allowed"]),
    (["run", "--session-dir", "afile/x", "--duration", "1s"], ["afile/x", "allowed"]),
    (["run", "--session-dir", "good", "--duration", "1s"], ["good", "already holds a session"]),
    (["run", "--control-socket", "afile/x.sock", "--duration", "1s", "--session-dir", "new1"],
     ["--control-socket", "afile", "allowed"]),
    (["replay", "junk-journal"], ["junk-journal"]),
    (["replay", "good", "--config", "picture.png"], ["picture.png"]),
    (["status", "--socket", "afile"], ["afile"]),
    (["soak", "--hours", "1", "--speed", "0"], ["--speed", "'0'", "allowed"]),
    (["soak", "--hours", "nan"], ["--hours", "allowed"]),
    (["replay", "good", "--mode", "fast"], ["--mode", "invalid choice"]),
    # checked before the wearer spends minutes on the prompts
    (["calibrate-emg", "--yes", "--speed", "max", "--out", "afile/emg.npz"],
     ["afile/emg.npz", "cannot write", "allowed"]),
    (["calibrate-emg", "--yes", "--speed", "max", "--out", "emg.json"], ["emg.json", ".npz"]),
    (["run", "--control-socket", "s" * 120, "--duration", "1s", "--session-dir", "new1"],
     ["--control-socket", "120 bytes long", "at most 107"]),
    (["status", "--socket", "s" * 120], ["--socket", "120 bytes long", "at most 107"]),
    (["report", "good", "--out", "afile/r"], ["afile/r", "cannot write the report", "allowed"]),
    (["sim", "--heartbeat-timeout", "nan", "mattress"], ["--heartbeat-timeout", "nan"]),
    (["sim", "--delay", "inf", "hand"], ["--delay", "inf", "within"]),
]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("argv", "says"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_careless_input_gets_one_line_and_exit_2(place, argv, says):
    before = _digest(place)
    done = subprocess.run([sys.executable, "-m", "firmware_host", *argv], cwd=place, env=ENV,
                          capture_output=True, text=True, timeout=120)
    err = done.stderr.strip()
    assert done.returncode == 2, (done.returncode, err[-2000:])
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for word in says:
        assert word in err, (word, err)
    after = _digest(place)
    # nothing recorded (or given) was touched; a reader may leave SQLite's empty side files
    assert {k: after[k] for k in before} == before
    assert all(k.endswith(("-wal", "-shm")) for k in set(after) - set(before)), set(after) - set(before)
    assert not (place / "new1").exists()  # and no half-made session left behind


def test_ctrl_c_while_the_commands_import_is_one_line(tmp_path, monkeypatch, capsys):
    """A real SIGINT arriving while the sub-commands import (seconds on a Pi) waits until they
    are in, then ends the start with one line and exit 130; nothing is recorded."""
    real = cli.build_parser

    def interrupted_build():
        os.kill(os.getpid(), signal.SIGINT)  # delivered now, in the middle of the imports
        return real()

    monkeypatch.setattr(cli, "build_parser", interrupted_build)
    rc = cli.main(["run", "--duration", "1m", "--session-dir", str(tmp_path / "s")])
    assert rc == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "somnoloop: interrupted (Ctrl-C) before it started; nothing was recorded"]
    assert not (tmp_path / "s").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
