"""What ``somnoloop run`` needs for the control channel: config + overrides, and the server.

Kept here so the run command only adds two flags and a few lines. An open-ended run rolls
over into a new night (a new :class:`~firmware_host.runtime.run.Run`); each night gets a
fresh server on the same socket path (changes not saved to the override file end with
the night, like any live edit).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_host.config import Config, load_config
from firmware_host.control.client import default_socket_path
from firmware_host.control.overrides import default_path, load_overrides
from firmware_host.control.server import ControlServer


@dataclass
class ControlSetup:
    """The config to run (file + overrides) and how to make each night's control server."""

    config: Config
    base: Config
    overrides_path: Path
    applied: dict[str, Any]
    socket: Path | None = None
    group: str = ""
    _ready: ControlServer | None = None

    def report(self) -> list[str]:
        """Lines for the service log: which overrides were applied, where the socket is."""
        lines = [f"override {k} = {v!r} (from {self.overrides_path})" for k, v in self.applied.items()]
        if self.socket is not None:
            lines.append(f"control socket {self.socket}")
        return lines

    def night_observers(self) -> list[Any]:
        """The observers of the next night: a listening control server, or none."""
        if self.socket is None:
            return []
        server, self._ready = self._ready or self.make_server(), None
        return [server]

    def make_server(self) -> ControlServer:
        """A control server already listening on :attr:`socket`.

        Raises
        ------
        UsageError
            The socket cannot be created (in use, not a socket, bad group).
        """
        if self.socket is None:
            raise ValueError("no control socket configured")
        server = ControlServer(self.socket, self.base, overrides_path=self.overrides_path,
                               group=self.group)
        server.listen()
        return server


def prepare_control(config_path: str | None, socket_path: str | None, overrides: str | None,
                    environ: Mapping[str, str] = os.environ) -> ControlSetup:
    """Load the config and its overrides; listen on the socket when one is wanted.

    The socket is wanted with ``--control-socket PATH``, a ``[control] socket`` path, or
    under systemd (``$RUNTIME_DIRECTORY`` set: ``$RUNTIME_DIRECTORY/control.sock``). It is
    created here, before the run opens, so a bad path fails the start loudly.

    Raises
    ------
    ConfigError
        A bad config or override file.
    UsageError
        The socket cannot be created (in use, not a socket, bad group).
    """
    base = load_config(config_path)
    path = Path(overrides or base.control.overrides or default_path(config_path, base, environ))
    cfg, applied = load_overrides(base, path)
    sock = socket_path or base.control.socket
    if not sock and environ.get("RUNTIME_DIRECTORY"):
        sock = str(default_socket_path(environ))
    setup = ControlSetup(cfg, base, path, applied, Path(sock) if sock else None, base.control.group)
    if setup.socket is not None:
        setup._ready = setup.make_server()
    return setup
