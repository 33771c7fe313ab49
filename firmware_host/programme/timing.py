"""Times in programme rules: durations that may be zero, and wall-clock times on a night.

A night's clock times are read on a noon-to-noon timeline: ``"23:00"`` comes before
``"06:30"`` (next morning), so a window such as ``["23:00", "06:00"]`` is valid and
``["07:00", "06:30"]`` is not.
"""

from __future__ import annotations

import math
import re

from firmware_host.config.durations import parse_duration

DAY_S = 86400.0
NOON_S = 43200.0
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def duration_s(value: str | float, key: str) -> float:
    """Seconds of a rule duration: a number of seconds (``0`` allowed) or ``'30s'``/``'5m'``.

    Raises
    ------
    ValueError
        Naming ``key``, the value and the allowed forms.
    """
    allowed = "allowed: a duration >= 0 such as 0, 90, '30s', '5m', '1h30m'"
    if isinstance(value, bool):
        raise ValueError(f"{key} = {value!r} is not a duration; {allowed}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower()
        if text in ("0", "0s", "0m", "0h"):
            return 0.0
        try:
            seconds = parse_duration(text)
        except ValueError:
            raise ValueError(f"{key} = {value!r} is not a duration; {allowed}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{key} = {value!r} is not a duration; {allowed}")
    return seconds


def clock_s(text: str, key: str) -> float:
    """Seconds after local midnight of ``'HH:MM'``.

    Raises
    ------
    ValueError
        Naming ``key``, the value and the allowed form.
    """
    m = _CLOCK.fullmatch(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{key} = {text!r} is not a clock time; allowed: 'HH:MM' (00:00 to 23:59)")
    return int(m.group(1)) * 3600.0 + int(m.group(2)) * 60.0


def night_s(text: str, key: str) -> float:
    """Position of clock time ``text`` on the noon-to-noon night timeline (0 = 12:00)."""
    return (clock_s(text, key) - NOON_S) % DAY_S


def window_s(pair: tuple[str, ...], key: str) -> tuple[float, float]:
    """A ``[start, end]`` clock window as night-timeline seconds; end must follow start.

    Raises
    ------
    ValueError
        For anything but two clock times with the end after the start.
    """
    if len(pair) != 2:
        raise ValueError(f"{key} = {list(pair)!r} must be [start, end] as 'HH:MM' clock times")
    start, end = (night_s(t, key) for t in pair)
    if not end > start:
        raise ValueError(
            f"{key} = {list(pair)!r}: the end is not after the start; allowed: an end later "
            "on the same night (times run from 12:00 to 11:59 the next morning)"
        )
    return start, end


def local_clock(night_start_s: float, t: float) -> str:
    """``'HH:MM:SS'`` local time at engine time ``t`` of a night that began at
    ``night_start_s`` seconds after local midnight."""
    s = int(math.floor((night_start_s + t) % DAY_S))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def offset_after_start(night_start_s: float, night_pos: float) -> float:
    """Engine time (seconds since the night's start) of night-timeline position ``night_pos``.

    Negative when that time of the night came before the night started.
    """
    return night_pos - (night_start_s - NOON_S) % DAY_S


def inside(night_start_s: float, window: tuple[str, ...], t: float, key: str) -> bool:
    """Is engine time ``t`` inside the local-time ``window`` (on this night or the next)."""
    start, end = (offset_after_start(night_start_s, w) for w in window_s(window, key))
    return any(start + k * DAY_S <= t < end + k * DAY_S for k in (-1, 0, 1))
