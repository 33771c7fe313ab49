"""Sample format 2: lossless coding, corruption costs only the damaged blocks, format 1 still reads."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_host.clock import FakeClock
from firmware_host.config import load_config
from firmware_host.session import Session, SessionError, SessionRecorder
from firmware_host.session.blocks import scan_bytes
from firmware_host.session.codec import SampleEncoder, decode, detect_scale
from firmware_host.session.recorder import SAMPLES
from firmware_host.sources.synthetic import SyntheticSource
from firmware_host.synthetic.night import SyntheticNight

FIXTURE = Path(__file__).parents[2] / "fixtures" / "session_v1"


@pytest.fixture
def v1_session(tmp_path) -> Path:
    """A copy of the format-1 fixture (reading a WAL journal leaves -shm files beside it)."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "v1"))
#: Cyton µV per count at gain 24: 4.5 V / 24 / (2^23 - 1) × 1e6, as BrainFlow computes it.
CYTON_LSB = 4.5 / float(2**23 - 1) / 24 * 1e6


def _roundtrip(data, ts, first=0, sfreq=250.0, origin=0.0, scales=None):
    enc = SampleEncoder(data.shape[0], scales)
    payload = enc.encode(data, first, sfreq, origin, ts)
    return enc, decode(payload, data.shape[0], data.shape[1], first, sfreq, origin)


def test_adc_counts_are_detected_and_stored_exactly():
    rng = np.random.default_rng(1)
    counts = np.cumsum(rng.integers(-300, 300, size=(3, 200)), axis=1) + 40_000  # a drifting signal
    data = CYTON_LSB * counts.astype(np.float64)  # BrainFlow: double scale × int count
    data[2] = counts[2] * 0.5  # another grid on another channel
    ts = np.arange(200) / 250.0
    enc, (out, ts_out) = _roundtrip(data, ts)
    assert enc.channel_modes() == ["int", "int", "int"]
    np.testing.assert_array_equal(out.view(np.int64), data.view(np.int64))  # bit for bit
    np.testing.assert_array_equal(ts_out, ts)


def test_float_data_without_grid_is_stored_as_float32():
    rng = np.random.default_rng(2)
    data = rng.normal(0, 30, size=(2, 100))
    enc, (out, _) = _roundtrip(data, np.arange(100) / 250.0)
    assert enc.channel_modes() == ["f32", "f32"]
    np.testing.assert_array_equal(out, data.astype(np.float32))
    assert detect_scale(data[0]) is None


def test_source_scale_hint_and_nan_fallback():
    counts = np.arange(-50, 50, dtype=np.float64)
    data = np.vstack([counts * CYTON_LSB, counts * CYTON_LSB])
    data[1, 7] = np.nan  # off every grid: this channel falls back to float32 for this block
    enc, (out, _) = _roundtrip(data, np.arange(100) / 250.0, scales=(CYTON_LSB, None))
    assert enc.channel_modes() == ["int", "f32"]
    np.testing.assert_array_equal(out[0], data[0])
    assert np.isnan(out[1, 7])


def test_irregular_timestamps_are_explicit():
    data = np.zeros((1, 50))
    ts = 10.0 + np.arange(50) / 250.0
    ts[20:] += 3.0  # the host clock jumped
    ts[5] += 0.0004  # jitter within the tolerance is not kept
    _, (_, out) = _roundtrip(data, ts, origin=10.0)
    np.testing.assert_array_equal(out[20:], ts[20:])
    assert abs(out[5] - ts[5]) <= 0.001


@given(n_ch=st.integers(1, 4), n=st.integers(1, 300), scale=st.sampled_from([CYTON_LSB, 0.1, 1.0, 3e-3]),
       seed=st.integers(0, 2**16), big=st.booleans())
@settings(max_examples=60, deadline=None)
def test_any_grid_roundtrips_bit_exact(n_ch, n, scale, seed, big):
    """With the source's scale every grid is exact; detected or not, never worse than float32."""
    rng = np.random.default_rng(seed)
    hi = 2**31 - 1 if big else 100
    data = rng.integers(-hi, hi, size=(n_ch, n)).astype(np.float64) * scale
    _, (out, _) = _roundtrip(data, np.arange(n) / 100.0, sfreq=100.0, scales=(scale,) * n_ch)
    np.testing.assert_array_equal(out, data)
    enc, (out, _) = _roundtrip(data, np.arange(n) / 100.0, sfreq=100.0)
    for c, mode in enumerate(enc.channel_modes()):
        np.testing.assert_array_equal(out[c], data[c] if mode == "int" else data[c].astype(np.float32))


# --------------------------------------------------------------------------- corruption
def _record_synthetic(path: Path, seconds: float = 6.0) -> None:
    """A real session: the synthetic night through the recorder, 0.25-s chunks."""
    clock = FakeClock()
    src = SyntheticSource(SyntheticNight(load_config().source.synthetic, seconds), clock)
    rec = SessionRecorder(path, clock, fsync=False)
    rec.start(sfreq=src.sfreq, channel_names=src.channel_names, channel_types=src.channel_types,
              config={})
    src.open()
    while not src.finished:
        clock.advance(0.25)
        chunk = src.read()
        if chunk is not None:
            rec.write_chunk(chunk)
    rec.close()


@pytest.fixture(scope="module")
def real_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("real") / "s"
    _record_synthetic(path)
    return path


def _decoded_blocks(path: Path) -> dict[int, tuple[bytes, bytes]]:
    s = Session(path)
    return {first: (data.tobytes(), ts.tobytes()) for first, data, ts in s.iter_blocks()}


@given(data=st.data())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_corrupting_any_byte_range_costs_only_the_blocks_it_touches(real_session, tmp_path, data):
    """Overwrite, delete or insert any byte range: every block outside it reads bit-exact."""
    raw = (real_session / SAMPLES).read_bytes()
    blocks = scan_bytes(raw).blocks
    original = _decoded_blocks(real_session)
    assert len(blocks) == 12 and not scan_bytes(raw).damage
    a = data.draw(st.integers(0, len(raw) - 1), label="start")
    b = data.draw(st.integers(a + 1, min(len(raw), a + 3000)), label="stop")
    how = data.draw(st.sampled_from(["xor", "delete", "insert", "truncate"]), label="how")
    if how == "xor":
        mask = data.draw(st.binary(min_size=b - a, max_size=b - a).filter(lambda m: all(m)),
                         label="mask") if b - a <= 8 else bytes([0x5A]) * (b - a)
        bad = raw[:a] + bytes(x ^ y for x, y in zip(raw[a:b], mask, strict=True)) + raw[b:]
    elif how == "delete":
        bad = raw[:a] + raw[b:]
    elif how == "insert":
        bad = raw[:a] + data.draw(st.binary(min_size=1, max_size=200), label="junk") + raw[a:]
        b = a
    else:
        bad = raw[:a]
        b = len(raw)
    target = tmp_path / "s"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(real_session, target)
    (target / SAMPLES).write_bytes(bad)
    got = _decoded_blocks(target)
    untouched = [blk for blk in blocks if blk.offset + blk.size <= a or blk.offset >= b]
    for blk in untouched:
        assert got[blk.first_sample] == original[blk.first_sample]
    for first, value in got.items():  # nothing invented: every block read is an original one
        assert original[first] == value
    s = Session(target)
    lost = {blk.first_sample for blk in blocks} - set(got)
    if not bad:  # nothing left is an error, never an empty night
        with pytest.raises(SessionError, match="empty"):
            s.summary()
    elif lost:  # every lost block is named: inside a gap with a damage cause, or in the lost tail
        summary = s.summary()
        assert summary["complete"] is False and summary["damage"]
        for first in lost:
            assert first >= s.end_sample or any(
                g.start <= first < g.stop and g.cause in ("corrupt", "torn") for g in s.gaps())


def test_flipped_bit_mid_night_loses_one_block_and_info_names_it(real_session, tmp_path):
    target = tmp_path / "s"
    shutil.copytree(real_session, target)
    raw = bytearray((target / SAMPLES).read_bytes())
    mid = scan_bytes(bytes(raw)).blocks[6]
    raw[mid.offset + mid.size // 2] ^= 0x10
    (target / SAMPLES).write_bytes(bytes(raw))
    summary = Session(target).summary()
    assert summary["gaps"] == [{"start": mid.first_sample, "stop": mid.end_sample,
                                "samples": mid.n_samples, "cause": "corrupt"}]
    assert summary["n_samples"] == 6 * 250 - mid.n_samples
    assert summary["closed"] is True and summary["complete"] is False
    assert summary["damage"][0]["offset"] == mid.offset


# --------------------------------------------------------------------------- format 1
def test_format_1_fixture_still_reads(v1_session):
    """A 3-s session written by the format-1 recorder (commit 7b50323) reads unchanged."""
    s = Session(v1_session)
    assert s.format == 1
    data, idx, ts = s.read()
    assert data.shape == (13, 625)
    np.testing.assert_array_equal(idx, np.r_[0:250, 375:750])
    assert hashlib.sha256(data.astype("<f4").tobytes()).hexdigest() == (
        "36585eb1f9e6c7e0f64be3f3bb986e8fa4a367b3b5328214f1da8f395db3e27a")
    assert hashlib.sha256(ts.astype("<f8").tobytes()).hexdigest() == (
        "74f42c4f2d654bb632e5cdd03c705f19c4b44008ae687b4aa11d5dedd133c4a2")
    summary = s.summary()
    assert summary["complete"] is True and summary["n_gaps"] == 1
    assert summary["gaps"][0]["cause"] == "source"
    assert summary["stages"] == {"N2": 1}


def test_format_1_corruption_is_reported(v1_session):
    target = v1_session
    raw = bytearray((target / SAMPLES).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (target / SAMPLES).write_bytes(bytes(raw))
    summary = Session(target).summary()
    assert summary["complete"] is False
    assert "CRC" in summary["damage"][0]["detail"]
    assert 0 < summary["n_samples"] < 625


def test_synthetic_source_on_an_adc_grid_is_stored_as_counts(tmp_path):
    """``source.synthetic.adc_lsb_uv`` delivers a board's grid; the recorder keeps it bit-exact."""
    from firmware_host.config.schema import SourceConfig, SyntheticSourceConfig
    from firmware_host.sources.factory import make_source

    clock = FakeClock()
    cfg = SourceConfig(synthetic=SyntheticSourceConfig(adc_lsb_uv=CYTON_LSB))
    src = make_source(cfg, clock, 4.0)
    rec = SessionRecorder(tmp_path / "s", clock, fsync=False)
    rec.start(sfreq=src.sfreq, channel_names=src.channel_names, channel_types=src.channel_types,
              config={})
    src.open()
    sent = []
    while not src.finished:
        clock.advance(0.25)
        if (chunk := src.read()) is not None:
            sent.append(chunk.data)
            rec.write_chunk(chunk)
    rec.close()
    want = np.concatenate(sent, axis=1)
    np.testing.assert_array_equal(np.rint(want / CYTON_LSB) * CYTON_LSB, want)
    got, _, _ = Session(tmp_path / "s").read()
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))  # bit for bit
    f32_size = want.size * 4
    assert (tmp_path / "s" / SAMPLES).stat().st_size < 0.5 * f32_size
