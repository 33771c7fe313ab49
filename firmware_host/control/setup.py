"""What ``somnoloop run`` needs for the control channel: config + overrides, and the server.

Kept here so the run command only adds two flags and a few lines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware_host.config import Config, load_config
from firmware_host.control.client import default_socket_path
from firmware_host.control.overrides import default_path, load_overrides
from firmware_host.control.server import ControlServer


@dataclass
class ControlSetup:
    """The config to run (file + overrides) and the observers to attach."""

    config: Config
    overrides_path: Path
    applied: dict[str, Any]
    server: ControlServer | None = None
    observers: list[Any] = field(default_factory=list)

    def report(self) -> list[str]:
        """Lines for the service log: which overrides were applied, where the socket is."""
        lines = [f"override {k} = {v!r} (from {self.overrides_path})" for k, v in self.applied.items()]
        if self.server is not None:
            lines.append(f"control socket {self.server.path}")
        return lines


def prepare_control(config_path: str | None, socket_path: str | None, overrides: str | None,
                    environ: Mapping[str, str] = os.environ) -> ControlSetup:
    """Load the config and its overrides; build the control server when a socket is wanted.

    The socket is wanted with ``--control-socket PATH``, a ``[control] socket`` path, or
    under systemd (``$RUNTIME_DIRECTORY`` set: ``$RUNTIME_DIRECTORY/control.sock``).

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
    setup = ControlSetup(cfg, path, applied)
    if sock:
        setup.server = ControlServer(sock, base, overrides_path=path, group=base.control.group)
        setup.server.listen()
        setup.observers.append(setup.server)
    return setup
