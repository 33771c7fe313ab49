"""A real running loop with a control socket, for the control and console tests."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from firmware_host.config import Config, parse_config
from firmware_host.control.server import ControlServer
from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run
from firmware_host.sources.base import Source

#: A light night: synthetic EEG/EOG/chin, the stager, no forearm channels (no EMG calibration).
LIGHT = {"source": {"synthetic": {"forearm_channels": [], "gestures": False}},
         "emg": {"enabled": False}}


@dataclass
class LiveLoop:
    """A loop running on its own thread, its control server and socket path."""

    run: Run
    server: ControlServer
    socket: Path
    overrides: Path
    thread: threading.Thread

    def wait_for(self, predicate, timeout_s: float = 10.0, what: str = "condition") -> None:
        """Poll ``predicate`` until true; fail the test after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)


def light_config(**sections) -> Config:
    """:data:`LIGHT` with extra sections."""
    data = {k: dict(v) for k, v in LIGHT.items()}
    data.update(sections)
    return parse_config(data)


@contextlib.contextmanager
def live_loop(session_root: Path, *, speed: str = "4", duration: str = "10m",
              observers: tuple[RunObserver, ...] = (), cfg: Config | None = None,
              wrap_source: Callable[[Source], Source] | None = None) -> Iterator[LiveLoop]:
    """Start a dry-actuation loop with a control socket; stop and join it afterwards.

    ``wrap_source`` wraps the configured source (e.g. a fault injector's).

    The socket lives in a short temporary directory (Unix socket paths are limited to
    ~108 bytes, and pytest's tmp paths can be longer).
    """
    cfg = cfg or light_config()
    sock_dir = Path(tempfile.mkdtemp(prefix="slc", dir="/tmp"))
    sock = sock_dir / "control.sock"
    overrides = session_root / "overrides.toml"
    server = ControlServer(sock, cfg, overrides_path=overrides)
    run = Run(cfg, duration=duration, speed=speed, session_dir=session_root / "session",
              actuation="dry", observers=[server, *observers], wrap_source=wrap_source)
    errors: list[BaseException] = []

    def loop() -> None:
        # open() on the loop thread too: the safety layer's journal belongs to the thread
        # that built it (OwnerThreadSink), as in 'somnoloop run'
        try:
            run.run()
        except BaseException as exc:  # reported by wait_for's caller below
            errors.append(exc)

    thread = threading.Thread(target=loop, name="test-loop", daemon=True)
    thread.start()
    live = LiveLoop(run, server, sock, overrides, thread)
    try:
        # opening builds the stages (EMG calibration: seconds, more with NUMBA_DISABLE_JIT=1)
        live.wait_for(lambda: server.snapshots.iterations > 2 or errors, timeout_s=120.0,
                      what="the loop to iterate")
        if errors:
            raise errors[0]
        yield live
    finally:
        run.request_stop("test over")
        thread.join(timeout=30)
        shutil.rmtree(sock_dir, ignore_errors=True)
