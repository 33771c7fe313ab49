"""Parsing the human forms of durations ('8h', '1h30m', '90s') and speeds ('1', '60', 'max')."""

from __future__ import annotations

import math
import re

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")
UNTIL_STOPPED = ("until-stopped", "forever", "")
#: Longest finite duration (31 days); a device that runs for longer runs 'until-stopped'.
MAX_DURATION_S = 31 * 24 * 3600.0
#: Slowest replay factor (1000 s of wall time per data second) and fastest paced factor;
#: beyond them a run takes centuries or its clock leaves the range of a timestamp ('max' is
#: as fast as possible without pacing).
MIN_SPEED, MAX_SPEED = 1e-3, 1e5


def parse_duration(text: str) -> float:
    """Seconds in ``text``; ``math.inf`` for 'until-stopped'.

    Raises
    ------
    ValueError
        Naming the text and the allowed forms.
    """
    t = text.strip().lower()
    if t in UNTIL_STOPPED:
        return math.inf
    if re.fullmatch(r"\d+(\.\d+)?", t):
        seconds = float(t)
    else:
        parts = _PART.findall(t)
        if not parts or "".join(n + u for n, u in parts) != t:
            raise ValueError(
                f"duration {text!r} is not understood; allowed: seconds ('90'), or a number with "
                "h/m/s units ('8h', '30m', '1h30m', '45s'), or 'until-stopped'"
            )
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not 0 < seconds <= MAX_DURATION_S:
        raise ValueError(f"duration {text!r} must be more than 0 s and at most 31 days "
                         f"({MAX_DURATION_S:g} s); allowed for longer runs: 'until-stopped'")
    return seconds


def parse_speed(text: str) -> float:
    """Speed factor of ``text``; ``math.inf`` for 'max'.

    Raises
    ------
    ValueError
        Naming the text and the allowed forms.
    """
    t = str(text).strip().lower()
    if t == "max":
        return math.inf
    try:
        value = float(t.rstrip("x"))
    except ValueError:
        value = math.nan
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise ValueError(
            f"speed {text!r} is not allowed; allowed: '1' (real time), a factor from {MIN_SPEED:g} "
            f"to {MAX_SPEED:g} like '60', or 'max'"
        )
    return value
