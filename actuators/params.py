"""Reading command parameters: one definition of "a finite number" and "one of these names".

Drivers, wire encoders and the safety layer all read ``Command.params``; each raises its own
error type with the message these functions give (:class:`ParamError` is a ``ValueError``).
"""

from __future__ import annotations

import math
from typing import Any

_MISSING = object()


class ParamError(ValueError):
    """A command parameter is missing, not a finite number, out of range or not allowed."""


def number(params: dict[str, Any], key: str, *, lo: float | None = None,
           hi: float | None = None, what: str | None = None) -> float:
    """``params[key]`` as a float: present, a real number (not bool), finite, in ``[lo, hi]``.

    Raises
    ------
    ParamError
        Naming the parameter (``what`` when given), the value and what is allowed.
    """
    name = what or key
    value = params.get(key, _MISSING)
    if value is _MISSING:
        raise ParamError(f"missing parameter {key!r}; given: {sorted(params)}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParamError(f"{name} must be a finite number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ParamError(f"{name}={value!r} is outside [{lo}, {hi}]")
    return float(value)


def choice(params: dict[str, Any], key: str, allowed: tuple[str, ...], *,
           default: Any = _MISSING) -> str:
    """``params[key]`` (or ``default`` when absent) if it is one of ``allowed``.

    Raises
    ------
    ParamError
        Naming the parameter, the value and the allowed names.
    """
    value = params.get(key, default)
    if value is _MISSING or value not in allowed:
        shown = "missing" if value is _MISSING else repr(value)
        raise ParamError(f"{key} {shown} is not allowed; allowed: {list(allowed)}")
    return value
