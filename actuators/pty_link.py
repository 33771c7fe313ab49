"""Pseudo-terminal pairs for device simulators (POSIX only).

The simulator owns the master end; a driver opens the slave *path* with real pyserial,
exactly as it would open ``/dev/ttyUSB0``.
"""

from __future__ import annotations

import contextlib
import os
import tty
from dataclasses import dataclass


@dataclass
class PtyPair:
    """Both ends of a pty in raw mode.

    Attributes
    ----------
    master_fd
        File descriptor of the device side (non-blocking).
    slave_fd
        File descriptor of the host side, kept open by the simulator so the master never
        sees a hang-up while drivers close and reopen the path.
    path
        Path of the slave, to hand to ``serial.Serial`` / a driver.
    """

    master_fd: int
    slave_fd: int
    path: str

    def close(self) -> None:
        """Close both descriptors (idempotent)."""
        for name in ("master_fd", "slave_fd"):
            fd = getattr(self, name)
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, -1)


def open_pty_pair() -> PtyPair:
    """Create a pty pair, both ends raw (no echo, no line discipline), master non-blocking.

    Raises
    ------
    OSError
        The system has no free ptys.
    """
    master, slave = os.openpty()
    try:
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        path = os.ttyname(slave)
    except OSError:
        os.close(master)
        os.close(slave)
        raise
    return PtyPair(master, slave, path)
