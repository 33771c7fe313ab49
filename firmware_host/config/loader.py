"""Turn TOML into the frozen :class:`~firmware_host.config.schema.Config`, validating every key."""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from firmware_host.config.retired import RETIRED_KEYS
from firmware_host.config.schema import Config


class ConfigError(ValueError):
    """A config file is invalid; the message names the key, the bad value and what is allowed."""


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a TOML file; ``None`` gives the built-in defaults.

    Raises
    ------
    ConfigError
        On a missing/unreadable file, TOML syntax error, unknown key, wrong type or bad value.
    """
    if path is None:
        return parse_config({})
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a config file (not UTF-8 text); allowed: a TOML file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def parse_config(data: dict[str, Any]) -> Config:
    """Validate an already-parsed TOML mapping into a :class:`Config`."""
    return _build(Config, data, "")


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"[{prefix}] must be a table, got {type(data).__name__} {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    retired = [k for k in unknown if _key(prefix, k) in RETIRED_KEYS]
    if retired:
        key = _key(prefix, retired[0])
        raise ConfigError(f"key {key!r} no longer exists ({RETIRED_KEYS[key]}); remove it")
    if unknown:
        where = f"[{prefix}]" if prefix else "top level"
        raise ConfigError(
            f"unknown key {_key(prefix, unknown[0])!r} in {where}; allowed keys: {sorted(fields)}"
        )
    kwargs = {}
    for name, value in data.items():
        key = _key(prefix, name)
        kwargs[name] = _convert(hints[name], value, key, fields[name].metadata)
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[{prefix or 'top level'}]: {exc}") from None
    return obj


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _item_key(key: str, index: int, value: Any, item_tp: Any) -> str:
    """Key of an array item: ``key[NAME]`` for a table with a string ``name`` (a list of
    named tables, e.g. programme rules), else ``key[index]``."""
    if dataclasses.is_dataclass(item_tp) and isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str) and name:
            return f"{key}[{name}]"
    return f"{key}[{index}]"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, key: str, meta: Any) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        non_none = [a for a in args if a is not type(None)]
        if value is None and len(non_none) < len(args):
            return None
        errors = []
        for arg in non_none:
            try:
                return _convert(arg, value, key, meta)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(
            f"{key} = {value!r} has the wrong type; allowed: "
            + " or ".join(_type_name(a) for a in non_none)
        )
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key} = {value!r} must be an array")
        item_tp = args[0]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(item_tp, v, _item_key(key, i, v, item_tp), meta)
                         for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"{key} = {value!r} must have exactly {len(args)} items")
        pairs = enumerate(zip(args, value, strict=True))
        return tuple(_convert(a, v, f"{key}[{i}]", meta) for i, (a, v) in pairs)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} = {value!r} must be a number")
        value = float(value)
        if not math.isfinite(value) and not (meta and meta.get("nonfinite")):
            raise ConfigError(f"{key} = {value!r} is not a finite number; allowed: {_allowed(meta)}")
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} = {value!r} must be an integer")
    elif tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r} must be true or false")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} = {value!r} must be a string")
    elif tp is typing.Any:
        return value
    else:  # pragma: no cover - schema authoring error
        raise ConfigError(f"{key}: unsupported config type {tp!r}")
    _check_rules(value, key, meta)
    return value


def _check_rules(value: Any, key: str, meta: Any) -> None:
    choices = meta.get("choices") if meta else None
    lo = meta.get("min") if meta else None
    hi = meta.get("max") if meta else None
    if choices is not None and value not in choices:
        raise ConfigError(f"{key} = {value!r} is not allowed; allowed: {list(choices)}")
    if lo is not None and value < lo:
        raise ConfigError(f"{key} = {value!r} is below the minimum {lo}; allowed: {_range(lo, hi)}")
    if hi is not None and value > hi:
        raise ConfigError(f"{key} = {value!r} is above the maximum {hi}; allowed: {_range(lo, hi)}")


def _allowed(meta: Any) -> str:
    lo = meta.get("min") if meta else None
    hi = meta.get("max") if meta else None
    return "a finite number" + (f" ({_range(lo, hi)})" if lo is not None or hi is not None else "")


def _range(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo} to {hi}"
    return f">= {lo}" if lo is not None else f"<= {hi}"
