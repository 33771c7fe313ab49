"""``[control]``: the local control socket of a running loop."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_host.config.fields import setting


@dataclass(frozen=True)
class ControlConfig:
    """``[control]``: where the control socket listens and who may connect."""

    socket: str = setting(
        "", doc="Unix socket path ('' = none unless --control-socket; the service uses "
        "$RUNTIME_DIRECTORY/control.sock)")
    group: str = setting("", doc="group allowed to connect (socket mode 0660); '' = owner only (0600)")
    overrides: str = setting(
        "", doc="override file the console saves to and the next start loads ('' = "
        "$STATE_DIRECTORY/overrides.toml, else beside the config, else in [recorder] root)")
