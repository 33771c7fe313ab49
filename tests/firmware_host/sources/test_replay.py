"""ReplaySource: EDF/EDF+ (written by the test, and a real DREAMS file) and BrainFlow files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from brainflow.data_filter import DataFilter
from edfio import Edf, EdfAnnotation, EdfSignal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_host.clock import FakeClock
from firmware_host.config.schema import ReplaySourceConfig, SourceConfig
from firmware_host.sources.base import SourceError
from firmware_host.sources.brainflow_board import board_layout, resolve_board
from firmware_host.sources.factory import make_source
from firmware_host.sources.replay import ReplaySource, guess_channel_type, uv_factor
from tests.paths import DATA

FS = 100.0
N = 2000  # 20 s


def _signals() -> dict[str, np.ndarray]:
    t = np.arange(N) / FS
    return {
        "C3-M2": 40 * np.sin(2 * np.pi * 10 * t),
        "E1-M2": 80 * np.sin(2 * np.pi * 0.5 * t),
        "Chin EMG": 5 * np.cos(2 * np.pi * 30 * t),
    }


@pytest.fixture
def edf_path(tmp_path: Path) -> Path:
    sigs = [EdfSignal(v, FS, label=k, physical_dimension="uV", physical_range=(-500, 500))
            for k, v in _signals().items()]
    sigs.append(EdfSignal(np.linspace(90, 99, 20), 1.0, label="SaO2", physical_dimension="%"))
    ann = [EdfAnnotation(2.5, 1.0, "Lights off"), EdfAnnotation(12.34, None, "Arousal")]
    path = tmp_path / "night.edf"
    Edf(sigs, annotations=ann).write(path)
    return path


def _read_all(src: ReplaySource, clock: FakeClock, step: float = 0.7) -> list:
    src.open()
    chunks = []
    while not src.finished:
        clock.advance(step)
        if (chunk := src.read()) is not None:
            chunks.append(chunk)
    return chunks


def test_edf_replay_gives_microvolts_annotations_and_paces_by_clock(edf_path: Path) -> None:
    clock = FakeClock()
    src = make_source(SourceConfig(kind="replay", replay=ReplaySourceConfig(path=str(edf_path))),
                      clock, 0)
    assert isinstance(src, ReplaySource)
    assert src.sfreq == FS  # the 1 Hz SaO2 channel is left out (most common rate wins)
    assert src.channel_names == ("C3-M2", "E1-M2", "Chin EMG")
    assert src.channel_types == ("eeg", "eog", "emg")
    chunks = _read_all(src, clock)
    assert all(c.n_samples in (69, 70, 71) for c in chunks[:-1])
    data = np.concatenate([c.data for c in chunks], axis=1)
    expected = np.stack(list(_signals().values()))
    np.testing.assert_allclose(data, expected, atol=1000 / 65535)
    events = [e for c in chunks for e in c.events]
    assert [(e.kind, e.sample, e.payload["description"]) for e in events] == [
        ("annotation", 250, "Lights off"), ("annotation", 1234, "Arousal")]
    assert events[0].payload["duration"] == 1.0
    holder = next(c for c in chunks if c.first_sample <= 1234 < c.end_sample)
    assert holder.events == (events[1],)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.floats(0.001, 25.0), min_size=1, max_size=30))
def test_any_clock_steps_replay_the_same_samples_and_events(edf_path: Path, steps) -> None:
    clock = FakeClock()
    src = ReplaySource(ReplaySourceConfig(path=str(edf_path), loop=True), clock, max_chunk_s=3.0)
    src.open()
    chunks = []
    for step in steps:
        clock.advance(step)
        while (chunk := src.read()) is not None:
            chunks.append(chunk)
    if not chunks:
        return
    assert [c.first_sample for c in chunks[1:]] == [c.end_sample for c in chunks[:-1]]
    data = np.concatenate([c.data for c in chunks], axis=1)
    file = ReplaySource(ReplaySourceConfig(path=str(edf_path)), clock)._fetch(0, N)
    laps = np.tile(file, (1, data.shape[1] // N + 1))[:, :data.shape[1]]
    np.testing.assert_array_equal(data, laps)
    samples = [e.sample for c in chunks for e in c.events]
    expected = [s + lap * N for lap in range(data.shape[1] // N + 1) for s in (250, 1234)]
    assert samples == [s for s in expected if s < data.shape[1]]


def test_edf_channel_subset_types_and_mixed_rate_error(edf_path: Path) -> None:
    cfg = ReplaySourceConfig(path=str(edf_path), channels=("Chin EMG", "C3-M2"),
                             channel_types=("emg", "misc"))
    src = ReplaySource(cfg, FakeClock())
    assert src.channel_names == ("Chin EMG", "C3-M2") and src.channel_types == ("emg", "misc")
    clock = FakeClock()
    src = ReplaySource(cfg, clock)
    data = np.concatenate([c.data for c in _read_all(src, clock, 3.0)], axis=1)
    sig = _signals()
    np.testing.assert_allclose(data, np.stack([sig["Chin EMG"], sig["C3-M2"]]), atol=1000 / 65535)
    with pytest.raises(SourceError, match=r"mix sampling rates \(C3-M2=100 Hz, SaO2=1 Hz\)"):
        ReplaySource(ReplaySourceConfig(path=str(edf_path), channels=("C3-M2", "SaO2")), FakeClock())
    with pytest.raises(SourceError, match=r"\['Cz'\] not in night.edf; available: \['C3-M2'"):
        ReplaySource(ReplaySourceConfig(path=str(edf_path), channels=("Cz",)), FakeClock())


def test_loop_restarts_the_file_and_keeps_counting(edf_path: Path) -> None:
    clock = FakeClock()
    src = ReplaySource(ReplaySourceConfig(path=str(edf_path), loop=True), clock)
    src.open()
    clock.advance(45.0)
    chunks = []
    while (chunk := src.read()) is not None:
        chunks.append(chunk)
    data = np.concatenate([c.data for c in chunks], axis=1)
    assert data.shape[1] == 4500 and not src.finished
    np.testing.assert_array_equal(data[:, 2000:4000], data[:, :2000])
    samples = [e.sample for c in chunks for e in c.events]
    assert samples == [250, 1234, 2250, 3234, 4250]


def test_upper_case_uv_is_already_microvolts(tmp_path: Path) -> None:
    assert uv_factor("UV") == 1.0 and uv_factor("uV") == 1e6 and uv_factor("mV") == 1e6
    path = tmp_path / "upper.edf"
    sig = 30 * np.sin(np.arange(N) / 7)
    Edf([EdfSignal(sig, FS, label="C3-A1", physical_dimension="UV",
                   physical_range=(-200, 200))]).write(path)
    clock = FakeClock()
    data = np.concatenate([c.data for c in _read_all(
        ReplaySource(ReplaySourceConfig(path=str(path)), clock), clock, 5.0)], axis=1)
    np.testing.assert_allclose(data[0], sig, atol=400 / 65535)


def test_channel_type_guesses() -> None:
    assert [guess_channel_type(n) for n in (
        "EEG Fpz-Cz", "C3-A1", "CZ-A1", "EOG1-A1", "E2-M1", "EMG submental", "Chin1", "ECG",
        "SaO2", "Resp oro-nasal")] == [
        "eeg", "eeg", "eeg", "eog", "eog", "emg", "emg", "misc", "misc", "misc"]


def test_bad_paths_and_formats(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="source.replay.path is empty"):
        ReplaySource(ReplaySourceConfig(), FakeClock())
    with pytest.raises(SourceError, match=r"source.replay.path='.*nope.edf': no such file"):
        ReplaySource(ReplaySourceConfig(path=str(tmp_path / "nope.edf")), FakeClock())
    odd = tmp_path / "x.bin"
    odd.write_bytes(b"1234")
    with pytest.raises(SourceError, match="set source.replay.format to 'edf' or 'brainflow'"):
        ReplaySource(ReplaySourceConfig(path=str(odd)), FakeClock())


def test_brainflow_file_replay_with_markers(tmp_path: Path) -> None:
    lay = board_layout(resolve_board("CYTON_BOARD"))
    n = 1000
    data = np.zeros((lay.n_rows, n))
    data[lay.package_row] = np.arange(n) % 256
    for k, row in enumerate(lay.rows):
        data[row] = k * 100 + np.arange(n) / 10
    data[lay.marker_row, [5, 700]] = [1.0, 2.0]
    path = tmp_path / "cyton.csv"
    DataFilter.write_file(data, str(path), "w")
    clock = FakeClock()
    cfg = ReplaySourceConfig(path=str(path), board="CYTON_BOARD", channels=("C3", "O2"))
    src = ReplaySource(cfg, clock)
    assert src.sfreq == 250 and src.channel_names == ("C3", "O2")
    chunks = _read_all(src, clock, 1.3)
    got = np.concatenate([c.data for c in chunks], axis=1)
    np.testing.assert_allclose(got, data[[lay.rows[2], lay.rows[7]]], atol=1e-5)
    markers = [(e.sample, e.payload["value"]) for c in chunks for e in c.events]
    assert markers == [(5, 1.0), (700, 2.0)]
    with pytest.raises(SourceError, match="has 24 rows but board 'SYNTHETIC_BOARD' writes 32"):
        ReplaySource(ReplaySourceConfig(path=str(path)), FakeClock())


DREAMS3 = DATA / "dreams-spindles" / "excerpt3.edf"


@pytest.mark.skipif(not DREAMS3.exists(), reason=f"real data not found at {DREAMS3}")
def test_real_dreams_excerpt3_matches_its_text_export() -> None:
    clock = FakeClock()
    cfg = ReplaySourceConfig(path=str(DREAMS3), channels=("C3-A1", "EOG1-A1", "EMG1"))
    src = ReplaySource(cfg, clock)
    assert src.sfreq == 50.0 and src.channel_types == ("eeg", "eog", "emg")
    src.open()
    clock.advance(600.0)
    chunks = []
    while (chunk := src.read()) is not None:
        chunks.append(chunk)
    got = np.concatenate([c.data for c in chunks], axis=1)[0]
    truth = np.loadtxt(DREAMS3.with_suffix(".txt"), skiprows=1, max_rows=got.shape[0])
    np.testing.assert_allclose(got, truth, atol=1e-3)
    assert 5.0 < got.std() < 200.0  # µV, not V and not scaled twice
