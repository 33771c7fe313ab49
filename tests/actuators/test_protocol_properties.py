"""Property tests of both wire protocols: round-trips, resynchronisation, error detection.

Arbitrary bytes to every parser (both links, both directions) are fuzzed under the fuzz
budget in ``tests/fuzz/test_wire_protocol_fuzz.py``.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from actuators import hand_protocol as hp
from actuators import mattress_protocol as mp
from actuators.protocol import MAX_PAYLOAD, SOF, Frame, FrameParser, ProtocolError
from actuators.vocabulary import GRIP_PATTERNS, VIBRATION_PATTERNS

MANY = settings(max_examples=10_000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=300, deadline=None)

frames = st.builds(Frame, type=st.integers(0, 255), seq=st.integers(0, 255),
                   payload=st.binary(max_size=MAX_PAYLOAD))
hand_frames = st.builds(hp.HandFrame, cmd=st.integers(0, 255), seq=st.integers(0, 255),
                        payload=st.binary(max_size=hp.MAX_BODY - 4),
                        addr=st.integers(0, 255))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, prev = [], 0
    for p in points:
        out.append(data[prev:p])
        prev = p
    out.append(data[prev:])
    return out


# --- framing (arbitrary bytes to every parser: tests/fuzz/test_wire_protocol_fuzz.py) ----
@MANY
@given(kind=st.integers(0, 255), seq=st.integers(0, 255), addr=st.integers(0, 255),
       payload=st.binary(max_size=MAX_PAYLOAD))
def test_any_valid_frame_round_trips(kind, seq, addr, payload):
    frame = Frame(kind, seq, payload)
    assert FrameParser().feed(frame.encode()) == [frame]
    hand = hp.HandFrame(kind, seq, payload[:hp.MAX_BODY - 4], addr)
    assert hp.HandFrameParser().feed(hand.encode()) == [hand]


@SOME
@given(data=st.lists(st.binary(max_size=80), max_size=8),
       mixed=st.lists(frames, max_size=3))
def test_any_chunks_never_raise_and_flush_empties(data, mixed):
    p = FrameParser()
    for chunk in data + [f.encode() for f in mixed]:
        for item in p.feed(chunk):
            assert isinstance(item, Frame | ProtocolError)
    assert all(isinstance(e, ProtocolError) for e in p.flush())
    assert p.pending == 0


@SOME
@given(fs=st.lists(frames, min_size=1, max_size=5), cuts=st.lists(st.integers(0, 10_000)))
def test_parsing_is_chunking_invariant(fs, cuts):
    wire = b"".join(f.encode() for f in fs)
    p = FrameParser()
    got = [x for chunk in split(wire, cuts) for x in p.feed(chunk)]
    assert got == fs


@SOME
@given(junk=st.binary(max_size=100).filter(lambda b: SOF not in b), frame=frames)
def test_resync_after_garbage(junk, frame):
    out = FrameParser().feed(junk + frame.encode())
    assert out[-1] == frame
    assert all(isinstance(x, ProtocolError) and x.kind == "garbage" for x in out[:-1])


@settings(max_examples=1_000, deadline=None, derandomize=True)
@given(frame=frames, bit=st.integers(0, 10_000))
def test_single_bit_errors_never_yield_a_wrong_frame(frame, bit):
    wire = bytearray(frame.encode())
    wire[(bit // 8) % len(wire)] ^= 1 << (bit % 8)
    p = FrameParser()
    out = p.feed(bytes(wire)) + p.flush()
    assert [x for x in out if isinstance(x, Frame)] == []


def test_resync_after_corrupted_frame():
    good = Frame(mp.MSG_ACK, 9, b"\x01")
    bad = bytearray(Frame(mp.MSG_STATUS, 3, bytes(20)).encode())
    bad[5] ^= 0xFF
    out = FrameParser().feed(bytes(bad) + good.encode())
    assert out[-1] == good
    assert any(isinstance(x, ProtocolError) and x.kind == "bad_crc" for x in out)


def test_oversized_length_is_a_defined_error():
    out = FrameParser().feed(bytes((SOF, MAX_PAYLOAD + 1, 0, 0)))
    assert isinstance(out[0], ProtocolError) and out[0].kind == "bad_length"


def test_frame_rejects_bad_fields():
    with pytest.raises(ValueError, match="0..255"):
        Frame(300, 0)
    with pytest.raises(ValueError, match="at most 64"):
        Frame(1, 0, bytes(65))


# --- mattress messages -----------------------------------------------------------------
mattress_commands = st.one_of(
    st.builds(lambda z, d: ("set_elevation", {"zone": z, "degrees": d}),
              st.sampled_from(mp.ELEVATION_ZONES), st.floats(0, 45)),
    st.builds(lambda z, lv: ("set_firmness", {"zone": z, "level": lv}),
              st.sampled_from(mp.FIRMNESS_ZONES), st.integers(0, 100)),
    st.builds(lambda c: ("set_temperature", {"celsius": c}), st.floats(15, 40)),
    st.builds(lambda i, p: ("set_vibration", {"intensity": i, "pattern": p}),
              st.integers(0, 100), st.sampled_from(VIBRATION_PATTERNS)),
    st.just(("stop", {})),
)


@SOME
@given(command=mattress_commands)
@example(command=("set_elevation", {"zone": "head", "degrees": 0.375}))  # 37.5 → 38 centi-units
def test_mattress_command_round_trips(command):
    action, params = command
    values = mp.decode_command(mp.encode_command(action, params))
    assert values.pop("action") == action
    mp.validate_command({"action": action, **values})
    for key, v in params.items():
        # centi-units on the wire: off by at most half a step (0.005), plus float rounding
        assert values[key] == (pytest.approx(v, abs=0.005 + 1e-9) if isinstance(v, float) else v)


@SOME
@given(st.data())
def test_mattress_status_round_trips(data):
    s = mp.MattressStatus(
        head_deg=data.draw(st.integers(0, 6000)) / 100,
        feet_deg=data.draw(st.integers(0, 4500)) / 100,
        head_target_deg=data.draw(st.integers(0, 6000)) / 100,
        feet_target_deg=data.draw(st.integers(0, 4500)) / 100,
        flags=data.draw(st.integers(0, 15)),
        firmness=tuple(data.draw(st.lists(st.integers(0, 100), min_size=3, max_size=3))),
        temperature_c=data.draw(st.integers(1000, 4500)) / 100,
        target_temperature_c=data.draw(st.none() | st.integers(1500, 4000).map(lambda v: v / 100)),
        vibration_intensity=data.draw(st.integers(0, 100)),
        vibration_pattern=data.draw(st.sampled_from(VIBRATION_PATTERNS)),
        fault_bits=data.draw(st.integers(0, 15)), boot_count=data.draw(st.integers(0, 65535)))
    assert mp.MattressStatus.decode(s.encode()) == s


# --- hand framing ----------------------------------------------------------------------
@SOME
@given(fs=st.lists(hand_frames, min_size=1, max_size=5), cuts=st.lists(st.integers(0, 10_000)),
       junk=st.binary(max_size=40))
def test_hand_parsing_is_chunking_invariant_after_junk(fs, cuts, junk):
    wire = junk + b"".join(f.encode() for f in fs)
    p = hp.HandFrameParser()
    got = [x for chunk in split(wire, cuts) for x in p.feed(chunk)]
    assert [x for x in got if isinstance(x, hp.HandFrame)][-len(fs):] == fs


@settings(max_examples=1_000, deadline=None, derandomize=True)
@given(frame=hand_frames, bit=st.integers(0, 10_000))
def test_hand_single_bit_error_in_a_plain_byte_is_detected(frame, bit):
    wire = bytearray(frame.encode())
    i = 1 + (bit // 8) % (len(wire) - 2)
    flipped = wire[i] ^ (1 << (bit % 8))
    if hp.FLAG in (wire[i], flipped) or hp.ESC in (wire[i], flipped) or wire[i - 1] == hp.ESC:
        return  # framing/escape bytes change the frame structure: covered elsewhere
    wire[i] = flipped
    out = hp.HandFrameParser().feed(bytes(wire))
    assert [x for x in out if isinstance(x, hp.HandFrame)] == []


def test_hand_stuffing_escapes_flag_and_escape_bytes():
    f = hp.HandFrame(hp.CMD_GRIP, 0x7E, bytes((0x7D, 0x7E, 0x00)))
    wire = f.encode()
    assert hp.FLAG not in wire[1:-1]
    assert hp.HandFrameParser().feed(wire) == [f]


def test_hand_parser_errors_are_defined():
    p = hp.HandFrameParser()
    out = p.feed(b"\x01\x02\x7e\x50\x7e\x50\x10\x00\x00\x7e\x50\x7d\x7e" + bytes(120) + b"\x7e")
    kinds = [x.kind for x in out if isinstance(x, ProtocolError)]
    assert kinds == ["garbage", "too_short", "bad_checksum", "bad_escape", "too_long"]


# --- hand messages ---------------------------------------------------------------------
unit = st.floats(0, 1)
hand_commands = st.one_of(
    st.builds(lambda p, s, f: ("grip", {"pattern": p, "speed": s, "force": f}),
              st.sampled_from(GRIP_PATTERNS), unit, unit),
    st.builds(lambda pos, s, f: ("set_fingers", {"positions": pos, "speed": s, "force": f}),
              st.lists(st.floats(0, 100), min_size=6, max_size=6), unit, unit),
    st.just(("stop", {})),
)


@SOME
@given(command=hand_commands)
@example(command=("set_fingers", {"positions": [0.0] * 5 + [0.375], "speed": 0.5, "force": 0.5}))
def test_hand_command_round_trips(command):
    action, params = command
    values = hp.decode_command(*hp.encode_command(action, params))
    assert values.pop("action") == action
    for key, v in params.items():
        if key == "positions":
            # centi-degrees on the wire: half a step (0.005) plus float rounding
            assert values[key] == pytest.approx(v, abs=0.005 + 1e-9)
        elif key == "pattern":
            assert values[key] == v
        else:
            assert values[key] == pytest.approx(v, abs=0.5 / 255 + 1e-9)


@SOME
@given(payload=st.binary(min_size=hp.REPLY_STRUCT.size, max_size=hp.REPLY_STRUCT.size))
def test_hand_reply_decode_encode(payload):
    r = hp.HandReply.decode(payload)
    if all(v <= 10000 for v in struct.unpack(">6H", payload[4:16])):
        assert r.encode() == payload
    assert len(r.contacts) == 6 and isinstance(r.grip_name, str)
