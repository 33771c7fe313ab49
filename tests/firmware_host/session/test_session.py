"""Session recorder and reader: round trip, torn tails, gaps, events."""

from __future__ import annotations

import os

import numpy as np
import pytest

from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock
from firmware_host.session import Session, SessionError, SessionRecorder
from firmware_host.session.recorder import SAMPLES

NAMES = ("a", "b", "c")


def _chunk(first: int, n: int, sfreq: float = 50.0) -> Chunk:
    idx = np.arange(first, first + n)
    data = np.vstack([idx * 0.5 + c for c in range(3)])
    return Chunk(data, first, sfreq, NAMES, ("eeg", "eog", "emg"), idx / sfreq)


def _recorder(path, fsync=False):
    rec = SessionRecorder(path, FakeClock(), flush_interval_s=0.5, fsync=fsync)
    rec.start(sfreq=50.0, channel_names=NAMES, channel_types=("eeg", "eog", "emg"), config={"x": 1})
    return rec


def test_round_trip_samples_events_and_gaps(tmp_path):
    rec = _recorder(tmp_path / "s", fsync=True)
    rec.write_chunk(_chunk(0, 100))
    rec.write_chunk(_chunk(100, 7))
    rec.write_chunk(_chunk(150, 10))  # 43 samples lost
    rec.emit("decision", {"kind": "stage", "label": "N2", "details": {}}, 116)
    rec.close()
    s = Session(tmp_path / "s")
    data, idx, ts = s.read()
    assert data.shape == (3, 117)
    np.testing.assert_array_equal(idx, np.r_[0:107, 150:160])
    np.testing.assert_allclose(data[1], idx * 0.5 + 1)
    np.testing.assert_allclose(ts, idx / 50.0)
    assert [(g.start, g.stop) for g in s.gaps()] == [(107, 150)]
    summary = s.summary()
    assert summary["n_samples"] == 117
    assert summary["n_gaps"] == 1
    nonzero = {k: v for k, v in summary["events"].items() if v}
    assert nonzero == {"config": 1, "decision": 1, "start": 1, "stop": 1}
    assert summary["events"]["fault"] == 0 and summary["events"]["alarm"] == 0
    assert summary["stages"] == {"N2": 1}
    assert summary["complete"] is True


def test_partial_read_window(tmp_path):
    rec = _recorder(tmp_path / "s")
    for k in range(10):
        rec.write_chunk(_chunk(k * 10, 10))
    rec.close()
    data, idx, _ = Session(tmp_path / "s").read(35, 62)
    np.testing.assert_array_equal(idx, np.arange(35, 62))
    np.testing.assert_allclose(data[0], idx * 0.5)


def _five_blocks(path):
    """A session of five blocks of 25 samples (one block per 0.5 s at 50 Hz)."""
    rec = _recorder(path)
    for k in range(5):
        rec.write_chunk(_chunk(k * 25, 25))
    rec.flush()
    return rec, Session(path).blocks()


@pytest.mark.parametrize("cut", [1, 5, 20, 60, 10_000])
def test_torn_tail_is_ignored_and_earlier_blocks_survive(tmp_path, cut):
    rec, blocks = _five_blocks(tmp_path / "s")
    assert len(blocks) == 5
    path = tmp_path / "s" / SAMPLES
    size = path.stat().st_size
    with open(path, "r+b") as fh:  # simulate a write interrupted part-way through block 5
        fh.truncate(size - min(cut, blocks[-1].size - 1))
    s = Session(tmp_path / "s")
    assert s.n_samples == 100
    assert s.summary()["torn_tail"]
    assert s.damage()[-1].cause == "torn"
    # the torn block's own header still says which 25 samples were lost, when enough of it is left
    assert s.summary()["lost_tail_samples"] == (25 if blocks[-1].size - cut >= 48 else 0)
    rec.close()


def test_corrupted_block_costs_only_that_block(tmp_path):
    rec, blocks = _five_blocks(tmp_path / "s")
    path = tmp_path / "s" / SAMPLES
    raw = bytearray(path.read_bytes())
    raw[blocks[2].offset + 40] ^= 0x01  # flip one bit inside the middle block
    path.write_bytes(bytes(raw))
    s = Session(tmp_path / "s")
    assert s.n_samples == 100
    assert [(g.start, g.stop, g.cause) for g in s.gaps()] == [(50, 75, "corrupt")]
    data, idx, _ = s.read()
    np.testing.assert_array_equal(idx, np.r_[0:50, 75:125])
    np.testing.assert_array_equal(data[2], np.float32(idx * 0.5 + 2))
    summary = s.summary()
    assert summary["lost_samples"] == 25 and summary["damage"][0]["cause"] == "corrupt"
    rec.close()
    assert Session(tmp_path / "s").summary()["complete"] is False  # closed, but not complete


def test_unclosed_session_is_readable(tmp_path):
    rec = _recorder(tmp_path / "s")
    rec.write_chunk(_chunk(0, 50))
    rec.flush()  # no close(): as after kill -9
    s = Session(tmp_path / "s")
    assert s.n_samples == 50
    assert s.summary()["complete"] is False
    rec.close()


def test_refuses_to_overwrite_a_session(tmp_path):
    _recorder(tmp_path / "s").close()
    with pytest.raises(FileExistsError, match="already holds a session"):
        SessionRecorder(tmp_path / "s", FakeClock())


def test_channel_count_mismatch_is_an_error(tmp_path):
    rec = _recorder(tmp_path / "s")
    bad = Chunk(np.zeros((2, 5)), 0, 50.0, ("a", "b"), ("eeg", "eeg"), np.zeros(5))
    with pytest.raises(ValueError, match="2 channels, session has 3"):
        rec.write_chunk(bad)
    rec.close()


def test_not_a_session(tmp_path):
    with pytest.raises(SessionError, match="meta.json is missing"):
        Session(tmp_path)
    os.mkdir(tmp_path / "x")
    with pytest.raises(SessionError):
        Session(tmp_path / "nope")
