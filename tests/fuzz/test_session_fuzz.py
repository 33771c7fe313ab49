"""Hostile session directories: every read gives data or a :class:`SessionError`, nothing else.

A small real session is recorded once; each example damages a copy of one of its three
files — ``samples.bin`` (flipped, inserted, deleted and truncated bytes; forged blocks whose
CRCs check but whose contents lie; format-1 blocks with any header), ``meta.json`` (junk
JSON, wrong types, NaN, huge numbers) or ``events.sqlite`` (random bytes, damaged pages,
rows of any type) — and opens it the ways ``somnoloop info``, reports and replays do.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import shutil
import sqlite3
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock
from firmware_host.session import Session, SessionError, SessionRecorder, format_v1, resume_session
from firmware_host.session.blocks import BODY, CRC, SYNC
from firmware_host.session.codec import SampleEncoder
from firmware_host.session.recorder import EVENTS, META, SAMPLES
from tests.fuzz.strategies import batch, byte_edits, junk, mutate

NAMES = ("C3", "EOG", "chin")
SFREQ = 50.0


@pytest.fixture(scope="module")
def recorded(scratch):
    """4 s at 50 Hz with a gap and a few events: its files' contents and a copy per test."""
    root = scratch / "session"
    rec = SessionRecorder(root / "orig", FakeClock(), fsync=False)
    rec.start(sfreq=SFREQ, channel_names=NAMES, channel_types=("eeg", "eog", "emg"), config={})
    for first in [*range(0, 100, 25), *range(150, 250, 25)]:
        idx = np.arange(first, first + 25)
        data = np.vstack([np.round(np.sin(idx / 7) * 40, 1), idx * 0.5, -idx * 0.25])
        rec.write_chunk(Chunk(data, first, SFREQ, NAMES, ("eeg", "eog", "emg"), idx / SFREQ))
        rec.emit("decision", {"kind": "stage", "label": "N2", "details": {}}, first)
    rec.emit("annotation", {"description": "lights off"}, 10)
    rec.close()
    for part in ("samples", "meta", "journal"):  # each test rewrites only its file in its copy
        shutil.copytree(root / "orig", root / part)
    return {"root": root, "samples": (root / "orig" / SAMPLES).read_bytes(),
            "meta": json.loads((root / "orig" / META).read_text()),
            "journal": (root / "orig" / EVENTS).read_bytes()}


def _exercise(path, samples: bool = True) -> None:
    """Open and read a session as ``info``, reports and replays do; only SessionError may come.

    ``samples=False`` skips decoding the samples (for examples that left them intact).
    """
    try:
        s = Session(path)
        n = s.n_samples
        if samples:
            data, idx, ts = s.read()
            assert data.shape == (len(s.channel_names), idx.size) and idx.size <= n  # undecodable: skipped
            assert ts.shape == idx.shape
            assert all(g.n_missing > 0 and g.cause in ("source", "restart", "corrupt", "torn")
                       for g in s.gaps())
            s.segments()
        json.dumps(s.summary())  # what 'somnoloop info --json' prints
        s.events()
    except SessionError as exc:
        assert str(exc)


# --- samples.bin --------------------------------------------------------------------------
edits = byte_edits(1 << 20, 16, 4)


def _frame(body: bytes) -> bytes:
    head = SYNC + struct.pack("<I", len(body))
    return head + CRC.pack(zlib.crc32(head)) + body + CRC.pack(zlib.crc32(body))


@functools.cache
def _valid_payload(n_ch: int, n: int) -> bytes:
    idx = np.arange(n)
    data = np.vstack([idx * 0.5 + c for c in range(n_ch)]) if n_ch else np.zeros((0, n))
    return SampleEncoder(n_ch).encode(data, 0, SFREQ, 0.0, idx / SFREQ)


NASTY_FLOATS = (0.0, -0.0, 1.0, -1.0, 1e-320, 1e308, math.inf, -math.inf, math.nan)
#: Blocks whose CRCs check but whose header or payload is not what a recorder writes.
forged = st.builds(
    lambda first, n, n_ch, seg, origin, sfreq, payload: _frame(
        BODY.pack(first, n, n_ch, seg, origin, sfreq)
        + (payload if payload is not None else _valid_payload(min(n_ch, 5), min(max(n, 1), 40)))),
    st.integers(-(2**63), 2**63 - 1) | st.integers(-5, 600),
    st.integers(0, 2**32 - 1) | st.integers(0, 60),
    st.integers(0, 2**16 - 1) | st.integers(0, 5),
    st.integers(0, 2**16 - 1) | st.integers(0, 2),
    st.sampled_from(NASTY_FLOATS),
    st.sampled_from((*NASTY_FLOATS, SFREQ, SFREQ)),
    st.none() | st.binary(max_size=64),
)
v1_blocks = st.builds(
    lambda first, n, n_ch, body, good_crc: (lambda head, body: head + body + CRC.pack(
        zlib.crc32(body, zlib.crc32(head)) if good_crc else 0))(
        format_v1.HEADER.pack(format_v1.MAGIC, first, n, n_ch, 0), body),
    st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**32 - 1) | st.integers(0, 8),
    st.integers(0, 2**16 - 1) | st.integers(0, 4), st.binary(max_size=200), st.booleans())


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.one_of(
    edits.map(lambda ops: ("edit", ops)),
    st.tuples(st.integers(0, 20), st.lists(forged, min_size=1, max_size=2)).map(
        lambda c: ("forge", c)),
    st.lists(v1_blocks, min_size=1, max_size=3).map(lambda c: ("v1", c)),
    st.binary(max_size=300).map(lambda c: ("bytes", c)),
)))
def test_damaged_sample_files(recorded, cases):
    for case in cases:
        _damaged_sample_files(recorded, case)


def _damaged_sample_files(recorded, case) -> None:
    scratch = recorded["root"] / "samples"
    raw, meta = recorded["samples"], recorded["meta"]
    kind, arg = case
    if kind == "edit":
        raw = mutate(raw, arg)
    elif kind == "forge":  # forged blocks between two intact ones
        offsets = _block_offsets(raw)
        cut = offsets[arg[0] % len(offsets)]
        raw = raw[:cut] + b"".join(arg[1]) + raw[cut:]
    elif kind == "v1":
        raw = b"".join(arg)
        meta = {**meta, "format": "somnoloop-session/1"}
    else:
        raw = arg
    (scratch / SAMPLES).write_bytes(raw)
    (scratch / META).write_text(json.dumps(meta))
    _exercise(scratch)

def _block_offsets(raw: bytes) -> list[int]:
    out, pos = [], 0
    while (pos := raw.find(SYNC, pos)) >= 0:
        out.append(pos)
        pos += 1
    return out


# --- meta.json ----------------------------------------------------------------------------
META_KEYS = ["format", "sfreq", "channel_names", "channel_types", "segments", "adc_scales",
             "software_version", "source", "config_name"]


def _meta_text(meta: dict, case) -> str:
    kind, arg = case
    if kind == "fields":
        return json.dumps({**meta, **arg})
    if kind == "drop":
        return json.dumps({k: v for k, v in meta.items() if k != arg})
    if kind == "deep":
        return "[" * arg + "]" * arg
    if kind == "bignum":
        return json.dumps(meta).replace(str(meta["sfreq"]), "9" * arg, 1)
    return arg


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.one_of(
    st.dictionaries(st.sampled_from(META_KEYS), junk, min_size=1).map(lambda d: ("fields", d)),
    st.sampled_from(META_KEYS).map(lambda k: ("drop", k)),
    st.integers(1, 3000).map(lambda n: ("deep", n)),
    st.integers(300, 5000).map(lambda n: ("bignum", n)),
    st.text(max_size=100).map(lambda t: ("text", t)),
)))
def test_junk_meta_files(recorded, cases):
    for case in cases:
        _junk_meta_files(recorded, case)


def _junk_meta_files(recorded, case) -> None:
    scratch = recorded["root"] / "meta"
    (scratch / META).write_text(_meta_text(recorded["meta"], case), encoding="utf-8",
                                errors="surrogatepass")
    try:
        s = Session(scratch)
    except SessionError as exc:
        assert META in str(exc) or str(scratch) in str(exc)
        return
    assert s.sfreq > 0 and math.isfinite(s.sfreq)
    assert all(isinstance(n, str) for n in s.channel_names)
    _exercise(scratch)

# --- events.sqlite ------------------------------------------------------------------------
#: Journal cells of every SQLite type, and texts a reader might choke on.
CELLS = (None, 0, -1, 2**63 - 1, -(2**63), 1.5, -0.0, 1e308, "", "x", "\x00", "é",
         b"", b"\xff\xfe", b"{}", '{"kind":"stage","label":"N2"}', "{", "[]", '{"kind":1}',
         '{"kind":"stage","label":[1]}', '{"details":{"provisional":"yes"}}', "start", "stop",
         "decision", "marker", '"just a string"', "[" * 50)
cell = st.one_of(st.sampled_from(CELLS), st.integers(-(2**63), 2**63 - 1), st.text(max_size=8))
rows = st.lists(st.tuples(cell, cell, cell, cell, cell), max_size=3)


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.one_of(
    rows.map(lambda r: ("rows", r)),
    st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(1, 255)), min_size=1, max_size=8).map(
        lambda f: ("flip", f)),
    st.integers(0, 1 << 16).map(lambda n: ("truncate", n)),
    st.binary(max_size=200).map(lambda b: ("bytes", b)),
)))
def test_damaged_journals(recorded, cases):
    for case in cases:
        _damaged_journals(recorded, case)


def _damaged_journals(recorded, case) -> None:
    scratch = recorded["root"] / "journal"
    journal = scratch / EVENTS
    for sidecar in ("-wal", "-shm"):  # the last example's, which belong to another journal
        (scratch / (EVENTS + sidecar)).unlink(missing_ok=True)
    kind, arg = case
    if kind == "rows":
        journal.write_bytes(recorded["journal"])
        with sqlite3.connect(journal) as db:
            db.executemany("INSERT OR IGNORE INTO events (t, wall, sample, kind, payload) VALUES "
                           "(?, ?, ?, ?, ?)", arg)
        db.close()
    elif kind in ("flip", "truncate"):
        raw = bytearray(recorded["journal"])
        if kind == "truncate":
            del raw[arg % (len(raw) + 1):]
        for at, bits in arg if kind == "flip" else ():
            raw[at % len(raw)] ^= bits
        journal.write_bytes(bytes(raw))
    else:
        journal.write_bytes(arg)
    _exercise(scratch, samples=False)

# --- continuing a damaged session after a crash (resume writes, so a few fixed cases) ------
@pytest.mark.parametrize("damage", ["wall_text", "segments_null", "segments_many", "no_journal"])
def test_resuming_a_damaged_session_gives_a_recorder_or_a_session_error(recorded, tmp_path, damage):
    path = tmp_path / "s"
    shutil.copytree(recorded["root"] / "orig", path)
    meta = dict(recorded["meta"])
    if damage == "wall_text":
        with contextlib.closing(sqlite3.connect(path / EVENTS)) as db, db:
            db.execute("INSERT INTO events (t, wall, sample, kind, payload) VALUES "
                       "(0, 'yesterday', NULL, 'marker', '{}')")
    elif damage == "no_journal":
        (path / EVENTS).unlink()
    else:
        meta["segments"] = None if damage == "segments_null" else [{"first_sample": 0}] * 70_000
        (path / META).write_text(json.dumps(meta))
    try:
        rec = resume_session(path, FakeClock(), fsync=False)
    except SessionError as exc:
        assert str(path) in str(exc)
        assert damage in ("wall_text", "segments_many", "no_journal")
        return
    rec.close()
    assert Session(path).summary()["segments"]
