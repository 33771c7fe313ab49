"""Fixtures of the service tests."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from tests.firmware_host.service.doubles import NotifySocket


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    """A notify socket on a short file-system path (``sun_path`` holds 107 bytes)."""
    folder = tempfile.mkdtemp(prefix="sdn")
    path = os.path.join(folder, "notify")
    sock = NotifySocket(path, path)
    yield sock
    sock.sock.close()
    os.unlink(path)
    os.rmdir(folder)


@pytest.fixture
def abstract_notify_socket() -> Iterator[NotifySocket]:
    """A notify socket in the abstract namespace (``@name``)."""
    name = f"somnoloop-test-{os.getpid()}-{id(object())}"
    sock = NotifySocket(b"\0" + name.encode(), "@" + name)
    yield sock
    sock.sock.close()
