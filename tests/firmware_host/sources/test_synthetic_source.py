"""SyntheticSource pacing and make_source for the synthetic night."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_host.clock import FakeClock, RealClock
from firmware_host.config.schema import SourceConfig, SyntheticSourceConfig
from firmware_host.sources.base import Source, SourceError
from firmware_host.sources.factory import make_source
from firmware_host.sources.synthetic import SyntheticSource
from firmware_host.synthetic import SyntheticNight

CFG = SyntheticSourceConfig(seed=9, sfreq=100.0)


def test_reads_exactly_what_the_clock_allows_and_matches_the_night() -> None:
    night = SyntheticNight(CFG, 60.0)
    clock = FakeClock(5.0)
    src = SyntheticSource(night, clock)
    assert isinstance(src, Source)
    src.open()
    assert src.read() is None
    chunks = []
    for step in (0.004, 0.25, 0.3, 1.0, 7.0, 0.001):
        clock.advance(step)
        chunk = src.read()
        due = int(np.floor((clock.now() - 5.0) * 100 + 1e-6))
        assert src.position == due
        if chunk is not None:
            chunks.append(chunk)
    assert [c.first_sample for c in chunks[1:]] == [c.end_sample for c in chunks[:-1]]
    data = np.concatenate([c.data for c in chunks], axis=1)
    np.testing.assert_array_equal(data, night.generate(0, data.shape[1]))
    np.testing.assert_allclose(chunks[-1].timestamps, 5.0 + np.arange(
        chunks[-1].first_sample, chunks[-1].end_sample) / 100)
    assert chunks[0].channel_types == night.channel_types
    assert all(c.events == () for c in chunks)  # truth is not leaked into events


def test_big_clock_jump_is_split_and_the_night_finishes() -> None:
    night = SyntheticNight(CFG, 45.0)
    clock = FakeClock()
    src = SyntheticSource(night, clock, max_chunk_s=10.0)
    src.open()
    clock.advance(1000.0)
    sizes = []
    while (chunk := src.read()) is not None:
        sizes.append(chunk.n_samples)
    assert sizes == [1000, 1000, 1000, 1000, 500]
    assert src.finished
    src.close()
    src.close()
    with pytest.raises(SourceError, match="open"):
        src.read()


def test_read_before_open_is_an_error() -> None:
    src = SyntheticSource(SyntheticNight(CFG, 10.0), FakeClock())
    with pytest.raises(SourceError, match="open\\(\\) first"):
        src.read()


def test_real_clock_delivers_contiguous_samples() -> None:
    src = make_source(SourceConfig(synthetic=CFG), RealClock(speed=50.0), 30.0)
    src.open()
    got = []
    for _ in range(10):
        RealClock().sleep(0.01)
        if (chunk := src.read()) is not None:
            got.append(chunk)
    assert got and sum(c.n_samples for c in got) == src.position
    assert [c.first_sample for c in got[1:]] == [c.end_sample for c in got[:-1]]


def test_make_source_uses_a_hypnogram_file(tmp_path) -> None:
    path = tmp_path / "night.txt"
    path.write_text("W\nN1\nN2\nN2\nN3\nREM\n")
    syn = SyntheticSourceConfig(sfreq=100.0, hypnogram=str(path), epoch_s=15.0)
    src = make_source(SourceConfig(synthetic=syn), FakeClock(), 90.0)
    assert src.night.hypnogram == ("W", "N2", "N3")


def test_make_source_reports_bad_hypnogram_and_duration(tmp_path) -> None:
    syn = SyntheticSourceConfig(hypnogram=str(tmp_path / "nope.txt"))
    with pytest.raises(SourceError, match="source.synthetic.hypnogram=.*does not exist"):
        make_source(SourceConfig(synthetic=syn), FakeClock(), 60.0)
    with pytest.raises(SourceError, match="finite duration"):
        make_source(SourceConfig(), FakeClock(), float("inf"))
