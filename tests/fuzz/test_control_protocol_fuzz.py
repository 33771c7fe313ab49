"""Hostile request lines to the control socket: every line gets one documented reply.

Each example goes to the request parser (:func:`firmware_host.control.protocol.decode_request`)
and to the server's request handling (``ControlServer._handle_line``: op dispatch, field
checks, parameter look-up), in process, under the fuzz budget; a handful of the nastiest
lines also go through a real socket of a running loop, which must still answer afterwards.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_host.config import parse_config
from firmware_host.control import protocol as P
from firmware_host.control.changes import ChangeManager
from firmware_host.control.params import param_specs
from firmware_host.control.server import ControlServer, _Client
from tests.fuzz.strategies import batch, junk

#: The error codes PROTOCOL.md documents (its "Codes:" paragraph).
_DOC = (Path(P.__file__).parent / "PROTOCOL.md").read_text(encoding="utf-8")
CODES = set(re.findall(r"`(\w+)`", _DOC.split("Codes:", 1)[1].split("\n\n", 1)[0]))
CFG = parse_config({})
KEYS = [s.key for s in param_specs(CFG)]

keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=30),
                 st.sampled_from(KEYS).map(lambda k: k + ".x"),
                 st.sampled_from(KEYS).map(lambda k: k.rsplit(".", 1)[0]),
                 st.sampled_from(["", ".", "..", "programme.rules.999.trigger", "safety",
                                  "programme.rules.-1.name", "stager.__class__", "__dict__"]))
fields = st.fixed_dictionaries({}, optional={
    "id": junk, "key": keys | junk, "value": junk, "version": junk,
    "name": junk, "rate_hz": junk, "points": junk, "traces": junk, "span_s": junk, "envelope": junk,
    "code": junk})
requests = st.builds(lambda op, rest: {"op": op, **rest},
                     st.sampled_from(sorted(P.OPS)) | junk, fields)
deep = st.integers(1, 5000).flatmap(lambda n: st.sampled_from([
    '{"op":"hello","id":' + "[" * n + "]" * n + "}",
    '{"op":"get","key":"a","id":' + '{"a":' * n + "1" + "}" * n + "}"]))
lines = st.one_of(
    st.binary(max_size=200),
    requests.map(lambda m: json.dumps(m).encode()),
    junk.map(lambda v: json.dumps(v).encode()),
    deep.map(str.encode),
    st.integers(4000, 6000).map(lambda n: ('{"op":"get","key":' + "9" * n + "}").encode()),
)


@pytest.fixture(scope="module")
def server():
    srv = ControlServer("/nonexistent/control.sock", CFG)
    srv.changes = ChangeManager(None, CFG, CFG, None)
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield srv, _Client(a, "fuzz"), b
    a.close()
    b.close()


def _replies(client: _Client, peer: socket.socket) -> list[dict]:
    data = b""
    try:  # what the server sent, then what it still holds for a slow reader
        while chunk := peer.recv(1 << 20):
            data += chunk
    except BlockingIOError:
        pass
    data += bytes(client.outbuf)
    client.outbuf.clear()
    return [json.loads(line) for line in data.splitlines()]


@settings(settings.get_profile("fuzz-batch"))
@given(batch_of_lines=batch(lines))
def test_any_request_line_gets_one_defined_reply(server, batch_of_lines):
    for line in batch_of_lines:
        _one_line(server, line)


def _one_line(server, line: bytes) -> None:
    try:  # the parser alone: a request with a known op, or a ProtocolError
        assert P.decode_request(line)["op"] in P.OPS
    except P.ProtocolError as exc:
        assert exc.code in ("bad_json", "bad_request") and exc.message
    srv, client, peer = server
    srv._controller = None  # a take_control must not carry over to the next example
    srv._status_waiting.clear()
    srv._handle_line(client, line)
    replies = _replies(client, peer)
    if srv._status_waiting:  # 'status' is answered later, by the I/O thread's publisher
        assert replies == []
        return
    assert len(replies) == 1
    reply = replies[0]
    assert isinstance(reply.get("type"), str)
    if reply["type"] == "error":
        assert reply["code"] in CODES and reply["error"]


HOSTILE = [
    b'{"op": []}', b'{"op": {"a": 1}}', b"\xff\xfe{", b"[" * 60_000,
    b'{"op":"hello","id":' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"op":"get","key":' + b"9" * 5000 + b"}", b'{"op":"get","key":"programme.rules.99.x"}',
    b'{"op":"subscribe","rate_hz":NaN}', b'"op"', b'{"op":"set","key":"stager.flat_uv"}',
]


def test_hostile_lines_through_a_real_socket_leave_the_server_serving(tmp_path):
    from tests.firmware_host.control.live import live_loop

    with live_loop(tmp_path) as live:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(live.socket))
        s.settimeout(5.0)
        reader = s.makefile("rb")
        for line in HOSTILE:
            s.sendall(line + b"\n")
            reply = json.loads(reader.readline())
            assert reply["type"] == "error" and reply["code"] in CODES, (line[:40], reply)
        s.sendall(b'{"op":"hello","id":7}\n')
        assert json.loads(reader.readline())["type"] == "hello"
        s.close()
