"""The control protocol's wire format: newline-delimited JSON, versioned (see PROTOCOL.md)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from firmware_host.errors import UsageError

#: Protocol version, sent in the ``hello`` reply; a client asking another major version is refused.
VERSION = 1
#: Largest request line (bytes, newline included); a longer one is an error and the connection closes.
MAX_REQUEST_BYTES = 64 * 1024
#: Deepest nesting of arrays and objects in a request (its ``id`` and ``value`` included).
MAX_DEPTH = 32
#: Seconds a started request line may take to arrive whole; then an error and the connection closes.
REQUEST_TIMEOUT_S = 2.0
#: Bytes of replies a client may leave unread before it is disconnected (a stuck watcher).
MAX_PENDING_OUT = 4 * 1024 * 1024
#: Connected clients at once (watchers included); more are refused at connect.
MAX_CLIENTS = 16
#: Longest socket path (bytes): Linux keeps 108 for it, the last for a terminating NUL.
MAX_SOCKET_PATH_BYTES = 107
#: Subscription rates allowed (Hz).
MIN_RATE_HZ, MAX_RATE_HZ = 0.1, 10.0
#: Time bases of live traces allowed (seconds), and the default (what version 1 clients got).
MIN_SPAN_S, MAX_SPAN_S, DEFAULT_SPAN_S = 1.0, 30.0, 8.0
#: Trace columns per channel allowed, and the default.
MIN_POINTS, MAX_POINTS, DEFAULT_POINTS = 10, 400, 100
#: Requests and what they do (``control`` = only the client holding control may send it).
OPS: dict[str, str] = {
    "hello": "version handshake",
    "subscribe": "live state at a chosen rate",
    "unsubscribe": "stop the live state",
    "status": "one state message",
    "params": "every parameter with type, range, unit, doc and whether it is live",
    "get": "one parameter's value",
    "take_control": "become the controlling client",
    "release_control": "give control up",
    "set": "(control) change a live parameter",
    "undo": "(control) revert the last change",
    "save": "(control) write the changes to the override file",
    "safe_state": "(control) every actuator to its safe state",
    "ack_alarm": "(control) acknowledge an active alarm",
}
CONTROL_OPS = ("set", "undo", "save", "safe_state", "ack_alarm")


class ProtocolError(Exception):
    """A request that cannot be served; ``code`` is one of the documented error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def encode(message: dict[str, Any]) -> bytes:
    """One message as a JSON line (NaN and ±inf become ``null``: strict JSON)."""
    return (json.dumps(_finite(message), separators=(",", ":"), default=str) + "\n").encode()


def _depth(obj: Any) -> int:
    """Nesting depth of a decoded JSON value (iterative: any depth is measured safely)."""
    deepest, todo = 0, [(obj, 0)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            todo.extend((v, depth) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def decode_request(line: bytes) -> dict[str, Any]:
    """Parse one request line into a dict with a known ``op``.

    Raises
    ------
    ProtocolError
        ``bad_json`` (not JSON, not an object, nested deeper than :data:`MAX_DEPTH`, or an
        integer longer than Python converts), ``bad_request`` (no or unknown ``op``).
    """
    try:
        msg = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: JSON errors too
        raise ProtocolError("bad_json", f"not a JSON line: {str(exc)[:200]}") from None
    if not isinstance(msg, dict):
        raise ProtocolError("bad_json", f"a request is a JSON object, got {type(msg).__name__}")
    if _depth(msg) > MAX_DEPTH:
        raise ProtocolError("bad_json", f"a request may nest arrays and objects {MAX_DEPTH} deep "
                            "at most")
    op = msg.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise ProtocolError("bad_request", f"unknown op {str(op)[:60]!r}; allowed: {sorted(OPS)}")
    return msg


def error(code: str, message: str, req_id: Any = None) -> dict[str, Any]:
    """An error reply."""
    return {"type": "error", "id": req_id, "code": code, "error": message}


def check_socket_path(path: Path, flag: str) -> None:
    """Refuse a socket path the kernel cannot bind or reach.

    Raises
    ------
    UsageError
        Naming ``flag``, the path, its length and the limit.
    """
    n = len(os.fsencode(str(path)))
    if n > MAX_SOCKET_PATH_BYTES:
        raise UsageError(f"{flag} {path}: {n} bytes long; allowed: at most {MAX_SOCKET_PATH_BYTES} "
                         "bytes (a Unix socket's path limit) — choose a shorter path")
