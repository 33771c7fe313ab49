"""Declaring validated config fields: ``setting(default, min=…, max=…, choices=…, doc=…)``."""

from __future__ import annotations

import dataclasses
from typing import Any


def setting(
    default: Any = dataclasses.MISSING,
    *,
    min: float | None = None,  # noqa: A002 - reads best in declarations
    max: float | None = None,  # noqa: A002
    choices: tuple[Any, ...] | None = None,
    doc: str = "",
    factory: Any = dataclasses.MISSING,
    nonfinite: bool = False,
) -> Any:
    """A dataclass field carrying validation rules for the config loader.

    Parameters
    ----------
    default
        Value used when the key is absent.
    min, max
        Inclusive numeric bounds (applied to every element of a tuple).
    choices
        Allowed values.
    doc
        One line shown in error messages and generated docs.
    factory
        Default factory for mutable-looking defaults (nested sections).
    nonfinite
        Whether NaN and ±inf are valid values of a float setting (never by default: a NaN
        bound compares false with everything and would silently switch a limit off).
    """
    meta = {"min": min, "max": max, "choices": choices, "doc": doc, "nonfinite": nonfinite}
    if factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)
