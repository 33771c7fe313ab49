"""``ControlClient``: a small blocking client of the control protocol.

Used by ``somnoloop status``, ``somnoloop tune`` and the tests. Replies carry the ``id``
of their request; anything else that arrives meanwhile (live ``state`` messages) is kept
in :attr:`ControlClient.inbox` in arrival order.
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


class ControlError(Exception):
    """An error reply; ``code`` is the protocol's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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
        self._send_lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(str(self.path))
        except OSError as exc:
            self.sock.close()
            raise UsageError(f"cannot connect to {self.path} ({exc.strerror}); is a loop running "
                             "with 'somnoloop run --control-socket PATH'?") from None
        self.hello = self.request({"op": "hello", "version": P.VERSION, "name": name})

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
        ConnectionError
            The server closed the connection.
        """
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
                return json.loads(line)
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
            The reply is an error.
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
                if msg.get("type") == "error":
                    raise ControlError(msg.get("code", "error"), msg.get("error", ""))
                return msg
            self.inbox.append(msg)

    # ----------------------------------------------------------------- requests
    def status(self) -> dict[str, Any]:
        """One ``state`` message without traces."""
        return self.request({"op": "status"})

    def params(self) -> list[dict[str, Any]]:
        """Every parameter with its spec and current value."""
        return self.request({"op": "params"})["params"]

    def get(self, key: str) -> Any:
        """The current value of ``key``."""
        return self.request({"op": "get", "key": key})["value"]

    def take_control(self) -> None:
        """Become the controlling client."""
        self.request({"op": "take_control"})

    def set(self, key: str, value: Any) -> dict[str, Any]:
        """Set a live parameter; the result holds ``old`` and ``new``."""
        return self.request({"op": "set", "key": key, "value": value})["result"]

    def undo(self) -> dict[str, Any]:
        """Revert the last change."""
        return self.request({"op": "undo"})["result"]

    def save(self) -> dict[str, Any]:
        """Write the override file."""
        return self.request({"op": "save"})["result"]

    def close(self) -> None:
        """Close the connection."""
        self.sock.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
