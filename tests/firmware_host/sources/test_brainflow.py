"""BrainFlow source: board resolution, gap/overrun/marker logic, live synthetic and playback boards."""

from __future__ import annotations

import time

import numpy as np
import pytest
from brainflow.board_shim import BoardIds, BoardShim
from brainflow.data_filter import DataFilter

from firmware_host.clock import RealClock
from firmware_host.config.schema import BrainFlowSourceConfig, SourceConfig
from firmware_host.sources.base import Source, SourceError
from firmware_host.sources.brainflow_board import (
    BrainFlowSource,
    board_layout,
    find_gaps,
    resolve_board,
)
from firmware_host.sources.factory import make_source

BoardShim.disable_board_logger()
SYN = int(BoardIds.SYNTHETIC_BOARD)


# ---------------------------------------------------------------- pure functions
def test_resolve_board_by_name_number_and_suffixless() -> None:
    assert resolve_board("SYNTHETIC_BOARD") == SYN
    assert resolve_board("synthetic") == SYN
    assert resolve_board(str(int(BoardIds.CYTON_BOARD))) == int(BoardIds.CYTON_BOARD)
    with pytest.raises(SourceError, match=r"board='CYTONN'.*closest BoardIds names: \[.*'CYTON_BOARD'"):
        resolve_board("CYTONN")
    with pytest.raises(SourceError, match="not a BoardIds number"):
        resolve_board("9999")


def test_make_source_names_the_bad_board_key() -> None:
    cfg = SourceConfig(kind="brainflow", brainflow=BrainFlowSourceConfig(board="MUSE_S_BORAD"))
    with pytest.raises(SourceError, match=r"source\.brainflow\.board='MUSE_S_BORAD'.*MUSE_S_BOARD"):
        make_source(cfg, RealClock(), 0)


def test_layout_of_the_cyton() -> None:
    lay = board_layout(int(BoardIds.CYTON_BOARD))
    assert lay.sfreq == 250 and lay.rows == tuple(range(1, 9))
    assert lay.names[:3] == ("Fp1", "Fp2", "C3") and set(lay.types) == {"eeg"}
    assert lay.package_row == 0 and lay.marker_row == 23 and lay.timestamp_row == 22
    with pytest.raises(SourceError, match="channel_names has 2 entries but board .* 8 ExG"):
        board_layout(int(BoardIds.CYTON_BOARD), channel_names=("a", "b"))


def test_find_gaps_counts_missing_packages_across_wraparound() -> None:
    assert find_gaps(np.arange(0, 600) % 256) == []
    assert find_gaps(np.array([253, 254, 255, 0, 1])) == []
    gaps = find_gaps(np.array([250, 251, 255, 3, 4]))
    assert [(g.index, g.missing) for g in gaps] == [(2, 3), (3, 3)]
    assert find_gaps(np.array([7, 7, 8])) == []  # repeated number: not a gap


def test_find_gaps_at_the_read_boundary_and_by_timestamps() -> None:
    gaps = find_gaps(np.array([12, 13]), previous_package=9)
    assert [(g.index, g.missing, g.package_before) for g in gaps] == [(0, 2, 9)]
    # 300 samples lost: the one-byte counter only shows 300 % 256 = 44, timestamps show all
    fs = 250.0
    t_prev, p_prev = 100.0, 10
    t = t_prev + (1 + 300 + np.arange(5)) / fs
    p = (p_prev + 1 + 300 + np.arange(5)) % 256
    counter_only = find_gaps(p, previous_package=p_prev)
    assert counter_only[0].missing == 44
    both = find_gaps(p, previous_package=p_prev, timestamps=t, previous_timestamp=t_prev, sfreq=fs)
    assert [(g.index, g.missing) for g in both] == [(0, 300)]
    jitter = t_prev + (1 + np.arange(5)) / fs + np.array([0.02, -0.01, 0.0, 0.03, 0.0])
    assert find_gaps((p_prev + 1 + np.arange(5)) % 256, previous_package=p_prev,
                     timestamps=jitter, previous_timestamp=t_prev, sfreq=fs) == []


def _crafted(n: int, start_pkg: int = 0, drop: tuple[int, int] | None = None) -> np.ndarray:
    lay = board_layout(SYN)
    idx = np.arange(n + (drop[1] if drop else 0))
    if drop:
        idx = np.delete(idx, np.arange(drop[0], drop[0] + drop[1]))
    data = np.zeros((lay.n_rows, len(idx)))
    data[lay.package_row] = (start_pkg + idx) % 256
    data[lay.timestamp_row] = 1000.0 + idx / lay.sfreq
    data[1] = idx  # EEG row 1 carries the true sample number
    return data


def test_split_advances_first_sample_over_a_gap_and_reports_it() -> None:
    src = BrainFlowSource(BrainFlowSourceConfig(), RealClock())
    first = src.split(_crafted(100))
    assert [(c.first_sample, c.n_samples) for c in first] == [(0, 100)]
    # the next drain: samples 100..149, then 150..156 lost, then 157..213
    chunks = src.split(_crafted(207, drop=(150, 7))[:, 100:])
    assert [(c.first_sample, c.n_samples) for c in chunks] == [(100, 50), (157, 57)]
    gap = chunks[1].events[0]
    assert gap.kind == "gap" and gap.sample == 157 and gap.payload["missing"] == 7
    for c in chunks:  # index arithmetic reveals the true sample number
        np.testing.assert_array_equal(c.data[0], np.arange(c.first_sample, c.end_sample))
    assert src.n_gaps == 1


def test_wider_counters_are_learned_or_configured() -> None:
    src = BrainFlowSource(BrainFlowSourceConfig(), RealClock())
    lay = src.layout
    for start in (0, 300, 65000):  # a 16-bit counter climbing through 256 and wrapping
        data = _crafted(400)
        data[lay.package_row] = (start + np.arange(400)) % 65536
        src._last_package = None if start == 0 else float((start - 1) % 65536)
        chunks = src.split(data)
        assert len(chunks) == 1 and not chunks[0].events
    assert src.package_modulus == 65536
    fixed = BrainFlowSource(BrainFlowSourceConfig(package_modulus=201), RealClock())
    data = _crafted(300)
    data[lay.package_row] = np.arange(300) % 201
    assert [len(c.events) for c in fixed.split(data)] == [0]


def test_split_reports_markers_and_overrun() -> None:
    src = BrainFlowSource(BrainFlowSourceConfig(), RealClock(), buffer_s=1.0)
    data = _crafted(250)
    data[src.layout.marker_row, [10, 200]] = [3.0, 7.0]
    (chunk,) = src.split(data)
    kinds = [(e.kind, e.sample) for e in chunk.events]
    assert kinds == [("overrun", 0), ("marker", 10), ("marker", 200)]
    assert chunk.events[2].payload == {"value": 7.0}


# ---------------------------------------------------------------- live boards
def _drain(src: Source, seconds: float) -> list:
    chunks = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (chunk := src.read()) is not None:
            chunks.append(chunk)
        time.sleep(0.05)
    while (chunk := src.read()) is not None:
        chunks.append(chunk)
    return chunks


def test_synthetic_board_streams_contiguously_with_markers() -> None:
    src = make_source(SourceConfig(kind="brainflow"), RealClock(), 0)
    assert isinstance(src, BrainFlowSource) and isinstance(src, Source)
    src.open()
    try:
        time.sleep(0.3)
        src._board.insert_marker(5.0)
        chunks = _drain(src, 1.0)
    finally:
        src.close()
        src.close()
    assert src.sfreq == 250 and len(src.channel_names) == 16
    assert chunks and chunks[0].first_sample == 0
    assert [c.first_sample for c in chunks[1:]] == [c.end_sample for c in chunks[:-1]]
    assert sum(c.n_samples for c in chunks) > 150
    events = [e for c in chunks for e in c.events]
    assert [e.kind for e in events] == ["marker"] and events[0].payload["value"] == 5.0
    assert np.abs(np.concatenate([c.data for c in chunks], axis=1)).max() > 1.0


def test_live_overrun_is_reported_and_the_lost_samples_skipped() -> None:
    src = BrainFlowSource(BrainFlowSourceConfig(), RealClock(), buffer_s=0.2)  # 50 samples
    src.open()
    try:
        time.sleep(0.1)
        before = _drain(src, 0.05)
        time.sleep(0.7)  # ~175 samples arrive into a 50-sample ring buffer
        after = _drain(src, 0.0)
    finally:
        src.close()
    assert before and after
    events = {e.kind: e for c in after for e in c.events}
    assert events["overrun"].payload["buffer_size"] == 50
    gap = events["gap"]
    assert gap.payload["missing"] > 50
    assert after[0].first_sample == before[-1].end_sample + gap.payload["missing"]
    assert src.n_overruns == 1 and src.n_gaps == 1


def test_playback_file_board_replays_a_written_file(tmp_path) -> None:
    lay = board_layout(SYN)
    n = 375
    data = np.zeros((lay.n_rows, n))
    data[lay.package_row] = np.arange(n) % 256
    data[lay.timestamp_row] = 1.7e9 + np.arange(n) / lay.sfreq
    data[1] = np.arange(n, dtype=float)
    data[2] = 10 * np.sin(np.arange(n) / 5)
    path = tmp_path / "rec.csv"
    DataFilter.write_file(data, str(path), "w")
    cfg = BrainFlowSourceConfig(board="PLAYBACK_FILE_BOARD", file=str(path),
                                master_board="SYNTHETIC_BOARD")
    src = BrainFlowSource(cfg, RealClock())
    src.open()
    try:
        chunks = _drain(src, 1.8)
    finally:
        src.close()
    got = np.concatenate([c.data for c in chunks], axis=1)
    assert got.shape[1] >= 200
    first = int(got[0, 0])
    np.testing.assert_allclose(got[0], np.arange(first, first + got.shape[1]) % n, atol=1e-6)
    np.testing.assert_allclose(got[1], data[2][got[0].astype(int)], atol=1e-4)


def test_open_failure_is_a_source_error(tmp_path) -> None:
    cfg = BrainFlowSourceConfig(board="CYTON_BOARD", serial_port=str(tmp_path / "ttyNOPE"))
    src = BrainFlowSource(cfg, RealClock())
    with pytest.raises(SourceError, match="CYTON_BOARD could not start"):
        src.open()
