"""Threaded device simulator on the device end of a pty (or any serial file descriptor).

A subclass supplies the protocol (its parser as ``_parser``, frame handling) and the
physics; this base owns the I/O thread, the injected clock, the host-silence (heartbeat)
timeout, fault injection, reset and unplug/replug, the byte-to-frame loop, and the log of
received command frames.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from actuators.protocol import ProtocolError
from actuators.pty_link import PtyPair
from actuators.simulators.faults import FaultPlan


class NowClock(Protocol):
    """Anything with ``now() -> float`` seconds (e.g. ``firmware_host.clock.FakeClock``)."""

    def now(self) -> float:
        """Current time in seconds."""
        ...


class _MonotonicClock:
    def now(self) -> float:
        return time.monotonic()


@dataclass(frozen=True)
class FrameRecord:
    """One valid command frame the device received.

    Attributes
    ----------
    t
        Device clock time of reception.
    seq
        Frame sequence number.
    action
        Decoded action name (e.g. ``"set_elevation"``, ``"grip"``).
    values
        Decoded parameters in physical units.
    accepted
        Whether the device executed it (False: NACKed, duplicate, or lost to a reset).
    duplicate
        A retry of the previous command (same sequence number and bytes), not re-executed.
    error
        Why it was refused, if it was.
    """

    t: float
    seq: int
    action: str
    values: dict[str, Any] = field(default_factory=dict)
    accepted: bool = True
    duplicate: bool = False
    error: str | None = None


class DeviceSimulator:
    """Base class: runs ``_handle_bytes`` / ``_step`` in a thread until :meth:`stop`.

    Parameters
    ----------
    fd_or_port
        Master fd of a pty, a :class:`~actuators.pty_link.PtyPair` (closed on stop), or a
        path opened read/write (e.g. a real serial port for hardware-in-the-loop).
    clock
        Object with ``now()``; physics and the heartbeat timeout follow it. Default:
        ``time.monotonic``.
    heartbeat_timeout_s
        Host silence after which the device enters its own safe state.
    faults
        Initial :class:`FaultPlan` (mutable at run time via ``sim.faults.set(...)``).
    tick_s
        Real-time period of the physics step when no bytes arrive.
    frame_gap_s
        Real-time silence after which a partially received frame is discarded (so a
        truncated frame cannot swallow the next one).
    """

    kind = "device"
    #: The protocol's frame parser (``feed(bytes)`` -> frames and ProtocolErrors, ``reset()``),
    #: set by the subclass.
    _parser: Any

    def __init__(self, fd_or_port: int | str | PtyPair, *, clock: NowClock | None = None,
                 heartbeat_timeout_s: float = 2.0, faults: FaultPlan | None = None,
                 tick_s: float = 0.005, frame_gap_s: float = 0.02) -> None:
        if heartbeat_timeout_s <= 0:
            raise ValueError(f"heartbeat_timeout_s must be > 0, got {heartbeat_timeout_s}")
        self._pair: PtyPair | None = None
        self._owns_fd = False
        if isinstance(fd_or_port, PtyPair):
            self._pair = fd_or_port
            self._fd = fd_or_port.master_fd
        elif isinstance(fd_or_port, int):
            self._fd = fd_or_port
        elif isinstance(fd_or_port, str):
            self._fd = os.open(fd_or_port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            self._owns_fd = True
        else:
            raise TypeError(f"fd_or_port must be an fd, a path or a PtyPair, got {fd_or_port!r}")
        self.clock: NowClock = clock if clock is not None else _MonotonicClock()
        self.heartbeat_timeout_s = float(heartbeat_timeout_s)
        self.faults = faults if faults is not None else FaultPlan()
        self.tick_s = float(tick_s)
        self.frame_gap_s = float(frame_gap_s)
        self._last_byte_rt = 0.0
        self._gap_pending = False
        self._lock = threading.RLock()
        self._stop_evt = threading.Event()
        self._thread: threading.Thread | None = None
        self._frames: list[FrameRecord] = []
        self._unplugged = False
        self._last_rx = self.clock.now()
        self._last_step = self._last_rx
        self.boot_count = 1
        self.heartbeat_lost = False
        self.reset_flag = False
        self.rx_errors = 0
        self.internal_errors = 0
        self.last_error = ""

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> DeviceSimulator:
        """Start the device thread (returns self)."""
        if self._thread is not None:
            raise RuntimeError(f"{self.kind} simulator already started")
        with self._lock:
            self._last_rx = self._last_step = self.clock.now()
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.kind}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread, join it and close the descriptors this simulator owns."""
        self._stop_evt.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pair is not None:
            self._pair.close()
        elif self._owns_fd:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = -1

    def __enter__(self) -> DeviceSimulator:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the device thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # --- test / fault hooks ----------------------------------------------------------
    @property
    def frames(self) -> list[FrameRecord]:
        """Copy of the log of every valid command frame received (including refused ones)."""
        with self._lock:
            return list(self._frames)

    def take_frames(self) -> list[FrameRecord]:
        """The frame log so far, emptied (long soak runs audit it piece by piece)."""
        with self._lock:
            frames, self._frames = self._frames, []
        return frames

    @property
    def state(self) -> dict[str, Any]:
        """Thread-safe snapshot of the device state (physics advanced to now)."""
        with self._lock:
            self._advance(self.clock.now())
            snap = self._snapshot()
            snap.update(boot_count=self.boot_count, heartbeat_lost=self.heartbeat_lost,
                        unplugged=self._unplugged, rx_errors=self.rx_errors,
                        internal_errors=self.internal_errors, last_error=self.last_error)
            return snap

    def reset(self) -> None:
        """Simulate a device reset (power glitch / watchdog reboot): volatile state lost."""
        with self._lock:
            self.boot_count += 1
            self.reset_flag = True
            self.heartbeat_lost = False
            self._last_rx = self.clock.now()
            self._on_reset()

    def unplug(self) -> None:
        """Cable pulled: the device hears nothing and says nothing (physics keeps running)."""
        with self._lock:
            self._unplugged = True

    def replug(self) -> None:
        """Cable back: the device hears and answers again."""
        with self._lock:
            self._unplugged = False

    # --- thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop_evt.is_set():
            try:
                ready, _, _ = select.select([self._fd], [], [], self.tick_s)
            except (OSError, ValueError):
                break
            data = b""
            if ready:
                try:
                    data = os.read(self._fd, 4096)
                except BlockingIOError:
                    data = b""
                except OSError:
                    # EIO: no process holds the other end; wait for one.
                    self._stop_evt.wait(self.tick_s)
                    continue
            replies: list[bytes] = []
            real_now = time.monotonic()
            with self._lock:
                now = self.clock.now()
                self._advance(now)
                if data and not self._unplugged:
                    try:
                        replies = self._handle_bytes(self.faults.mangle_rx(data), now)
                    except Exception as exc:  # noqa: BLE001 - firmware must not die
                        self.last_error = f"internal error: {exc!r}"
                        self.internal_errors += 1
                    self._last_byte_rt = real_now
                    self._gap_pending = True
                elif self._gap_pending and real_now - self._last_byte_rt > self.frame_gap_s:
                    self._gap_pending = False
                    self._rx_gap()
            for reply in replies:
                self._send(reply)

    def _advance(self, now: float) -> None:
        expiry = self._last_rx + self.heartbeat_timeout_s
        if not self.heartbeat_lost and now > expiry:
            # Physics up to the moment the timeout fired, then safe state, then the rest.
            if expiry > self._last_step:
                self._step(expiry - self._last_step)
                self._last_step = expiry
            self.heartbeat_lost = True
            self._enter_safe_state("host silent for more than "
                                   f"{self.heartbeat_timeout_s:g} s")
        dt = now - self._last_step
        if dt > 0:
            self._step(dt)
            self._last_step = now

    def _send(self, data: bytes) -> None:
        if self.faults.delay_s > 0 and self._stop_evt.wait(self.faults.delay_s):
            return
        out = self.faults.mangle_reply(data)
        with self._lock:
            if out is None or self._unplugged or self._fd < 0:
                return
        # OSError/BlockingIOError: host not reading, bytes lost like a UART overflow.
        with contextlib.suppress(OSError):
            os.write(self._fd, out)

    def _touch(self, now: float) -> None:
        """Record host activity (a valid frame)."""
        self._last_rx = now

    def _log(self, record: FrameRecord) -> None:
        self._frames.append(record)

    def _handle_bytes(self, data: bytes, now: float) -> list[bytes]:
        """Parse received bytes, act on each valid frame, return encoded replies (lock held).

        Protocol errors (corrupted or truncated frames) only count in ``rx_errors``.
        """
        replies: list[bytes] = []
        for item in self._parser.feed(data):
            if isinstance(item, ProtocolError):
                self.rx_errors += 1
                continue
            reply = self._handle_frame(item, now)
            if reply is not None:
                replies.append(reply)
        return replies

    def _log_invalid(self, now: float, seq: int, payload: bytes, error: str) -> None:
        """Log a command frame whose payload could not be decoded (refused)."""
        self._log(FrameRecord(now, seq, "invalid", {"payload": payload.hex()},
                              accepted=False, error=error))

    def _log_duplicate(self, now: float, seq: int, action: str,
                       values: dict[str, Any]) -> None:
        """Log a retry of the previous command (answered again, not re-executed)."""
        self._log(FrameRecord(now, seq, action, values, accepted=False, duplicate=True))

    def _injected_reset(self, now: float, seq: int, action: str,
                        values: dict[str, Any]) -> bool:
        """Apply a ``reset_next_command`` fault: the device reboots while receiving.

        Returns whether it did (the command is then lost and must not be answered).
        """
        if not self.faults.take_reset():
            return False
        self._log(FrameRecord(now, seq, action, values, accepted=False,
                              error="device reset while receiving"))
        self.boot_count += 1
        self.reset_flag = True
        self.heartbeat_lost = False
        self._on_reset()
        return True

    # --- subclass hooks -------------------------------------------------------------
    def _handle_frame(self, frame: Any, now: float) -> bytes | None:
        """Act on one valid frame; return the encoded reply or None (lock held)."""
        raise NotImplementedError

    def _rx_gap(self) -> None:
        """Silence after received bytes: drop any partial frame (lock held)."""
        raise NotImplementedError

    def _step(self, dt: float) -> None:
        """Advance physics by ``dt`` seconds of device clock (lock held)."""
        raise NotImplementedError

    def _enter_safe_state(self, reason: str) -> None:
        """Device-side safe state (lock held)."""
        raise NotImplementedError

    def _on_reset(self) -> None:
        """Lose volatile state on reset (lock held)."""
        raise NotImplementedError

    def _snapshot(self) -> dict[str, Any]:
        """State dictionary (lock held)."""
        raise NotImplementedError
