"""Config keys earlier versions accepted and this one no longer has, with why.

A config file that still sets one is refused with the reason (the key would do nothing). A
session recorded by an earlier version is still replayed: its recorded config is read
without them (:func:`without_retired`), and replay says which it left out.
"""

from __future__ import annotations

from typing import Any

#: Dotted key → why it went (and what does its job now).
RETIRED_KEYS: dict[str, str] = {
    "neurofeedback.outputs": "retired in 0.1.0, it drove nothing: a reward's effect is the "
                             "programme's 'feature' rules",
}


def without_retired(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of a parsed config mapping without its retired keys, and the keys left out."""
    dropped = []
    for dotted in RETIRED_KEYS:
        smaller = _without(data, dotted.split("."))
        if smaller is not None:
            data = smaller
            dropped.append(dotted)
    return data, dropped


def _without(table: dict[str, Any], path: list[str]) -> dict[str, Any] | None:
    """``table`` without the key at ``path`` (new tables along it), or ``None`` if absent."""
    head, rest = path[0], path[1:]
    if head not in table:
        return None
    if not rest:
        return {k: v for k, v in table.items() if k != head}
    child = table[head]
    smaller = _without(child, rest) if isinstance(child, dict) else None
    return None if smaller is None else {**table, head: smaller}
