"""Hostile config files: every input gives a valid frozen config or a ConfigError — never
another exception, and never a NaN or infinite number inside an accepted config."""

from __future__ import annotations

import dataclasses
import math
import typing

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_host.config import Config, ConfigError, parse_config
from firmware_host.config.loader import load_config


def _key_paths(cls: type, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of the schema (sections and leaves)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        path = (*prefix, f.name)
        out.append(path)
        if dataclasses.is_dataclass(hints[f.name]):
            out.extend(_key_paths(hints[f.name], path))
    return out


KEY_PATHS = _key_paths(Config)

junk_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["nan", "inf", "8h", "max", "-1", "\u202e", "\x00", "C3-M2", "mock"]),
)
junk_values = st.recursive(
    junk_scalars,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _nest(path: tuple[str, ...], value: object) -> dict:
    out: dict = {}
    cur = out
    for k in path[:-1]:
        cur = cur.setdefault(k, {})
    cur[path[-1]] = value
    return out


def _merge(a: dict, b: dict) -> dict:
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(a.get(k), dict):
            _merge(a[k], v)
        else:
            a[k] = v
    return a


def _every_float_finite(obj: object) -> bool:
    if dataclasses.is_dataclass(obj):
        return all(_every_float_finite(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    if isinstance(obj, tuple | list):
        return all(_every_float_finite(v) for v in obj)
    if isinstance(obj, float):
        return math.isfinite(obj)
    return True


@settings(settings.get_profile("fuzz"))
@given(st.lists(st.tuples(st.sampled_from(KEY_PATHS), junk_values), min_size=1, max_size=4))
def test_junk_values_anywhere_in_the_schema(edits):
    data: dict = {}
    for path, value in edits:
        _merge(data, _nest(path, value))
    try:
        cfg = parse_config(data)
    except ConfigError as exc:
        assert str(exc)  # a message that says what was wrong
        return
    assert isinstance(cfg, Config)
    assert _every_float_finite(cfg)


@settings(settings.get_profile("fuzz"))
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_junk_files_only_give_config_errors(tmp_path_factory, text):
    path = tmp_path_factory.getbasetemp() / "junk.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        assert str(path) in str(exc)
        return
    assert _every_float_finite(cfg)
