"""TOML configuration loaded once into frozen, typed, validated dataclasses.

The names below are resolved lazily, so a module that only declares a config section (and
imports :mod:`firmware_host.config.fields`) never drags in the whole schema — which imports
those very modules.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Config": "firmware_host.config.schema",
    "ConfigError": "firmware_host.config.loader",
    "load_config": "firmware_host.config.loader",
    "parse_config": "firmware_host.config.loader",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'firmware_host.config' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
