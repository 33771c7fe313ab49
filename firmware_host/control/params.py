"""The parameters the control channel lists, reads and sets, derived from the config schema.

Every leaf of :class:`~firmware_host.config.Config` is a parameter named by its dotted key
(``stager.flat_uv``). Items of a list of tables are addressed by their ``name`` when they
have one, else by their index: ``programme.rules.onset_rocking.trigger.dwell``,
``programme.rules.onset_rocking.actions.0.value``. Its type, range, choices and doc come from the schema's
``setting(...)`` metadata; a value is validated by the config loader's own converter (the
same rules and messages as a TOML file), then the section is rebuilt with
:func:`dataclasses.replace` so the section's cross-field checks run too.

Each key has a *mode*:

``live``
    applied between two loop iterations (see :mod:`firmware_host.control.apply`);
``restart``
    used only when the run is built: refused at run time with that reason (put it in the
    override file or the config and restart);
``read_only``
    the ``[safety]`` section: never changed while running, and not through overrides either.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

from firmware_host.config.loader import ConfigError, _convert
from firmware_host.neurofeedback.config import LIVE_KEYS as NF_LIVE_KEYS
from firmware_host.neurofeedback.config import RESTART_REASON as NF_RESTART_REASON

#: Why ``[safety]`` cannot be set (returned with every refusal).
SAFETY_REASON = ("the [safety] section is read-only at run time: safety limits change only in "
                 "the config file, reviewed, and take effect at the next start")

#: Live-editable keys (exact keys or whole sections ending with '.'), and how each is applied.
LIVE: dict[str, str] = {
    "programme.": "the programme's rules are replaced (Engine.reconfigure: firings so far, "
                  "manual pauses, sleep onset and what was sent are kept; triggers start afresh)",
    "quality.": "the quality stage is rebuilt (its incomplete second is dropped)",
    "stager.flat_uv": "read by the stager at the next epoch",
    "stager.artefact_uv": "read by the stager at the next epoch",
    "stager.max_bad_fraction": "read by the stager at the next epoch",
    "stager.hmm_evidence_weight": "read by the stager at the next epoch",
    "emg.reject_below": "the decoder's post-processor is rebuilt (intent back to rest)",
    "emg.vote": "the decoder's post-processor is rebuilt (intent back to rest)",
    "emg.onset_on": "the decoder's post-processor is rebuilt (intent back to rest)",
    "emg.onset_off": "the decoder's post-processor is rebuilt (intent back to rest)",
    "emg.hold": "the decoder's post-processor is rebuilt (intent back to rest)",
    "emg.force_step": "read by the decoder at the next window",
    **{f"neurofeedback.{k}": how for k, how in NF_LIVE_KEYS.items()},
}

_UNITS = (("_uv", "µV"), ("_hz", "Hz"), ("_ms", "ms"), ("_deg", "degrees"), ("_c", "°C"),
          ("_s", "s"), ("_pct", "%"))


class ParamError(ValueError):
    """A parameter cannot be read or set; the message says why and what is allowed."""


@dataclass(frozen=True)
class ParamSpec:
    """One settable leaf of the config tree.

    Parameters
    ----------
    key
        Dotted key, e.g. ``"programme.rules.onset_rocking.trigger.min_probability"``.
    type
        ``"float"``, ``"int"``, ``"bool"``, ``"str"``, or ``"list[float]"`` etc.
    min, max, choices
        Rules from the schema (``None`` when absent).
    unit
        Guessed from the key's suffix (``_s`` → s, ``_uv`` → µV …); ``""`` when unknown.
    doc
        The schema's one-line doc.
    mode
        ``"live"``, ``"restart"`` or ``"read_only"``.
    applied
        How a live change takes effect, or why the key cannot be set at run time.
    """

    key: str
    type: str
    min: float | None
    max: float | None
    choices: tuple[Any, ...] | None
    unit: str
    doc: str
    mode: str
    applied: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (the ``params`` reply's items)."""
        out = dataclasses.asdict(self)
        out["choices"] = list(self.choices) if self.choices is not None else None
        return out


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return f"list[{_type_name(args[0])}]" if args else "list"
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _unit(name: str) -> str:
    return next((u for suffix, u in _UNITS if name.endswith(suffix)), "")


def mode_of(key: str) -> tuple[str, str]:
    """``(mode, how it applies / why not)`` of a dotted key."""
    if key == "safety" or key.startswith("safety."):
        return "read_only", SAFETY_REASON
    if key.startswith("programme.rules.") and key.endswith(".name"):
        return "restart", ("a rule's name is its address (and its journal label): rename it in "
                           "the config and restart")
    for pattern, how in LIVE.items():
        if key == pattern or (pattern.endswith(".") and key.startswith(pattern)):
            return "live", how
    section = key.split(".")[0]
    why = NF_RESTART_REASON if section == "neurofeedback" else "is used only when the run is built"
    return "restart", (f"needs a restart: [{section}] {key} {why}; "
                       "save it in the override file or the config and restart")


def _items(value: Any) -> list[tuple[str, Any]] | None:
    """``[(label, item)]`` when ``value`` is a list of tables (label = name or index)."""
    if not isinstance(value, tuple) or not value or not all(dataclasses.is_dataclass(v) for v in value):
        return None
    return [(str(getattr(v, "name", "") or i), v) for i, v in enumerate(value)]


def _leaves(obj: Any, prefix: str) -> typing.Iterator[tuple[str, Any, dataclasses.Field]]:
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        key = f"{prefix}.{f.name}" if prefix else f.name
        value = getattr(obj, f.name)
        items = _items(value)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, key)
        elif items is not None:
            for label, item in items:
                yield from _leaves(item, f"{key}.{label}")
        else:
            yield key, hints[f.name], f


def param_specs(cfg: Any) -> list[ParamSpec]:
    """Every leaf of the config ``cfg`` as a :class:`ParamSpec`, in schema order.

    It takes the config itself, not its class: the rules of a list of tables (programme
    rules) are known only from its values.
    """
    out = []
    for key, tp, f in _leaves(cfg, ""):
        meta = f.metadata or {}
        mode, how = mode_of(key)
        out.append(ParamSpec(key, _type_name(tp), meta.get("min"), meta.get("max"),
                             meta.get("choices"), _unit(f.name), meta.get("doc", ""), mode, how))
    return out


def _child(obj: Any, part: str, key: str) -> Any:
    items = _items(obj)
    if items is not None:
        for label, item in items:
            if label == part:
                return item
        raise ParamError(f"unknown parameter {key!r}: no item {part!r}; allowed: "
                         f"{[label for label, _ in items]}")
    names = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
    if part not in names:
        raise ParamError(f"unknown parameter {key!r}; allowed at that level: {sorted(names)}")
    return getattr(obj, part)


def get_value(cfg: Any, key: str) -> Any:
    """The value of dotted ``key`` in ``cfg`` as JSON-able data (tuples become lists).

    Raises
    ------
    ParamError
        An unknown key (the message lists the keys allowed where it went wrong).
    """
    obj = cfg
    for part in key.split("."):
        obj = _child(obj, part, key)
    if dataclasses.is_dataclass(obj) or _items(obj) is not None:
        raise ParamError(f"{key!r} is a section, not a parameter; name one of its keys")
    return _plain(obj)


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple | list) else value


def with_value(cfg: Any, key: str, value: Any) -> Any:
    """A copy of ``cfg`` with dotted ``key`` set to ``value``, validated like a config file.

    Raises
    ------
    ParamError
        Unknown key, wrong type, out of range, not among the choices, or a cross-field
        rule of the section broken; the message names the key and what is allowed.
    """
    get_value(cfg, key)  # unknown keys fail here with the allowed ones
    try:
        return _replace(cfg, key.split("."), value, key)
    except (ConfigError, TypeError, ValueError) as exc:
        raise ParamError(str(exc)) from None


def _replace(obj: Any, parts: list[str], value: Any, key: str) -> Any:
    head, rest = parts[0], parts[1:]
    items = _items(obj)
    if items is not None:  # a list of tables: rebuild the tuple with the one item changed
        i = next(i for i, (label, _) in enumerate(items) if label == head)
        return (*obj[:i], _replace(obj[i], rest, value, key), *obj[i + 1:])
    if rest:
        new = _replace(getattr(obj, head), rest, value, key)
    else:
        field = next(f for f in dataclasses.fields(obj) if f.name == head)
        new = _convert(typing.get_type_hints(type(obj))[head], value, key, field.metadata)
    return dataclasses.replace(obj, **{head: new})


def check_settable(key: str) -> str:
    """How a run-time change of ``key`` applies; refuse read-only and restart-only keys.

    Raises
    ------
    ParamError
        ``[safety]`` keys (read-only) and keys that need a restart, with the reason.
    """
    mode, how = mode_of(key)
    if mode != "live":
        raise ParamError(f"{key}: {how}")
    return how
