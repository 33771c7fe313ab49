"""Test doubles for the service tests: a notification socket the test owns, a fake run."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock
from firmware_host.events import ListSink
from firmware_host.session import SessionRecorder


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
        self.stop_reasons: list[str] = []

    def request_stop(self, reason: str) -> None:
        """Keep the reason (the real run ends after the current iteration)."""
        self.stop_reasons.append(reason)

    def fault(self, where: str, exc: BaseException) -> None:
        """Keep the fault (the real run journals it)."""
        self.faults.append((where, exc))
        self.recorder.emit("fault", {"where": where, "error": f"{type(exc).__name__}: {exc}"})


def record(root: Path, name: str, seconds: float, *, close: bool = True,
           night: str = "2026-11-30") -> Path:
    """A real session of ``seconds`` of 2-channel data at 100 Hz."""
    rec = SessionRecorder(root / name, FakeClock(), flush_interval_s=0.5, fsync=False)
    rec.start(sfreq=100.0, channel_names=("a", "b"), channel_types=("eeg", "eeg"), config={},
              extra={"night": {"date": night, "trigger": "rollover"}})
    n = int(seconds * 100)
    idx = np.arange(n)
    rec.write_chunk(Chunk(np.vstack([idx, -idx]).astype(float), 0, 100.0, ("a", "b"), ("eeg", "eeg"),
                          idx / 100.0))
    if close:
        rec.close()
    else:
        rec.flush()  # a killed run: data on disk, no stop event, files left open
    return root / name
