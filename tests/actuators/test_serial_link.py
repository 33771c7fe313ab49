"""SerialLink on a raw pty: deadlines, whole reads, and a vanished device as ActuatorError."""

from __future__ import annotations

import os
import select
import time

import pytest

from actuators.base import ActuatorError
from actuators.pty_link import open_pty_pair
from actuators.serial_link import SerialLink


@pytest.fixture
def pair():
    p = open_pty_pair()
    yield p
    p.close()


def _device_reads(fd: int, n: int) -> bytes:
    got = b""
    end = time.monotonic() + 2.0
    while len(got) < n and time.monotonic() < end:
        if select.select([fd], [], [], 0.05)[0]:
            got += os.read(fd, 4096)
    return got


def test_write_reaches_the_device_and_replies_come_back_whole(pair):
    link = SerialLink(pair.path, baudrate=115200, device="test")
    try:
        frame = bytes(range(200)) * 3
        link.write(frame)
        assert _device_reads(pair.master_fd, len(frame)) == frame
        os.write(pair.master_fd, b"reply-bytes")
        got = b""
        while len(got) < 11:
            got += link.read_until(time.monotonic() + 1.0)
        assert got == b"reply-bytes"
    finally:
        link.close()


def test_read_until_returns_empty_at_the_deadline(pair):
    link = SerialLink(pair.path, baudrate=115200, device="test")
    try:
        t0 = time.monotonic()
        assert link.read_until(t0 + 0.02) == b""
        assert time.monotonic() - t0 >= 0.02
        assert link.read_until(t0) == b""  # a past deadline still looks once
        os.write(pair.master_fd, b"x")
        assert _wait_for(link) == b"x"
    finally:
        link.close()


def _wait_for(link: SerialLink) -> bytes:
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        data = link.read_until(time.monotonic() + 0.05)
        if data:
            return data
    return b""


def test_device_gone_is_an_actuator_error_naming_the_port(pair):
    link = SerialLink(pair.path, baudrate=115200, device="test")
    try:
        os.close(pair.master_fd)  # the device end vanishes (like a pulled USB adapter)
        pair.master_fd = -1
        with pytest.raises(ActuatorError, match="test: read from"):
            link.read_until(time.monotonic() + 0.2)
        assert not link.is_open
    finally:
        link.close()
