"""Where sessions go, ``somnoloop sessions`` and the honesty of ``somnoloop info``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import platformdirs
import pytest

from firmware_host.chunk import Chunk
from firmware_host.cli import main
from firmware_host.clock import FakeClock
from firmware_host.config import load_config
from firmware_host.config.schema import Config, RecorderConfig
from firmware_host.session import SessionRecorder
from firmware_host.session.paths import default_root, new_session_dir
from firmware_host.session.recorder import SAMPLES


def _session(path: Path, seconds: int = 4, close: bool = True) -> SessionRecorder:
    rec = SessionRecorder(path, FakeClock(), fsync=False)
    rec.start(sfreq=100.0, channel_names=("a",), channel_types=("eeg",), config={},
              extra={"config_name": "t"})
    idx = np.arange(seconds * 100)
    rec.write_chunk(Chunk(idx[None] * 0.5, 0, 100.0, ("a",), ("eeg",), idx / 100.0))
    if close:
        rec.close()
    else:
        rec.flush()
    return rec


def test_default_root_priorities(monkeypatch, tmp_path):
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    cfg = load_config(None)
    assert cfg.recorder.root == ""
    assert default_root(cfg) == Path(platformdirs.user_data_dir("somnoloop", appauthor=False)) / "sessions"
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}/state:/other")
    assert default_root(cfg) == tmp_path / "state" / "sessions"
    explicit = Config(recorder=RecorderConfig(root="~/nights"))
    assert default_root(explicit) == Path("~/nights").expanduser()


def test_new_session_dir_is_fresh_and_safe(tmp_path):
    now = time.mktime((2026, 11, 30, 22, 15, 3, 0, 0, -1))
    first = new_session_dir(tmp_path, "bed side/1", now)
    assert first == tmp_path / "20261130-221503-bed-side-1"
    first.mkdir()
    assert new_session_dir(tmp_path, "bed side/1", now).name == "20261130-221503-bed-side-1-2"


def test_sessions_lists_date_duration_size_complete_report(tmp_path, capsys):
    _session(tmp_path / "n1")
    rec = _session(tmp_path / "n2", seconds=2, close=False)
    (tmp_path / "n1" / "report").mkdir()
    (tmp_path / "n1" / "report" / "index.html").write_text("<html></html>")
    (tmp_path / "not-a-session").mkdir()
    assert main(["sessions", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in out["sessions"]}
    assert set(rows) == {"n1", "n2"}
    assert rows["n1"]["duration_s"] == 4.0 and rows["n1"]["complete"] is True
    assert rows["n1"]["report"].endswith("report") and rows["n1"]["size_bytes"] > 0
    assert rows["n2"]["complete"] is False and rows["n2"]["report"] is None
    assert main(["sessions", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "n1" in text and "n2" in text
    rec.close()


def test_sessions_bad_root_is_exit_2(tmp_path, capsys):
    assert main(["sessions", str(tmp_path / "missing")]) == 2
    assert "not a folder of sessions" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["missing", "empty"])
def test_info_missing_or_empty_data_file_is_an_error(tmp_path, capsys, damage):
    _session(tmp_path / "s")
    samples = tmp_path / "s" / SAMPLES
    if damage == "missing":
        samples.unlink()
    else:
        samples.write_bytes(b"")
    assert main(["info", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and damage in err


def test_info_names_the_loss(tmp_path, capsys):
    _session(tmp_path / "s")
    raw = bytearray((tmp_path / "s" / SAMPLES).read_bytes())
    raw[len(raw) // 2] ^= 0x04
    (tmp_path / "s" / SAMPLES).write_bytes(bytes(raw))
    assert main(["info", str(tmp_path / "s"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["complete"] is False and info["closed"] is True
    assert info["gaps"][0]["cause"] == "corrupt" and info["lost_samples"] == info["gaps"][0]["samples"]
    for key in ("path", "n_samples", "duration_s", "n_gaps", "missing_samples", "events", "torn_tail"):
        assert key in info  # the keys of format 1 are kept
    assert main(["info", str(tmp_path / "s")]) == 0
    text = capsys.readouterr().out
    assert "lost in damaged bytes" in text and "no: " in text
