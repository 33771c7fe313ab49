"""Which session a sample belongs to: nights roll over at a local time or at lights-off.

A *night* is named by the date of its evening: with the roll-over at 12:00, everything from
12:00 on 30 November to 11:59 on 1 December belongs to night ``2026-11-30``. Three moments
ask for a decision:

- **start-up** (:func:`on_start`): a restart during a night — after a crash, a power cut or a
  ``systemctl restart`` — continues that night's newest session as a new segment; only a
  start in a new night starts a new session;
- **each tick** (:func:`on_tick`): the roll-over time passed, so the night's session closes
  and the next night's opens;
- **lights-off** (:func:`on_lights_off`, the bedside button or the first EEG contact): with
  ``new_night_on = "lights_off"`` the wearer going to bed opens the night's sleep session
  (the afternoon's recording stays in its own session); a second press the same night
  changes nothing.

Every function is pure: times come in as Unix seconds, sessions as
:class:`~firmware_host.service.inventory.SessionInfo`, and the time zone is a parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from firmware_host.service.inventory import SessionInfo

NIGHT_TRIGGERS = ("rollover", "lights_off")

#: A run's stop reason that means "open the next night's run", not "the service is stopping".
ROLLOVER_PREFIX = "night ended: "


def parse_rollover(text: str) -> dt.time:
    """``"HH:MM"`` (24-hour local time) to a :class:`datetime.time`.

    Raises
    ------
    ValueError
        Naming the value and the allowed form.
    """
    try:
        hours, minutes = text.split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"roll-over time {text!r} is not valid; allowed: 'HH:MM', 00:00 to 23:59") from None


@dataclass(frozen=True)
class NightPolicy:
    """When nights begin.

    Parameters
    ----------
    rollover
        Local time at which one night ends and the next begins.
    new_night_on
        ``"rollover"``: one session per night, opened at the roll-over; ``"lights_off"``: the
        lights-off event opens the night's sleep session as well.
    tz
        Time zone of ``rollover`` (``None``: the system's local time, DST included).
    """

    rollover: dt.time = dt.time(12, 0)
    new_night_on: str = "rollover"
    tz: dt.tzinfo | None = None

    def __post_init__(self) -> None:
        if self.new_night_on not in NIGHT_TRIGGERS:
            raise ValueError(f"new_night_on {self.new_night_on!r} is not allowed; "
                             f"allowed: {list(NIGHT_TRIGGERS)}")


@dataclass(frozen=True)
class NightDecision:
    """What to do with the session.

    Parameters
    ----------
    action
        ``"continue"`` (keep, or resume as a new segment, ``session``) or ``"new"`` (close
        the current session if any and start one for ``night``).
    night
        ``YYYY-MM-DD`` of the night concerned.
    session
        Name of the session to continue (``None`` for ``"new"``).
    trigger
        For ``"new"``: what opens the session (``"rollover"``, ``"lights_off"``,
        ``"first_start"``), to be stored with the session.
    reason
        One sentence for the journal.
    """

    action: str
    night: str
    session: str | None
    trigger: str
    reason: str


def night_of(t_unix: float, policy: NightPolicy) -> str:
    """The night (``YYYY-MM-DD`` of its evening) that wall-clock time ``t_unix`` belongs to."""
    local = dt.datetime.fromtimestamp(t_unix, policy.tz) if policy.tz else \
        dt.datetime.fromtimestamp(t_unix).astimezone()
    day = local.date() if local.time() >= policy.rollover else local.date() - dt.timedelta(days=1)
    return day.isoformat()


def session_night(session: SessionInfo, policy: NightPolicy) -> str:
    """The night a session was started for (stored with it, else derived from its start)."""
    return session.night or night_of(session.started_unix, policy)


def on_start(now_unix: float, sessions: list[SessionInfo], policy: NightPolicy) -> NightDecision:
    """At process start: continue this night's newest session, or start a new night.

    A wall clock earlier than the newest session's start cannot be trusted (a Pi without a
    real-time clock boots with the time it last saved, until NTP syncs): that session is
    continued rather than a night being invented in the past.
    """
    night = night_of(now_unix, policy)
    if sessions:
        latest = max(sessions, key=lambda s: (s.started_unix, s.name))
        latest_night = session_night(latest, policy)
        if now_unix < latest.started_unix:
            return NightDecision("continue", latest_night, latest.name, latest.trigger,
                                 "wall clock is earlier than the newest session's start (not yet "
                                 "synchronised?): continuing it as a new segment")
        if latest_night == night:
            how = "ended cleanly" if latest.complete else "was interrupted (crash or power cut)"
            return NightDecision("continue", night, latest.name, latest.trigger,
                                 f"restart during night {night}: the previous segment {how}; "
                                 "continuing it as a new segment")
    return NightDecision("new", night, None, "first_start", f"first start in night {night}")


def on_tick(now_unix: float, current: SessionInfo, policy: NightPolicy) -> NightDecision:
    """While running: roll over once the wall clock is in a later night than the session."""
    night = night_of(now_unix, policy)
    current_night = session_night(current, policy)
    if night > current_night:
        return NightDecision("new", night, None, "rollover",
                             f"roll-over at {policy.rollover:%H:%M}: night {current_night} ended")
    return NightDecision("continue", current_night, current.name, current.trigger,
                         f"night {current_night} goes on")


def on_lights_off(now_unix: float, current: SessionInfo, policy: NightPolicy) -> NightDecision:
    """The wearer went to bed: open the night's sleep session when the policy says so."""
    night = night_of(now_unix, policy)
    current_night = session_night(current, policy)
    if policy.new_night_on != "lights_off":
        return NightDecision("continue", current_night, current.name, current.trigger,
                             f"lights-off noted; nights roll over at {policy.rollover:%H:%M}")
    if current.trigger == "lights_off" and current_night == night:
        return NightDecision("continue", night, current.name, current.trigger,
                             f"lights-off again in night {night}: already in bed")
    return NightDecision("new", night, None, "lights_off", f"lights-off: night {night} begins")
