"""SessionSource: a recorded session replayed bit for bit, in any chunking, with gaps and events."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_host.chunk import Chunk, SourceEvent
from firmware_host.clock import FakeClock
from firmware_host.config import load_config
from firmware_host.config.schema import SessionSourceConfig, SourceConfig
from firmware_host.session import Session, SessionRecorder
from firmware_host.sources.base import Source, SourceError
from firmware_host.sources.factory import make_source
from firmware_host.sources.session import SessionSource
from firmware_host.sources.synthetic import SyntheticSource
from firmware_host.synthetic.night import SyntheticNight

FIXTURE = Path(__file__).parents[2] / "fixtures" / "session_v1"


@pytest.fixture
def v1_session(tmp_path) -> Path:
    """A copy of the format-1 fixture (reading a WAL journal leaves -shm files beside it)."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "v1"))


@pytest.fixture(scope="module")
def ten_minutes(tmp_path_factory) -> Path:
    """A 10-minute synthetic night recorded through the recorder, with a marker, an annotation
    and 2 s never delivered by the source."""
    path = tmp_path_factory.mktemp("rec") / "night"
    clock = FakeClock()
    src = SyntheticSource(SyntheticNight(load_config().source.synthetic, 600.0), clock)
    rec = SessionRecorder(path, clock, fsync=False)
    rec.start(sfreq=src.sfreq, channel_names=src.channel_names, channel_types=src.channel_types,
              config={})
    src.open()
    while not src.finished:
        clock.advance(0.25)
        chunk = src.read()
        if chunk is None or 250 * 100 <= chunk.first_sample < 250 * 102:
            continue
        if chunk.first_sample == 250 * 50:
            chunk = Chunk(chunk.data, chunk.first_sample, chunk.sfreq, chunk.channel_names,
                          chunk.channel_types, chunk.timestamps,
                          (SourceEvent("marker", 250 * 50 + 3, {"value": 7.0}),))
        rec.write_chunk(chunk)
    rec.emit("annotation", {"description": "lights on"}, 250 * 590)
    rec.close()
    return path


def _drain(src: SessionSource, clock: FakeClock, steps) -> list[Chunk]:
    src.open()
    out, i = [], 0
    while not src.finished:
        clock.advance(steps[i % len(steps)])
        i += 1
        chunk = src.read()
        if chunk is not None:
            out.append(chunk)
    return out


def test_replays_every_sample_bit_for_bit_with_gaps_and_events(ten_minutes):
    clock = FakeClock()
    src = make_source(SourceConfig(kind="session", session=SessionSourceConfig(path=str(ten_minutes))),
                      clock, float("inf"))
    assert isinstance(src, Source)
    chunks = _drain(src, clock, [0.25])
    data, idx, _ = Session(ten_minutes).read()
    got = np.concatenate([c.data for c in chunks], axis=1)
    np.testing.assert_array_equal(got.view(np.int64), data.view(np.int64))
    np.testing.assert_array_equal(np.concatenate([np.arange(c.first_sample, c.end_sample)
                                                  for c in chunks]), idx)
    events = [e for c in chunks for e in c.events]
    assert [(e.kind, e.sample) for e in events] == [
        ("marker", 250 * 50 + 3), ("gap", 250 * 100), ("annotation", 250 * 590)]
    gap = events[1].payload
    assert gap["missing"] == 500 and gap["cause"] == "source"
    assert src.channel_names == tuple(Session(ten_minutes).channel_names)
    assert chunks[-1].end_sample == 250 * 600


@given(steps=st.lists(st.floats(0.01, 30.0), min_size=1, max_size=6))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_chunking_invariance(ten_minutes, steps):
    clock = FakeClock()
    chunks = _drain(SessionSource(SessionSourceConfig(str(ten_minutes)), clock), clock, steps)
    data, _, _ = Session(ten_minutes).read()
    np.testing.assert_array_equal(np.concatenate([c.data for c in chunks], axis=1), data)
    for a, b in zip(chunks, chunks[1:], strict=False):  # a chunk never spans a gap
        assert b.first_sample == a.end_sample or any(e.kind == "gap" for e in b.events)


def test_paced_by_the_clock(ten_minutes):
    clock = FakeClock()
    src = SessionSource(SessionSourceConfig(str(ten_minutes)), clock)
    src.open()
    assert src.read() is None
    clock.advance(1.0)
    assert src.read().n_samples == 250
    clock.advance(0.5)
    chunk = src.read()
    assert (chunk.first_sample, chunk.n_samples) == (250, 125)
    np.testing.assert_allclose(chunk.timestamps, np.arange(250, 375) / 250)


def test_replays_a_format_1_session(v1_session):
    clock = FakeClock()
    chunks = _drain(SessionSource(SessionSourceConfig(str(v1_session)), clock), clock, [0.25])
    data, _, _ = Session(v1_session).read()
    np.testing.assert_array_equal(np.concatenate([c.data for c in chunks], axis=1), data)


@pytest.mark.parametrize("path, match", [("", "is empty"), ("/no/such/dir", "not a directory")])
def test_bad_path_is_one_clear_error(path, match):
    with pytest.raises(SourceError, match=match):
        SessionSource(SessionSourceConfig(path), FakeClock())
