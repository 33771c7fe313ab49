"""Hostile reply bytes to the control client: only its defined errors come out.

The client's reply parser (:func:`~firmware_host.control.client.decode_reply`) gets any
line; a real :class:`~firmware_host.control.client.ControlClient` on a real Unix socket gets
any byte stream (framing) and any reply to each of its requests (typed accessors), from a
scripted server thread, under the fuzz budget. ``somnoloop status`` on a junk reply prints
one line and exits with code 2.
"""

from __future__ import annotations

import json
import queue
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_host.cli import main
from firmware_host.control import protocol as P
from firmware_host.control.client import MAX_REPLY_BYTES, BadReply, ControlClient, ControlError, decode_reply
from tests.fuzz.strategies import batch, byte_edits, junk, mutate

STATE = {"type": "state", "id": "@ID@", "run": {"config": "default", "speed": 4.0}, "t": 12.5,
         "data_s": 50.0, "healthy": True, "stage": "N2",
         "stage_probabilities": {"W": 0.05, "N1": 0.1, "N2": 0.7, "N3": 0.1, "REM": 0.05},
         "hypnogram": ["W", "N1"], "epoch_s": 30.0, "grip": {"label": "rest", "force": 0.0},
         "actuators": {"mattress": {"commanded": {"last": {"action": "set", "sent": {"zone": 1},
                                                           "outcome": "ok"}}, "lost": False}},
         "alarms": [{"code": "held_safe", "priority": "medium", "acknowledged": False}],
         "channels": [{"name": "Cz", "type": "eeg", "flags": ["clipped"], "ptp_uv": 0.0,
                       "envelope": {"lo_uv": 0.0, "step_uv": 0.0, "min": [0, -1], "max": [0, -1]}}],
         "loop_latency_ms": 1.5, "loop_latency_max_ms": 4.0, "cpu_percent": 9.0}
#: One valid reply of each kind the server sends; ``"@ID@"`` stands for the request's id.
REPLIES = [
    STATE,
    {"type": "hello", "id": "@ID@", "version": 1, "server": "somnoloop", "client": "fz@1",
     "controller": None, "ops": sorted(P.OPS), "limits": {"rate_hz": [0.1, 10.0]}},
    {"type": "params", "id": "@ID@", "params": [{"key": "stager.flat_uv", "type": "float",
                                                 "min": 0.0, "max": None, "mode": "live",
                                                 "value": 1.0}]},
    {"type": "value", "id": "@ID@", "key": "stager.flat_uv", "value": 1.0, "mode": "live"},
    {"type": "result", "id": "@ID@", "op": "set", "result": {"key": "k", "old": 1, "new": 2}},
    {"type": "error", "id": "@ID@", "code": "refused", "error": "1.5 is above the maximum"},
    {"type": "control", "id": "@ID@", "controller": "fz@1"},
    {"type": "closed", "reason": "duration reached"},
]
TEMPLATES = [P.encode(r).rstrip(b"\n") for r in REPLIES]


def _broken(reply: dict, key: str, value: object, drop: bool) -> bytes:
    """``reply`` with ``key`` removed or set to ``value`` (a wrong type, NaN, junk …)."""
    out = {k: v for k, v in reply.items() if k != key} if drop else {**reply, key: value}
    return json.dumps(out, ensure_ascii=False).encode("utf-8", "surrogatepass")


unicode_junk = st.text(st.characters(categories=["Cs", "Co", "Cc", "Zl", "So"]), max_size=8)
structured = st.builds(
    lambda reply, key, value, drop: _broken(reply, key, value, drop),
    st.sampled_from(REPLIES), st.sampled_from(sorted({k for r in REPLIES for k in r})),
    junk | unicode_junk | st.dictionaries(st.text(max_size=4), junk, max_size=3), st.booleans())
lines = st.one_of(
    st.binary(max_size=200),
    st.builds(mutate, st.sampled_from(TEMPLATES), byte_edits(2000, 8, 4)),
    structured,
    junk.map(lambda v: json.dumps(v).encode()),  # not an object; NaN and Infinity as JSON spells them
    unicode_junk.map(lambda t: json.dumps({"type": t, "x": t}).encode("utf-8", "surrogatepass")),
    st.integers(1, 5000).map(lambda n: b'{"type":"state","x":' + b"[" * n + b"]" * n + b"}"),
    st.integers(4000, 6000).map(lambda n: b'{"type":"state","data_s":' + b"9" * n + b"}"),
)


class ScriptedServer:
    """A Unix socket whose server thread answers every request line with the next planned bytes.

    ``hello`` gets a valid hello reply; any other request gets the next item of
    :attr:`plan` with ``"@ID@"`` replaced by the request's id, a newline, and then either a
    closed connection (``close_after``) or an error reply ``fuzz_end`` with that id, so a
    request never waits for its timeout.
    """

    def __init__(self, path: Path, close_after: bool) -> None:
        self.path = path
        self.close_after = close_after
        self.plan: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(4)
        self.thread = threading.Thread(target=self._serve, name="scripted-server", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed: the test is over
                return
            with conn, conn.makefile("rb") as requests:
                for line in requests:
                    req = json.loads(line)
                    rid = json.dumps(req.get("id")).encode()
                    if req.get("op") == "hello":
                        conn.sendall(P.encode({**REPLIES[1], "id": req.get("id")}))
                        continue
                    conn.sendall(self.plan.get(timeout=10).replace(b'"@ID@"', rid) + b"\n")
                    if self.close_after:
                        break
                    conn.sendall(b'{"type":"error","id":' + rid + b',"code":"fuzz_end","error":"end"}\n')

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def sock_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="slcf", dir="/tmp"))  # Unix socket paths are short
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def scripted(sock_dir) -> Iterator[tuple[ScriptedServer, ControlClient]]:
    server = ScriptedServer(sock_dir / "replies.sock", close_after=False)
    client = ControlClient(server.path, name="fz", timeout_s=10.0)
    yield server, client
    client.close()
    server.close()


@pytest.fixture(scope="module")
def stream(sock_dir) -> Iterator[tuple[socket.socket, ControlClient]]:
    """A client whose connection the test writes to directly (after the hello)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_dir / "stream.sock"))
    listener.listen(1)
    peers: list[socket.socket] = []
    hello = threading.Thread(target=_answer_hello, args=(listener, peers), daemon=True)
    hello.start()
    client = ControlClient(sock_dir / "stream.sock", name="fz", timeout_s=10.0)
    hello.join()
    yield peers[0], client
    client.close()
    peers[0].close()
    listener.close()


def _answer_hello(listener: socket.socket, peers: list[socket.socket]) -> None:
    peer, _ = listener.accept()
    with peer.makefile("rb") as requests:
        req = json.loads(requests.readline())
    peer.sendall(P.encode({**REPLIES[1], "id": req["id"]}))
    peers.append(peer)


@settings(settings.get_profile("fuzz-batch"))
@given(batch_of_lines=batch(lines))
def test_any_reply_line_parses_to_a_typed_message_or_raises_bad_reply(batch_of_lines):
    for line in batch_of_lines:
        try:
            msg = decode_reply(line)
        except BadReply as exc:
            assert exc.code == "bad_reply" and str(exc)
            continue
        assert isinstance(msg, dict) and isinstance(msg["type"], str)
        json.dumps(msg, allow_nan=False).encode("utf-8")  # strict JSON, Unicode text


SENTINEL = b'{"type":"sentinel"}\n'


@settings(settings.get_profile("fuzz-batch"))
@given(streams=batch(st.lists(lines, min_size=1, max_size=3).map(b"\n".join)))
def test_any_byte_stream_gives_messages_or_bad_reply_and_the_connection_reads_on(stream, streams):
    peer, client = stream
    for data in streams:
        peer.sendall(data + b"\n" + SENTINEL)  # the sentinel starts a line of its own
        expected = data.count(b"\n") + 1
        seen = 0
        while True:
            try:
                msg = client.read_message(10.0)
            except BadReply as exc:
                assert str(exc)
                seen += 1
                continue
            assert msg is not None, "the client lost the stream"
            if msg == {"type": "sentinel"}:
                break
            assert isinstance(msg["type"], str)
            seen += 1
        assert seen == expected


def _accessors(client: ControlClient) -> list[Callable[[], object]]:
    return [client.status, client.params, lambda: client.get("stager.flat_uv"), client.take_control,
            lambda: client.set("stager.flat_uv", 2.0), client.undo, client.save,
            lambda: client.request({"op": "subscribe"})]


@settings(settings.get_profile("fuzz-batch"))
@given(cases=batch(st.tuples(st.integers(0, 7), lines)))
def test_any_reply_to_a_request_returns_its_typed_value_or_raises_control_error(scripted, cases):
    server, client = scripted
    for which, reply in cases:
        server.plan.put(reply)
        try:
            value = _accessors(client)[which]()
        except BadReply as exc:
            assert str(exc)
            continue
        except ControlError as exc:  # an error reply (the planned one or the fuzz_end marker)
            assert isinstance(exc.code, str) and isinstance(str(exc), str)
            continue
        if which == 0:
            assert value["type"] == "state" and isinstance(value.get("data_s", 0.0), int | float)
        elif which == 1:
            assert isinstance(value, list)
        elif which in (4, 5, 6):
            assert isinstance(value, dict)


def test_an_over_long_reply_line_is_refused_and_skipped(stream):
    peer, client = stream
    writer = threading.Thread(target=peer.sendall,
                              args=(b'{"type":"state","x":"' + b"y" * MAX_REPLY_BYTES + b'"}\n' + SENTINEL,))
    writer.start()
    with pytest.raises(BadReply, match=f"longer than {MAX_REPLY_BYTES} bytes"):
        client.read_message(10.0)
    assert client.read_message(10.0) == {"type": "sentinel"}  # the rest of the long line is gone
    writer.join()


JUNK_STATUS = [
    b"garbage\xff\xfe", b'{"type":"state","id":"@ID@","data_s":', b"[1, 2, 3]", b'"state"',
    b'{"id":"@ID@","data_s":1}', b'{"type":"state","id":"@ID@","data_s":NaN}',
    b'{"type":"state","id":"@ID@","data_s":"50"}', b'{"type":"state","id":"@ID@","hypnogram":[1]}',
    b'{"type":"state","id":"@ID@","stage":"\\ud800"}', b'{"type":"state","id":"@ID@","alarms":{}}',
    b'{"type":"error","id":"@ID@","code":7,"error":null}', b'{"type":"params","id":"@ID@"}',
    b'{"type":"state","id":"@ID@","data_s":' + b"9" * 5000 + b"}",
]


@pytest.fixture(scope="module")
def status_server(sock_dir) -> Iterator[ScriptedServer]:
    server = ScriptedServer(sock_dir / "status.sock", close_after=True)
    yield server
    server.close()
    (sock_dir / "status.sock").unlink()


def _status(server: ScriptedServer, reply: bytes, capsys) -> tuple[int, str, str]:
    server.plan.put(reply)
    code = main(["status", "--socket", str(server.path)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("reply", JUNK_STATUS, ids=range(len(JUNK_STATUS)))
def test_somnoloop_status_on_a_junk_reply_prints_one_line_and_exits_2(status_server, reply, capsys):
    code, out, err = _status(status_server, reply, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"somnoloop status: error: {status_server.path}: ")
    assert "Traceback" not in err


def test_somnoloop_status_prints_server_text_literally(status_server, capsys):
    reply = P.encode({**STATE, "stage": "[bold]N2", "actuators": {"[/x]": {"commanded": [1]}}})
    code, out, err = _status(status_server, reply.rstrip(b"\n"), capsys)
    assert code == 0 and err == ""
    assert "stage [bold]N2" in out and "[/x]: commanded —" in out


@settings(settings.get_profile("fuzz"), max_examples=min(300, settings.get_profile("fuzz").max_examples),
          suppress_health_check=[*settings.get_profile("fuzz").suppress_health_check,
                                 HealthCheck.function_scoped_fixture])
@given(reply=lines)
def test_somnoloop_status_on_any_reply_exits_0_or_2_with_one_line(status_server, reply, capsys):
    code, out, err = _status(status_server, reply, capsys)
    assert code in (0, 2) and "Traceback" not in err
    assert (code, err.count("\n")) in ((0, 0), (2, 1)), err
