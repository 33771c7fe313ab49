"""Comparing two replays of a night: actions added, removed and shifted; stage agreement."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

#: Two firings of one rule this close (seconds) are the same firing.
SAME_T_S = 1e-6


def diff_actions(before: list[tuple[str, float]], after: list[tuple[str, float]]) -> dict[str, Any]:
    """Actions added, removed and shifted, per rule, pairing firings in time order."""
    by_rule: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for rule, t in before:
        by_rule[rule][0].append(t)
    for rule, t in after:
        by_rule[rule][1].append(t)
    added, removed, shifted = [], [], []
    for rule, (old, new) in sorted(by_rule.items()):
        for t_old, t_new in zip(old, new, strict=False):
            if abs(t_old - t_new) > SAME_T_S:
                shifted.append({"rule": rule, "t_original": t_old, "t_replayed": t_new,
                                "shift_s": round(t_new - t_old, 3)})
        removed += [{"rule": rule, "t": t} for t in old[len(new):]]
        added += [{"rule": rule, "t": t} for t in new[len(old):]]
    return {"added": added, "removed": removed, "shifted": shifted}


def is_empty(diff: dict[str, Any]) -> bool:
    """No action added, removed or shifted."""
    return not (diff["added"] or diff["removed"] or diff["shifted"])


def stage_agreement(a: list[tuple[int, str]], b: list[tuple[int, str]]) -> float | None:
    """Fraction of the epochs both have (by sample) with the same stage; ``None`` if none."""
    left = dict(a)
    common = [s for s, _ in b if s in left]
    if not common:
        return None
    right = dict(b)
    return sum(left[s] == right[s] for s in common) / len(common)
