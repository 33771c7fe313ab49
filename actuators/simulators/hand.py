"""Simulated bionic hand speaking :mod:`actuators.hand_protocol`.

Physics per finger (0..100 % closed): the finger moves towards its target at
``max_speed_pct_s x speed``; when an object is in the way (:class:`GraspObject`, the
finger's contact position) it stops there and, while still commanded to close, its motor
current rises at ``current_rate_ma_s`` up to ``force x max_current_ma`` (the force limit).
A stopped/holding finger keeps its current (keeps squeezing as much as before, no more);
an opening finger releases.

Watchdog: with no valid frame for ``watchdog_s`` (300 ms like the Ability Hand) the hand
leaves remote control: every finger holds where it is with the current it has, and the
``remote`` flag clears until the next valid command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actuators import hand_protocol as hp
from actuators.simulators.base import DeviceSimulator, FrameRecord, NowClock
from actuators.simulators.faults import FaultPlan
from actuators.vocabulary import FINGERS, GRIP_PATTERNS


@dataclass(frozen=True)
class GraspObject:
    """An object in the hand: per finger, the % closed at which it touches (None: never)."""

    contact_at: tuple[float | None, ...] = (None,) * 6

    def __post_init__(self) -> None:
        if len(self.contact_at) != 6:
            raise ValueError(f"contact_at needs 6 values ({', '.join(FINGERS)}), "
                             f"got {len(self.contact_at)}")

    @classmethod
    def ball(cls, closure: float = 45.0) -> GraspObject:
        """A ball that every finger touches at ``closure`` % (thumb rotation never)."""
        return cls((closure, None, closure, closure, closure, closure))


class HandSimulator(DeviceSimulator):
    """Bionic hand on the device end of a pty.

    Parameters
    ----------
    fd_or_port, clock, faults, tick_s, frame_gap_s
        See :class:`~actuators.simulators.base.DeviceSimulator`.
    watchdog_s
        Host silence after which the hand leaves remote control (holds its grip).
    obj
        Object in the hand (default: nothing).
    max_speed_pct_s
        Finger speed at ``speed = 1``.
    max_current_ma
        Motor current at ``force = 1``.
    current_rate_ma_s
        How fast the squeezing current rises after contact.
    free_current_ma
        Current while moving freely.
    """

    kind = "hand"

    def __init__(self, fd_or_port: Any, *, clock: NowClock | None = None,
                 watchdog_s: float = 0.3, faults: FaultPlan | None = None,
                 tick_s: float = 0.005, frame_gap_s: float = 0.02,
                 obj: GraspObject | None = None, max_speed_pct_s: float = 250.0,
                 max_current_ma: float = 1500.0, current_rate_ma_s: float = 6000.0,
                 free_current_ma: float = 120.0) -> None:
        super().__init__(fd_or_port, clock=clock, heartbeat_timeout_s=watchdog_s,
                         faults=faults, tick_s=tick_s, frame_gap_s=frame_gap_s)
        self.watchdog_s = float(watchdog_s)
        self.obj = obj if obj is not None else GraspObject()
        self.max_speed_pct_s = float(max_speed_pct_s)
        self.max_current_ma = float(max_current_ma)
        self.current_rate_ma_s = float(current_rate_ma_s)
        self.free_current_ma = float(free_current_ma)
        self._parser = hp.HandFrameParser()
        self.positions = [0.0] * 6
        self.targets = [0.0] * 6
        self.current = [0.0] * 6
        self.speed = 0.5
        self.force = 0.0
        self.grip = "open"
        self.remote = False
        self._last_cmd: tuple[int, int, bytes, bytes] | None = None

    def set_object(self, obj: GraspObject | None) -> None:
        """Put an object in the hand (None removes it)."""
        with self._lock:
            self.obj = obj if obj is not None else GraspObject()

    # --- physics --------------------------------------------------------------------
    def _contact_of(self, i: int) -> float | None:
        return self.obj.contact_at[i]

    def _touching(self, i: int) -> bool:
        c = self._contact_of(i)
        return c is not None and self.positions[i] >= c - 1e-6

    def _step(self, dt: float) -> None:
        vmax = self.max_speed_pct_s * max(self.speed, 0.01) * dt
        i_lim = self.force * self.max_current_ma
        for i in range(6):
            target, pos = self.targets[i], self.positions[i]
            c = self._contact_of(i)
            stop_at = min(target, c) if c is not None and pos <= c + 1e-9 else target
            err = stop_at - pos
            self.positions[i] = pos + max(-vmax, min(vmax, err))
            moving = abs(err) > 1e-9
            if c is not None and self.positions[i] >= c - 1e-6:
                if target > self.positions[i] + 1e-6:  # still commanded closed: squeeze
                    self.current[i] = min(i_lim, max(self.current[i], self.free_current_ma)
                                          + self.current_rate_ma_s * dt)
                elif target < self.positions[i] - 1e-6:
                    self.current[i] = self.free_current_ma
                # target == position: hold the current as it is
            else:
                self.current[i] = self.free_current_ma if moving else 0.0

    def _hold(self) -> None:
        self.targets = list(self.positions)

    def _enter_safe_state(self, reason: str) -> None:
        # Watchdog: leave remote control, stop where we are, keep the grip (and its force).
        self._hold()
        self.remote = False
        self.last_error = reason

    def _on_reset(self) -> None:
        self._parser.reset()
        self._last_cmd = None
        self._hold()
        self.remote = False

    # --- protocol -------------------------------------------------------------------
    def _rx_gap(self) -> None:
        pass  # flag-delimited: a partial frame is resolved by the next flag

    def _reply(self, echo: int, seq: int, result: int) -> bytes:
        flags = ((hp.FLAG_REMOTE if self.remote else 0)
                 | (hp.FLAG_MOVING if self._moving() else 0)
                 | (hp.FLAG_WATCHDOG if self.heartbeat_lost else 0)
                 | (hp.FLAG_RESET if self.reset_flag else 0))
        grip = GRIP_PATTERNS.index(self.grip) if self.grip in GRIP_PATTERNS \
            else hp.GRIP_CUSTOM
        contact = sum(1 << i for i in range(6) if self._touching(i))
        payload = hp.HandReply(echo, result, flags, grip, tuple(self.positions),
                               tuple(round(c) for c in self.current), contact,
                               self.boot_count).encode()
        return hp.HandFrame(hp.REPLY, seq, payload).encode()

    def _moving(self) -> bool:
        out = False
        for i in range(6):
            c = self._contact_of(i)
            goal = min(self.targets[i], c) if c is not None and self.positions[i] <= c + 1e-9 \
                else self.targets[i]
            out = out or abs(goal - self.positions[i]) > 1e-6
        return out

    def _handle_frame(self, frame: hp.HandFrame, now: float) -> bytes | None:
        if frame.addr != hp.ADDRESS:
            return None  # another device on the bus
        self._touch(now)
        if frame.cmd == hp.CMD_STATUS:
            return self._reply(frame.cmd, frame.seq, hp.RESULT_OK)
        try:
            values = hp.decode_command(frame.cmd, frame.payload)
        except hp.HandMessageError as exc:
            self._log_invalid(now, frame.seq, frame.payload, str(exc))
            return self._reply(frame.cmd, frame.seq, exc.code)
        action = values.pop("action")
        last = self._last_cmd
        if last is not None and last[:3] == (frame.seq, frame.cmd, frame.payload):
            self._log_duplicate(now, frame.seq, action, values)
            return self._reply(frame.cmd, frame.seq, hp.RESULT_OK)
        if self._injected_reset(now, frame.seq, action, values):
            return None
        code = self.faults.take_nack()
        if code is not None:
            self._log(FrameRecord(now, frame.seq, action, values, accepted=False,
                                  error=f"injected NACK {hp.nack_meaning(code)}"))
            return self._reply(frame.cmd, frame.seq, code)
        self._execute(action, values)
        self._log(FrameRecord(now, frame.seq, action, values))
        reply = self._reply(frame.cmd, frame.seq, hp.RESULT_OK)
        self._last_cmd = (frame.seq, frame.cmd, frame.payload, reply)
        return reply

    def _execute(self, action: str, v: dict[str, Any]) -> None:
        self.remote = True
        self.heartbeat_lost = False
        self.reset_flag = False
        if action == "stop":
            self._hold()
            return
        self.speed = float(v["speed"])
        self.force = float(v["force"])
        if action == "grip":
            self.grip = v["pattern"]
            self.targets = list(hp.GRIP_TARGETS[v["pattern"]])
        else:
            self.grip = "custom"
            self.targets = [float(p) for p in v["positions"]]

    def _snapshot(self) -> dict[str, Any]:
        return {
            "positions": list(self.positions),
            "targets": list(self.targets),
            "current": list(self.current),
            "contact": [self._touching(i) for i in range(6)],
            "grip": self.grip,
            "remote": self.remote,
            "speed": self.speed,
            "force": self.force,
            "moving": self._moving(),
            "watchdog_tripped": self.heartbeat_lost,
        }
