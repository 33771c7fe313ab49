"""``ControlClient``: a small blocking client of the control protocol.

Used by ``somnoloop status``, ``somnoloop tune`` and the tests. Replies carry the ``id``
of their request; anything else that arrives meanwhile (live ``state`` messages) is kept
in :attr:`ControlClient.inbox` in arrival order. A reply line that breaks the protocol
(not UTF-8, not a strict JSON object with a ``type``, too long, or missing what its
request returns) raises :class:`BadReply` naming what was wrong; the connection stays usable.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from firmware_host.control import protocol as P
from firmware_host.errors import UsageError


def default_socket_path(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """``$RUNTIME_DIRECTORY/control.sock`` when set (the service), else ``./control.sock``."""
    runtime = environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) / "control.sock" if runtime else Path("control.sock")


#: Longest reply line accepted (bytes): the server drops a client it owes more than this.
MAX_REPLY_BYTES = P.MAX_PENDING_OUT


class ControlError(Exception):
    """An error reply; ``code`` is the protocol's error code (``bad_reply``: see :class:`BadReply`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class BadReply(ControlError):
    """A reply that breaks the protocol (raised by the client, not sent by the server)."""

    def __init__(self, message: str) -> None:
        super().__init__("bad_reply", message)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not strict JSON (the server sends null)")


def decode_reply(line: bytes) -> dict[str, Any]:
    """Parse one reply line (newline removed) into a message with a string ``type``.

    Raises
    ------
    BadReply
        The line is longer than :data:`MAX_REPLY_BYTES`, not UTF-8, not strict JSON (NaN and
        Infinity included), not an object, has no string ``type``, or holds text that is not
        Unicode (a lone surrogate escape).
    """
    if len(line) > MAX_REPLY_BYTES:
        raise BadReply(f"a reply line of {len(line)} bytes, longer than {MAX_REPLY_BYTES} bytes "
                       "(the server never sends one)")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadReply(f"a reply line that is not UTF-8 ({exc.reason} at byte {exc.start}): "
                       f"{line[:60]!r}") from None
    try:
        msg = json.loads(text, parse_constant=_no_constant)
        json.dumps(msg, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadReply(f"a reply with text that is not Unicode (a lone surrogate): {text[:60]!r}") from None
    except (ValueError, RecursionError) as exc:  # ValueError: JSON errors too
        raise BadReply(f"a reply line that is not JSON ({str(exc)[:120]}): {text[:60]!r}") from None
    if not isinstance(msg, dict):
        raise BadReply(f"a reply is a JSON object, got {type(msg).__name__}: {text[:60]!r}")
    if not isinstance(msg.get("type"), str):
        raise BadReply(f"a reply without a string 'type': {text[:60]!r}")
    return msg


_NUMBER = (int, float)
_NONE = type(None)
#: JSON types of the ``state`` keys a status display reads, and of their items (PROTOCOL.md).
STATE_SHAPE: dict[str, tuple[type | tuple[type, ...], type | tuple[type, ...] | None]] = {
    "run": (dict, None), "data_s": (_NUMBER, None), "healthy": (bool, None),
    "stage": ((str, _NONE), None), "stage_probabilities": (dict, _NUMBER), "hypnogram": (list, str),
    "epoch_s": ((*_NUMBER, _NONE), None), "grip": ((dict, _NONE), None), "actuators": (dict, dict),
    "alarms": (list, dict), "loop_latency_ms": ((*_NUMBER, _NONE), None),
    "loop_latency_max_ms": ((*_NUMBER, _NONE), None), "cpu_percent": ((*_NUMBER, _NONE), None),
}


def check_state(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` when each key of :data:`STATE_SHAPE` it has is of its type (absent keys pass).

    Raises
    ------
    BadReply
        The first key of the wrong type, or holding an item of the wrong type.
    """
    for key, (kind, item) in STATE_SHAPE.items():
        if key not in state:
            continue
        value = state[key]
        if not isinstance(value, kind):
            raise BadReply(f"state: {key!r} is a {type(value).__name__}: {str(value)[:40]!r}")
        items = value.values() if isinstance(value, dict) else value
        if item is not None and not all(isinstance(v, item) for v in items):
            bad = next(v for v in items if not isinstance(v, item))
            raise BadReply(f"state: {key!r} holds a {type(bad).__name__}: {str(bad)[:40]!r}")
    return state


def _field(reply: dict[str, Any], key: str, kind: type | tuple[type, ...] = object) -> Any:
    """``reply[key]``, checked to be a ``kind``."""
    value = reply.get(key)
    if key not in reply or not isinstance(value, kind):
        raise BadReply(f"the {reply.get('type')!r} reply has no {key!r} of the right type "
                       f"(got {type(value).__name__ if key in reply else 'nothing'})")
    return value


class ControlClient:
    """One connection to a running loop's control socket.

    Parameters
    ----------
    path
        The socket path.
    name
        Shown to the server (journalled as part of the client name).
    timeout_s
        Default wait for a reply.

    Raises
    ------
    UsageError
        Nothing listens at ``path`` (the message says how to start a loop with a socket).
    """

    def __init__(self, path: str | Path, name: str = "client", timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self.inbox: deque[dict[str, Any]] = deque(maxlen=1000)
        self._ids = itertools.count(1)
        self._buf = bytearray()
        self._scanned = 0  # bytes of _buf known to hold no newline
        self._skipping = False  # dropping the rest of an over-long line
        self._send_lock = threading.Lock()
        P.check_socket_path(self.path, "--socket")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(str(self.path))
        except OSError as exc:
            self.sock.close()
            raise UsageError(f"cannot connect to {self.path} ({exc.strerror or exc}); is a loop running "
                             "with 'somnoloop run --control-socket PATH'?") from None
        try:
            self.hello = self.request({"op": "hello", "version": P.VERSION, "name": name})
        except BaseException:
            self.sock.close()
            raise

    # ----------------------------------------------------------------- wire
    def send(self, message: dict[str, Any]) -> int:
        """Send one request (an ``id`` is added when absent); return its id."""
        msg = dict(message)
        msg.setdefault("id", next(self._ids))
        with self._send_lock:
            self.sock.sendall(json.dumps(msg).encode() + b"\n")
        return msg["id"]

    def read_message(self, timeout_s: float | None = None) -> dict[str, Any] | None:
        """The next message from the server, or ``None`` on timeout.

        Raises
        ------
        BadReply
            The next line breaks the protocol (it is consumed: the next call reads on).
        ConnectionError
            The server closed the connection.
        """
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while True:
            nl = self._buf.find(b"\n", self._scanned)
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
                self._scanned = 0
                if not self._skipping:
                    return decode_reply(line)
                self._skipping = False
                continue
            if self._skipping:
                self._buf.clear()
            elif len(self._buf) > MAX_REPLY_BYTES:
                self._buf.clear()
                self._skipping = True
                raise BadReply(f"a reply line longer than {MAX_REPLY_BYTES} bytes (the server "
                               "never sends one); skipping to its end")
            self._scanned = len(self._buf)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            if not data:
                raise ConnectionError("the control socket closed the connection")
            self._buf += data

    def request(self, message: dict[str, Any], timeout_s: float | None = None) -> dict[str, Any]:
        """Send ``message`` and return its reply (other messages go to :attr:`inbox`).

        Raises
        ------
        ControlError
            The reply is an error (:class:`BadReply`: it breaks the protocol).
        TimeoutError
            No reply in time.
        """
        req_id = self.send(message)
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while True:
            msg = self.read_message(max(0.0, deadline - time.monotonic()))
            if msg is None:
                raise TimeoutError(f"no reply to {message.get('op')} within the timeout")
            if msg.get("id") == req_id:
                if msg["type"] == "error":
                    raise ControlError(_field(msg, "code", str), _field(msg, "error", str))
                return msg
            self.inbox.append(msg)

    # ----------------------------------------------------------------- requests
    def status(self) -> dict[str, Any]:
        """One ``state`` message without traces (its keys checked by :func:`check_state`)."""
        reply = self.request({"op": "status"})
        if reply["type"] != "state":
            raise BadReply(f"status: a {reply['type']!r} reply, not 'state'")
        return check_state(reply)

    def params(self) -> list[dict[str, Any]]:
        """Every parameter with its spec and current value."""
        return _field(self.request({"op": "params"}), "params", list)

    def get(self, key: str) -> Any:
        """The current value of ``key``."""
        return _field(self.request({"op": "get", "key": key}), "value")

    def take_control(self) -> None:
        """Become the controlling client."""
        self.request({"op": "take_control"})

    def set(self, key: str, value: Any) -> dict[str, Any]:
        """Set a live parameter; the result holds ``old`` and ``new``."""
        return _field(self.request({"op": "set", "key": key, "value": value}), "result", dict)

    def undo(self) -> dict[str, Any]:
        """Revert the last change."""
        return _field(self.request({"op": "undo"}), "result", dict)

    def save(self) -> dict[str, Any]:
        """Write the override file."""
        return _field(self.request({"op": "save"}), "result", dict)

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
