"""Where sessions go: never the current directory by surprise.

The root is, by priority: ``--session-dir`` (one session, handled by the caller), then
``[recorder] root`` when set, then ``$STATE_DIRECTORY`` (set by systemd's ``StateDirectory=``
for the service), then the platform's per-user data directory (``platformdirs``:
``~/.local/share/somnoloop/sessions`` on Linux).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import platformdirs

from firmware_host.config.schema import Config

APP = "somnoloop"
SESSIONS = "sessions"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_root(cfg: Config | None = None) -> Path:
    """The folder that holds one sub-folder per session (see the module docstring).

    ``$STATE_DIRECTORY`` may list several directories separated by ``:``; the first is used.
    """
    if cfg is not None and cfg.recorder.root:
        return Path(cfg.recorder.root).expanduser()
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        return Path(state) / SESSIONS
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / SESSIONS


def new_session_dir(root: str | Path, name: str, now: float | None = None) -> Path:
    """A fresh directory path ``ROOT/YYYYmmdd-HHMMSS-NAME[-n]`` that does not exist yet.

    Parameters
    ----------
    root
        The sessions folder (created by the recorder, not here).
    name
        Config name; characters other than letters, digits, ``.``, ``_`` and ``-`` become ``-``.
    now
        Unix time of the session's start (local time in the name); the current time if omitted.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    safe = _UNSAFE.sub("-", name).strip("-") or "session"
    root = Path(root)
    path = root / f"{stamp}-{safe}"
    n = 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{safe}-{n}"
    return path
