"""The override file: parameter changes saved from the console, loaded at the next start.

It is a TOML file of dotted keys (``programme.rules.onset_rocking.trigger.dwell = "2m"``), one per line,
written atomically. At start every key is validated like the config file and applied on
top of it; ``[safety]`` keys are refused (the console cannot change safety limits, so
its file cannot either).

Default path: ``$STATE_DIRECTORY/overrides.toml`` when systemd gives a state directory, else
``<config stem>.overrides.toml`` beside the config file, else ``overrides.toml`` in the
sessions root (``[recorder] root`` or the platform's data directory).
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from firmware_host.config import Config, ConfigError
from firmware_host.control.params import ParamError, get_value, mode_of, param_specs, with_value
from firmware_host.session.paths import default_root

HEADER = ("# somnoloop parameter overrides, saved by the tuning console; loaded at the next start\n"
          "# on top of the config file ([safety] keys are not allowed here).\n")


def default_path(config_path: str | Path | None, cfg: Config,
                 environ: Mapping[str, str] = os.environ) -> Path:
    """Where overrides live when ``--overrides`` is not given (see the module doc)."""
    state = environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        return Path(state) / "overrides.toml"
    if config_path:
        p = Path(config_path)
        return p.with_name(f"{p.stem}.overrides.toml")
    return default_root(cfg) / "overrides.toml"


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def load_overrides(cfg: Config, path: str | Path) -> tuple[Config, dict[str, Any]]:
    """``cfg`` with the overrides of ``path`` applied, and the applied ``{key: value}``.

    A missing file means no overrides.

    Raises
    ------
    ConfigError
        Unreadable file, bad TOML, a ``[safety]`` key, an unknown key or an invalid value
        (the message names the file and the key).
    """
    path = Path(path)
    if not path.exists():
        return cfg, {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read overrides: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read overrides: not UTF-8 text; allowed: a TOML file") from None
    applied = _flatten(data)
    for key, value in applied.items():
        if mode_of(key)[0] == "read_only":
            raise ConfigError(f"{path}: {key}: overrides cannot change [safety]; edit the config file")
        try:
            cfg = with_value(cfg, key, value)
        except ParamError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return cfg, applied


def diff(base: Config, current: Config) -> dict[str, Any]:
    """``{key: value}`` of every parameter of ``current`` that differs from ``base``."""
    out = {}
    for spec in param_specs(current):
        value = get_value(current, spec.key)
        try:
            before = get_value(base, spec.key)
        except ParamError:  # an item the base does not have
            before = None
        if value != before:
            out[spec.key] = value
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to an override file")


def to_toml(overrides: Mapping[str, Any]) -> str:
    """The text of an override file (dotted keys, sorted)."""
    return HEADER + "".join(f"{k} = {_toml_value(v)}\n" for k, v in sorted(overrides.items()))


def save_overrides(path: str | Path, overrides: Mapping[str, Any]) -> Path:
    """Write ``overrides`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_toml(overrides), encoding="utf-8")
    os.replace(tmp, path)
    return path
