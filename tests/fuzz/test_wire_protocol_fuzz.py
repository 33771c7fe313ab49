"""Hostile bytes on both serial links, both directions: every parser gives its defined result.

Framing parsers return frames or :class:`~actuators.protocol.ProtocolError` values (never
raise); message decoders raise only their documented error. Each test feeds one example to
every parser of one link, so each parser sees the fuzz budget (``tests/fuzz/conftest.py``).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from actuators import hand_protocol as hp
from actuators import mattress_protocol as mp
from actuators.protocol import Frame, FrameParser, ProtocolError
from tests.fuzz.strategies import batch

KINDS = {"garbage", "bad_length", "bad_crc", "truncated", "bad_checksum", "bad_escape",
         "too_short", "too_long"}
chunks = st.lists(st.binary(max_size=120), max_size=4)


def _feed(parser, pieces: list[bytes], frame_type: type) -> list:
    out = [item for piece in pieces for item in parser.feed(piece)]
    out += parser.flush() if hasattr(parser, "flush") else []
    for item in out:
        assert isinstance(item, frame_type | ProtocolError)
        if isinstance(item, ProtocolError):
            assert item.kind in KINDS and item.detail
    return out


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.tuples(
    chunks, st.binary(max_size=8),
    st.binary(min_size=mp.STATUS_STRUCT.size - 2, max_size=mp.STATUS_STRUCT.size + 1))))
def test_any_bytes_to_the_mattress_parsers(cases):
    for case in cases:
        _mattress(*case)


def _mattress(pieces: list[bytes], command: bytes, status: bytes) -> None:
    parser = FrameParser()
    _feed(parser, pieces, Frame)
    assert parser.pending == 0
    try:  # host → mattress: the firmware's command decoder
        mp.validate_command(mp.decode_command(command))
    except mp.MessageError as exc:
        assert exc.code in mp.NACK_MEANINGS
    try:  # mattress → host: the driver's STATUS decoder
        decoded = mp.MattressStatus.decode(status)
    except ValueError as exc:
        assert "status payload" in str(exc) or "vibration pattern" in str(exc)
    else:
        assert len(status) == mp.STATUS_STRUCT.size
        assert set(decoded.fault_names) <= set(mp.FAULT_BITS.values())


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.tuples(
    chunks, st.integers(0, 255), st.binary(max_size=20),
    st.binary(min_size=hp.REPLY_STRUCT.size - 2, max_size=hp.REPLY_STRUCT.size + 1))))
def test_any_bytes_to_the_hand_parsers(cases):
    for case in cases:
        _hand(*case)


def _hand(pieces: list[bytes], cmd: int, command: bytes, reply: bytes) -> None:
    out = _feed(hp.HandFrameParser(), pieces, hp.HandFrame)
    assert all(len(f.payload) <= hp.MAX_BODY - 4 for f in out if isinstance(f, hp.HandFrame))
    try:  # host → hand: the firmware's command decoder
        hp.decode_command(cmd, command)
    except hp.HandMessageError as exc:
        assert exc.code in hp.NACK_MEANINGS
    try:  # hand → host: the driver's REPLY decoder
        decoded = hp.HandReply.decode(reply)
    except ValueError as exc:
        assert "hand reply must be" in str(exc)
    else:
        assert len(reply) == hp.REPLY_STRUCT.size
        assert len(decoded.contacts) == 6 and isinstance(decoded.grip_name, str)
