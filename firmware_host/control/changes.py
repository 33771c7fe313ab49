"""Live changes: the running config, the undo stack, alarm acknowledgements, saving overrides.

Every method that changes something returns the ``apply(now)`` function of a
:class:`~firmware_host.runtime.commands.RunCommand`: it runs on the loop thread between two
iterations, so this object's state is only ever mutated there. The run's command queue
journals each one as a ``control`` event with its client, parameters and result (the old
and new values for ``set`` and ``undo``) or its refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_host.config import Config
from firmware_host.control.apply import apply_change
from firmware_host.control.overrides import diff, save_overrides
from firmware_host.control.params import check_settable, get_value, with_value


@dataclass(frozen=True)
class Change:
    """One applied change (an entry of the undo stack)."""

    key: str
    old: Any
    new: Any
    client: str
    t: float


class ChangeManager:
    """The live configuration of one run and what was changed in it.

    Parameters
    ----------
    run
        The running :class:`~firmware_host.runtime.run.Run` (its stage chain and actuation
        are what changes reach).
    base
        The config file's config (what ``save`` diffs against).
    current
        The running config (the file plus the overrides loaded at start).
    overrides_path
        Where ``save`` writes (``None``: saving is refused with that reason).
    """

    def __init__(self, run: Any, base: Config, current: Config, overrides_path: Path | None) -> None:
        self.run = run
        self.base = base
        self.current = current
        self.overrides_path = overrides_path
        self.undo_stack: list[Change] = []
        #: Alarm codes acknowledged while active (dropped when the alarm clears).
        self.acknowledged: set[str] = set()

    def set(self, key: str, value: Any, client: str) -> Callable[[float], Any]:
        """The command applying ``key = value`` (refused with the reason when not allowed)."""
        def apply(now: float) -> dict[str, Any]:
            how = check_settable(key)
            return self._change(key, value, client, now, how)
        return apply

    def undo(self, client: str) -> Callable[[float], Any]:
        """The command reverting the last change still on the undo stack."""
        def apply(now: float) -> dict[str, Any]:
            if not self.undo_stack:
                raise ValueError("nothing to undo")
            last = self.undo_stack.pop()
            try:
                result = self._change(last.key, last.old, client, now, check_settable(last.key),
                                      record=False)
            except Exception:
                self.undo_stack.append(last)
                raise
            return result | {"undid": {"key": last.key, "client": last.client, "t": last.t}}
        return apply

    def save(self) -> Callable[[float], Any]:
        """The command writing every difference from the config file to the override file.

        The differences are computed here, on the calling (control) thread — walking every
        parameter takes tens of milliseconds — and only recomputed on the loop thread if a
        change landed in between; the loop thread only writes the small file.
        """
        current = self.current
        overrides = diff(self.base, current)

        def apply(now: float) -> dict[str, Any]:
            if self.overrides_path is None:
                raise ValueError("no override file configured (somnoloop run --overrides FILE)")
            data = overrides if self.current is current else diff(self.base, self.current)
            try:
                path = save_overrides(self.overrides_path, data)
            except OSError as exc:
                raise ValueError(f"cannot write {self.overrides_path}: {exc.strerror}") from None
            return {"path": str(path), "overrides": data}
        return apply

    def safe_state(self, client: str) -> Callable[[float], Any]:
        """The command sending every actuator to its safe state."""
        def apply(now: float) -> dict[str, Any]:
            actuation = getattr(self.run, "actuation", None)
            if actuation is None:
                raise ValueError("this run has no actuation")
            actuation.safe_state(f"control: safe state asked by {client}")
            return {"safe_state": True}
        return apply

    def ack_alarm(self, code: str) -> Callable[[float], Any]:
        """The command acknowledging the active alarm ``code`` (the condition stays)."""
        def apply(now: float) -> dict[str, Any]:
            active = active_alarm_codes(self.run)
            if code not in active:
                raise ValueError(f"no active alarm {code!r}; active: {active}")
            self.acknowledged.add(code)
            return {"acknowledged": code}
        return apply

    def _change(self, key: str, value: Any, client: str, now: float, how: str, *,
                record: bool = True) -> dict[str, Any]:
        new_cfg = with_value(self.current, key, value)
        old, new = get_value(self.current, key), get_value(new_cfg, key)
        applied = apply_change(self.run, key, new_cfg)
        self.current = new_cfg
        if record:
            self.undo_stack.append(Change(key, old, new, client, now))
        return {"key": key, "old": old, "new": new, "applied_to": applied, "how": how}


def active_alarm_codes(run: Any) -> list[str]:
    """Codes of the run's active alarms (loop thread)."""
    actuation = getattr(run, "actuation", None)
    if actuation is None:
        return []
    return [a.code for a in actuation.safety.alarms.active]
