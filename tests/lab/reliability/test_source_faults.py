"""Signal faults of real sources, outside the synthetic-night catalogue of
``test_fault_catalogue``: a BrainFlow board that is unplugged and plugged back in mid-run,
and corrupted or truncated replay files given to a run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from brainflow.data_filter import DataFilter

from firmware_host.config import parse_config
from firmware_host.errors import UsageError
from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from firmware_host.sources.brainflow_board import (
    RECONNECT_S,
    SILENT_DROP_OUT_S,
    BrainFlowSource,
    board_layout,
    resolve_board,
)
from tests.lab.reliability.checks import (
    StatusAtStop,
    assert_alarm_raised_and_cleared,
    assert_readable,
    assert_recovered,
    assert_safe_in_time,
)

RUN_S, UNPLUG_AT_S, AWAY_S = 22.0, 6.0, 6.0


def _board_file(path: Path, seconds: float) -> Path:
    """A BrainFlow file in the synthetic board's layout: 20 µV noise on every EEG row."""
    lay = board_layout(resolve_board("SYNTHETIC_BOARD"))
    n = int(seconds * lay.sfreq)
    data = np.zeros((lay.n_rows, n))
    data[list(lay.rows)] = np.random.default_rng(0).normal(0, 20, (len(lay.rows), n))
    data[lay.package_row] = np.arange(n) % 256
    data[lay.timestamp_row] = 1.7e9 + np.arange(n) / lay.sfreq
    DataFilter.write_file(data, str(path), "w")
    return path


class Unplug(RunObserver):
    """Pulls the board out at ``at_s`` of data for ``away_s`` (clock s), then plugs it back.

    Out: BrainFlow's session under the source is released (its next ``get_board_data``
    fails) and the file the playback board streams from is moved away, so every attempt to
    open the board again fails, as an unplugged dongle does. In: the file is back.
    """

    name = "unplug"

    def __init__(self, file: Path, at_s: float, away_s: float) -> None:
        self.file, self.at_s, self.away_s = file, at_s, away_s
        self.source: BrainFlowSource | None = None
        self.out_at: float | None = None
        self.in_at: float | None = None

    def wrap(self, source: BrainFlowSource) -> BrainFlowSource:
        self.source = source
        return source

    def on_iteration(self, run, info):
        if self.out_at is None and info.data_s >= self.at_s:
            self.out_at = info.now
            self.file.rename(self.file.with_suffix(".away"))
            self.source._board.release_session()
        elif self.out_at is not None and self.in_at is None and info.now >= self.out_at + self.away_s:
            self.in_at = info.now
            self.file.with_suffix(".away").rename(self.file)


def test_brainflow_board_unplugged_and_replugged(tmp_path):
    path = _board_file(tmp_path / "board.csv", 90.0)
    cfg = parse_config({
        "source": {"kind": "brainflow", "brainflow": {
            "board": "PLAYBACK_FILE_BOARD", "master_board": "SYNTHETIC_BOARD", "file": str(path),
            "config_commands": ["new_timestamps"]}},
        "stager": {"eeg_channel": "C4"}, "recorder": {"fsync": False}})
    unplug, probe = Unplug(path, UNPLUG_AT_S, AWAY_S), StatusAtStop()
    run = Run(cfg, duration=f"{RUN_S:g}s", speed="1", session_dir=tmp_path / "s",
              observers=[unplug, probe], wrap_source=unplug.wrap)
    summary = run.run()

    assert summary.stop_reason == "duration reached"  # no crash, and the night went on
    assert unplug.in_at is not None and unplug.source.n_reconnects == 1
    s = Session(tmp_path / "s")
    detectable = unplug.out_at + cfg.run.stale_after_s  # no data is all the loop can see
    assert_safe_in_time(s, detectable, {"mattress", "hand"}, since=unplug.out_at)
    assert_alarm_raised_and_cleared(s, "signal_stale", after=unplug.out_at)
    assert_recovered(probe.status)
    gaps = [e for e in s.events("gap") if e.payload.get("cause") == "board reconnected"]
    assert len(gaps) == 1 and "get_board_data failed" in gaps[0].payload["error"]
    away = gaps[0].payload["missing"] / s.sfreq  # the index moved on by the time it was away
    assert AWAY_S - 0.5 <= away <= AWAY_S + RECONNECT_S + 1.0, away
    assert_readable(s, round(RUN_S * s.sfreq))  # every sample the board gave is there


class LastData(RunObserver):
    """When the source last gave samples before it dropped out (loop clock); once it has,
    the playback file gets 30 s more (the board is back, streaming for good)."""

    name = "last-data"

    def __init__(self, file: Path) -> None:
        self.file = file
        self.source: BrainFlowSource | None = None
        self.last_data_at = 0.0
        self.extended = False

    def wrap(self, source: BrainFlowSource) -> BrainFlowSource:
        self.source = source
        return source

    def on_iteration(self, run, info):
        if self.source.lost and not self.source.n_reconnects and not self.extended:
            self.extended = bool(_board_file(self.file, 30.0))
        elif info.n_samples and not self.source.n_reconnects:
            self.last_data_at = info.now


def test_a_board_that_falls_silent_is_reopened(tmp_path):
    """A board that loses its link quietly (no error, no data: here the playback board's
    file ends after 6 s) is taken as dropped out after SILENT_DROP_OUT_S and re-opened; the
    actuators were safe meanwhile, and the night goes on once it streams again."""
    path = _board_file(tmp_path / "short.csv", 6.0)
    cfg = parse_config({
        "source": {"kind": "brainflow", "brainflow": {
            "board": "PLAYBACK_FILE_BOARD", "master_board": "SYNTHETIC_BOARD", "file": str(path),
            "config_commands": ["new_timestamps"]}},
        "stager": {"enabled": False}, "recorder": {"fsync": False}})
    probe, heard = StatusAtStop(), LastData(path)
    run = Run(cfg, duration="16s", speed="1", session_dir=tmp_path / "s", observers=[probe, heard],
              wrap_source=heard.wrap)
    summary = run.run()
    assert summary.stop_reason == "duration reached" and heard.source.n_reconnects == 1
    s = Session(tmp_path / "s")
    gap = next(e for e in s.events("gap") if e.payload.get("cause") == "board reconnected")
    assert gap.payload["error"].startswith("no data for")
    silent_from = 6.0 * s.sfreq  # the file's end, in samples
    assert gap.payload["missing"] / s.sfreq >= SILENT_DROP_OUT_S
    detectable = heard.last_data_at + cfg.run.stale_after_s
    assert_safe_in_time(s, detectable, {"mattress", "hand"}, since=heard.last_data_at)
    assert_alarm_raised_and_cleared(s, "signal_stale", after=heard.last_data_at)
    assert_recovered(probe.status)
    assert_readable(s, 16 * 250)
    assert s.n_samples >= silent_from


def _edf(path: Path, seconds: int) -> Path:
    from edfio import Edf, EdfSignal

    t = np.arange(seconds * 100) / 100
    Edf([EdfSignal(30 * np.sin(2 * np.pi * 10 * t), 100.0, label="C3-M2", physical_dimension="uV",
                   physical_range=(-500, 500))]).write(path)
    return path


def _replay_run(tmp_path: Path, file: Path, fmt: str = "auto") -> Run:
    cfg = parse_config({
        "source": {"kind": "replay", "replay": {"path": str(file), "format": fmt}},
        "stager": {"eeg_channel": "C3-M2"}, "emg": {"enabled": False},
        "recorder": {"fsync": False}})
    return Run(cfg, duration="5m", session_dir=tmp_path / "s", actuation="dry")


@pytest.mark.parametrize("damage", ["truncated", "header cut", "bytes flipped in the header"])
def test_a_damaged_edf_is_refused_with_one_line_before_anything_is_recorded(tmp_path, damage):
    whole = _edf(tmp_path / "whole.edf", 120).read_bytes()
    bad = tmp_path / "bad.edf"
    if damage == "truncated":
        bad.write_bytes(whole[: len(whole) // 2])
    elif damage == "header cut":
        bad.write_bytes(whole[:180])
    else:
        bad.write_bytes(whole[:236] + b"#!?x\x00\xff..")
    with pytest.raises(UsageError) as exc:
        _replay_run(tmp_path, bad).run()
    line = str(exc.value)
    assert "\n" not in line and str(bad) in line
    assert ("truncated" in line) if damage == "truncated" else ("not a readable EDF" in line)
    assert not (tmp_path / "s").exists()


def test_a_corrupted_edf_body_replays_what_is_readable(tmp_path):
    """Junk bytes inside the data records are junk samples, not a crash: the run ends at the
    file's end, every sample recorded, and the quality stage calls the junk bad signal."""
    path = _edf(tmp_path / "night.edf", 120)
    raw = bytearray(path.read_bytes())
    header = int(raw[184:192].decode().strip())
    mid = header + (len(raw) - header) // 2
    raw[mid:mid + 2000] = np.random.default_rng(1).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(raw))
    summary = _replay_run(tmp_path, path).run()
    assert summary.stop_reason == "source finished"
    s = Session(tmp_path / "s")
    assert_readable(s, 120 * 100)


@pytest.mark.parametrize("damage", ["text", "empty"])
def test_a_brainflow_file_that_is_not_one_is_refused(tmp_path, damage):
    bad = tmp_path / "bad.csv"
    bad.write_text({"text": "hello\nworld\n", "empty": ""}[damage])
    with pytest.raises(UsageError) as exc:
        _brainflow_replay(tmp_path, bad).run()
    assert "\n" not in str(exc.value) and f"{bad}: not a readable BrainFlow data file" in str(exc.value)
    assert not (tmp_path / "s").exists()


def test_a_brainflow_file_cut_mid_line_replays_its_whole_rows(tmp_path):
    """A BrainFlow file has no header promising a length: a copy cut short replays the rows
    it holds (the torn last one dropped), all of them recorded, and the run ends cleanly."""
    text = _board_file(tmp_path / "good.csv", 20.0).read_text()
    bad = tmp_path / "cut.csv"
    bad.write_text(text[: len(text) // 2 + 7])
    whole_rows = bad.read_text().count("\n")
    summary = _brainflow_replay(tmp_path, bad).run()
    assert summary.stop_reason == "source finished"
    assert_readable(Session(tmp_path / "s"), whole_rows)
    assert Session(tmp_path / "s").n_samples == whole_rows


def _brainflow_replay(tmp_path: Path, file: Path) -> Run:
    cfg = parse_config({
        "source": {"kind": "replay", "replay": {"path": str(file), "format": "brainflow",
                                                "board": "SYNTHETIC_BOARD"}},
        "stager": {"eeg_channel": "C4"}, "emg": {"enabled": False}, "recorder": {"fsync": False}})
    return Run(cfg, duration="5m", session_dir=tmp_path / "s", actuation="dry")
