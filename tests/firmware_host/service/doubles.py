"""Test doubles for the service tests: a notification socket the test owns, a fake run."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from firmware_host.clock import FakeClock
from firmware_host.events import ListSink


class NotifySocket:
    """A bound ``AF_UNIX``/``SOCK_DGRAM`` socket standing in for systemd's notify socket."""

    def __init__(self, address: str | bytes, env_value: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.0)
        self.env_value = env_value

    def messages(self) -> list[dict[str, str]]:
        """Every datagram received so far, parsed into ``{KEY: value}``."""
        out = []
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return out
            out.append(dict(line.split("=", 1) for line in data.decode().split("\n")))


class FakeRun:
    """What observers may use of the lead's ``Run``: session dir, config, recorder, clock, fault."""

    def __init__(self, session_dir: Path | None = None, clock: FakeClock | None = None) -> None:
        self.session_dir = session_dir
        self.config: Any = None
        self.recorder = ListSink()
        self.clock = clock or FakeClock()
        self.faults: list[tuple[str, BaseException]] = []

    def fault(self, where: str, exc: BaseException) -> None:
        """Keep the fault (the real run journals it)."""
        self.faults.append((where, exc))
        self.recorder.emit("fault", {"where": where, "error": f"{type(exc).__name__}: {exc}"})
