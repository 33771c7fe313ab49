"""Hostile replay and hypnogram files: chunks (or stages) or the defined error, nothing else.

A small valid EDF+ file (edfio) and a BrainFlow data file are written once; each example
damages a copy (flipped, inserted, deleted and truncated bytes, junk in EDF header fields)
or is arbitrary bytes. Opening it as a replay source and reading it must give chunks or a
:class:`SourceError`; loading a hypnogram must give stages or a :class:`HypnogramError`.
"""

from __future__ import annotations

import numpy as np
import pytest
from brainflow.data_filter import DataFilter
from edfio import Edf, EdfAnnotation, EdfSignal
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_host.clock import FakeClock
from firmware_host.config.schema import ReplaySourceConfig
from firmware_host.sources.base import SourceError
from firmware_host.sources.brainflow_board import board_layout, resolve_board
from firmware_host.sources.hypnogram import HypnogramError, load_hypnogram
from firmware_host.sources.replay import ReplaySource
from firmware_host.vocabulary import STAGES
from tests.fuzz.strategies import batch, byte_edits, mutate

#: Reads per example (a damaged header may announce years of samples).
MAX_READS = 6
edits = byte_edits(1 << 16, 8, 3)
#: EDF header fields as (offset, width) for the file written below (2 signals + annotations).
N_SIG = 3
FIELDS = [(168, 8), (176, 8), (184, 8), (236, 8), (244, 8), (252, 4),
          *((256 + N_SIG * off + i * w, w) for off, w in ((0, 16), (96, 8), (104, 8), (112, 8),
                                                          (120, 8), (128, 8), (216, 8))
            for i in range(N_SIG))]
field_text = st.one_of(st.sampled_from(["0", "-1", "1e309", "nan", "inf", "99999999", "", "x",
                                        "0.000001", "-0", "1e-320", "8" * 8]),
                       st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=8))


def _set_field(raw: bytes, field: int, text: str) -> bytes:
    at, width = FIELDS[field % len(FIELDS)]
    return raw[:at] + text.encode("ascii")[:width].ljust(width) + raw[at + width:]


@pytest.fixture(scope="module")
def files(scratch) -> dict[str, bytes]:
    """The valid files every example starts from."""
    t = np.arange(300) / 100.0
    edf = scratch / "valid.edf"
    Edf([EdfSignal(40 * np.sin(2 * np.pi * 10 * t), 100.0, label="C3-M2", physical_dimension="uV",
                   physical_range=(-500, 500)),
         EdfSignal(np.linspace(90, 99, 3), 1.0, label="SaO2", physical_dimension="%")],
        annotations=[EdfAnnotation(0.0, 30.0, "Sleep stage 2"), EdfAnnotation(30.0, 30.0,
                                                                             "Sleep stage W")],
        ).write(edf)
    lay = board_layout(resolve_board("SYNTHETIC_BOARD"))
    data = np.zeros((lay.n_rows, 50))
    data[lay.package_row] = np.arange(50) % 256
    data[lay.marker_row, 7] = 1.0
    csv = scratch / "valid.csv"
    DataFilter.write_file(data, str(csv), "w")
    return {"edf": edf.read_bytes(), "csv": csv.read_bytes()}


def _replay(path) -> None:
    """Open ``path`` as a replay source and read a few chunks; only SourceError may come."""
    clock = FakeClock()
    try:
        src = ReplaySource(ReplaySourceConfig(path=str(path)), clock)
        assert src.sfreq > 0 and len(src.channel_names) == len(src.channel_types)
        src.open()
        for _ in range(MAX_READS):
            clock.advance(2.0)
            chunk = src.read()
            if chunk is not None:
                assert chunk.data.shape == (len(src.channel_names), chunk.n_samples)
            if src.finished:
                break
    except SourceError as exc:
        assert str(exc)


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.one_of(
    edits.map(lambda e: ("edit", e)),
    st.lists(st.tuples(st.integers(0, 100), field_text), min_size=1, max_size=3).map(
        lambda f: ("fields", f)),
    st.binary(max_size=600).map(lambda b: ("bytes", b)),
)))
def test_edf_replay_files(scratch, files, cases):
    for case in cases:
        _edf_replay_files(scratch, files, case)


def _edf_replay_files(scratch, files, case) -> None:
    kind, arg = case
    raw = files["edf"]
    if kind == "edit":
        raw = mutate(raw, arg)
    elif kind == "fields":
        for field, text in arg:
            raw = _set_field(raw, field, text)
    else:
        raw = arg
    path = scratch / "replay.edf"
    path.write_bytes(raw)
    _replay(path)

@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.one_of(
    edits.map(lambda e: ("edit", e)),
    st.lists(st.sampled_from(["nan", "inf", "-1e308", "x", "", "\t\t", "1e999"]), min_size=1,
             max_size=3).map(lambda w: ("words", w)),
    st.binary(max_size=300).map(lambda b: ("bytes", b)),
)))
def test_brainflow_replay_files(scratch, files, cases):
    for case in cases:
        _brainflow_replay_files(scratch, files, case)


def _brainflow_replay_files(scratch, files, case) -> None:
    kind, arg = case
    raw = files["csv"]
    if kind == "edit":
        raw = mutate(raw, arg)
    elif kind == "words":  # junk where numbers were
        cells = raw.split(b"\t")
        for i, word in enumerate(arg):
            cells[(i * 37) % len(cells)] = word.encode()
        raw = b"\t".join(cells)
    else:
        raw = arg
    path = scratch / "replay.csv"
    path.write_bytes(raw)
    _replay(path)

dreams_codes = st.one_of(st.sampled_from(["5", "4", "-1", "nan", "inf", "-inf", "1e400", "7", ""]),
                         st.text(max_size=6))
text_labels = st.one_of(st.sampled_from(["W", "N1", "N2", "N3", "REM", "?", "S4", "#", "N5"]),
                        st.text(max_size=6))


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.one_of(
    st.lists(dreams_codes, max_size=12).map(lambda c: ("txt", "[Hypnogram]\n" + "\n".join(c))),
    st.lists(text_labels, max_size=12).map(lambda c: ("txt", "\n".join(c))),
    st.tuples(st.integers(0, 100), field_text).map(lambda f: ("edf-field", f)),
    edits.map(lambda e: ("edf-edit", e)),
    st.binary(max_size=300).map(lambda b: ("txt-bytes", b)),
)))
def test_hypnogram_files(scratch, files, cases):
    for case in cases:
        _hypnogram_files(scratch, files, case)


def _hypnogram_files(scratch, files, case) -> None:
    kind, arg = case
    if kind == "txt":
        path = scratch / "hypnogram.txt"
        path.write_text(arg, encoding="utf-8", errors="surrogatepass")
    elif kind == "txt-bytes":
        path = scratch / "hypnogram.txt"
        path.write_bytes(arg)
    else:
        path = scratch / "hypnogram.edf"
        path.write_bytes(_set_field(files["edf"], *arg) if kind == "edf-field"
                         else mutate(files["edf"], arg))
    try:
        stages = load_hypnogram(path, max_edge_wake_s=3600.0 if kind == "txt" else None)
    except HypnogramError as exc:
        assert str(path) in str(exc) or "hypnogram" in str(exc)
        return
    assert stages and set(stages) <= set(STAGES)
