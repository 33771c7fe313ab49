"""The one module that imports pyserial: a small byte pipe with deadlines.

Drivers talk to devices only through :class:`SerialLink`, so the whole real pyserial
stack runs in tests against simulators on a pty (see :mod:`actuators.pty_link`).
"""

from __future__ import annotations

import contextlib
import time

import serial

from actuators.base import ActuatorError

try:  # POSIX: termios calls inside pyserial raise termios.error, not OSError
    import termios

    _IO_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError,
                                                   termios.error)
except ImportError:  # pragma: no cover - non-POSIX
    _IO_ERRORS = (serial.SerialException, OSError)

#: Granularity of blocking reads (seconds); reads return as soon as bytes arrive.
_POLL_S = 0.002


class SerialLink:
    """An open serial port with deadline-based reads.

    Parameters
    ----------
    port
        Device path, e.g. ``/dev/ttyUSB0`` or a pty slave path.
    baudrate
        Line speed (ignored by ptys, honoured by real UARTs).
    device
        Name used in error messages (``"mattress"``, ``"hand"``).

    Raises
    ------
    ActuatorError
        The port cannot be opened; the message names device, port and cause.
    """

    def __init__(self, port: str, *, baudrate: int, device: str) -> None:
        self.port = port
        self.baudrate = int(baudrate)
        self.device = device
        self._ser: serial.Serial | None = None
        self.open()

    @property
    def is_open(self) -> bool:
        """Whether the port is currently open."""
        return self._ser is not None and self._ser.is_open

    def open(self) -> None:
        """(Re)open the port; no-op when already open."""
        if self.is_open:
            return
        try:
            self._ser = serial.Serial(self.port, self.baudrate, timeout=_POLL_S,
                                      write_timeout=0.5, exclusive=True)
        except (*_IO_ERRORS, ValueError) as exc:
            self._ser = None
            raise ActuatorError(
                f"{self.device}: cannot open serial port {self.port!r}: {exc}") from exc

    def close(self) -> None:
        """Close the port (idempotent, never raises)."""
        ser, self._ser = self._ser, None
        if ser is not None:
            with contextlib.suppress(*_IO_ERRORS):
                ser.close()

    def _require(self) -> serial.Serial:
        if self._ser is None or not self._ser.is_open:
            self._ser = None
            self.open()
        if self._ser is None:  # pragma: no cover - open() raises instead
            raise ActuatorError(f"{self.device}: serial port {self.port!r} is not open")
        return self._ser

    def write(self, data: bytes) -> None:
        """Write all of ``data``; raises ActuatorError when the port fails."""
        ser = self._require()
        try:
            ser.write(data)
            ser.flush()
        except _IO_ERRORS as exc:
            self.close()
            raise ActuatorError(f"{self.device}: write to {self.port!r} failed: {exc}") from exc

    def read_until(self, deadline: float) -> bytes:
        """Bytes available now, or wait for some until ``deadline`` (``time.monotonic``).

        Returns ``b""`` when nothing arrived before the deadline.
        """
        ser = self._require()
        try:
            while True:
                waiting = ser.in_waiting
                data = ser.read(waiting if waiting else 1)
                if data:
                    more = ser.in_waiting
                    return data + (ser.read(more) if more else b"")
                if time.monotonic() >= deadline:
                    return b""
        except _IO_ERRORS as exc:
            self.close()
            raise ActuatorError(f"{self.device}: read from {self.port!r} failed: {exc}") from exc

    def discard_input(self) -> None:
        """Drop bytes already received (stale replies)."""
        ser = self._ser
        if ser is not None and ser.is_open:
            try:
                ser.reset_input_buffer()
            except _IO_ERRORS:
                self.close()
