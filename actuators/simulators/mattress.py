"""Simulated smart-mattress controller speaking :mod:`actuators.mattress_protocol`.

Physics: head/feet elevation motors move at a limited speed (default 3 deg/s), air-chamber
firmness changes at 20 levels/s, the surface temperature follows a first-order lag
(default tau = 180 s) towards the heater target or, with the heater off, towards ambient.

Device safe state (entered on the SAFE_STATE command or when the host is silent longer
than ``heartbeat_timeout_s``): motors stop and hold where they are, vibration off,
heater off.
"""

from __future__ import annotations

import math
from typing import Any

from actuators import mattress_protocol as mp
from actuators.protocol import Frame, FrameParser
from actuators.simulators.base import DeviceSimulator, FrameRecord, NowClock
from actuators.simulators.faults import FaultPlan


class MattressSimulator(DeviceSimulator):
    """Mattress controller on the device end of a pty.

    Parameters
    ----------
    fd_or_port, clock, heartbeat_timeout_s, faults, tick_s, frame_gap_s
        See :class:`~actuators.simulators.base.DeviceSimulator`.
    elevation_speed_dps
        Motor speed in degrees per second.
    firmness_rate
        Firmness change in levels per second.
    temperature_tau_s
        Time constant of the surface temperature.
    ambient_c
        Room temperature (and initial surface temperature).
    """

    kind = "mattress"

    def __init__(self, fd_or_port: Any, *, clock: NowClock | None = None,
                 heartbeat_timeout_s: float = 2.0, faults: FaultPlan | None = None,
                 tick_s: float = 0.005, frame_gap_s: float = 0.02, elevation_speed_dps: float = 3.0,
                 firmness_rate: float = 20.0, temperature_tau_s: float = 180.0,
                 ambient_c: float = 22.0) -> None:
        super().__init__(fd_or_port, clock=clock, heartbeat_timeout_s=heartbeat_timeout_s,
                         faults=faults, tick_s=tick_s, frame_gap_s=frame_gap_s)
        if elevation_speed_dps <= 0 or firmness_rate <= 0 or temperature_tau_s <= 0:
            raise ValueError("elevation_speed_dps, firmness_rate and temperature_tau_s "
                             "must be > 0")
        self.elevation_speed_dps = float(elevation_speed_dps)
        self.firmness_rate = float(firmness_rate)
        self.temperature_tau_s = float(temperature_tau_s)
        self.ambient_c = float(ambient_c)
        self._parser = FrameParser()
        self.elevation = {"head": 0.0, "feet": 0.0}
        self.elevation_target = dict(self.elevation)
        self.firmness = {z: 50.0 for z in mp.FIRMNESS_ZONES}
        self.firmness_target = dict(self.firmness)
        self.temperature = self.ambient_c
        self.target_temperature: float | None = None
        self.vibration = {"intensity": 0, "pattern": "off"}
        self.device_safe = False
        self._last_cmd: tuple[int, bytes, bytes] | None = None  # seq, payload, reply
        self.device_faults: set[str] = set()

    def set_device_fault(self, name: str, active: bool = True) -> None:
        """Raise or clear a hardware fault: ``"motor_stall"`` (motors stop, elevation
        commands NACKed with FAULT) or ``"overtemperature"`` (heater off, temperature
        commands NACKed with FAULT). Reported in the STATUS fault bits while active.
        """
        allowed = ("motor_stall", "overtemperature")
        if name not in allowed:
            raise ValueError(f"unknown device fault {name!r}; allowed: {list(allowed)}")
        with self._lock:
            if not active:
                self.device_faults.discard(name)
                return
            self.device_faults.add(name)
            if name == "motor_stall":
                self._hold()
            else:
                self.target_temperature = None

    # --- physics --------------------------------------------------------------------
    def _step(self, dt: float) -> None:
        max_move = self.elevation_speed_dps * dt
        for zone, target in self.elevation_target.items():
            err = target - self.elevation[zone]
            self.elevation[zone] += max(-max_move, min(max_move, err))
        max_f = self.firmness_rate * dt
        for zone, target in self.firmness_target.items():
            err = target - self.firmness[zone]
            self.firmness[zone] += max(-max_f, min(max_f, err))
        goal = self.ambient_c if self.target_temperature is None else self.target_temperature
        self.temperature += (goal - self.temperature) * (1.0 - math.exp(-dt / self.temperature_tau_s))

    def _moving(self, zone: str) -> bool:
        return abs(self.elevation_target[zone] - self.elevation[zone]) > 1e-6

    def _hold(self) -> None:
        self.elevation_target = dict(self.elevation)

    def _enter_safe_state(self, reason: str) -> None:
        self._hold()
        self.vibration = {"intensity": 0, "pattern": "off"}
        self.target_temperature = None
        self.device_safe = True
        self.last_error = reason

    def _on_reset(self) -> None:
        # Motors lose their targets (stop where they are); outputs default off.
        self._parser.reset()
        self._last_cmd = None
        self._hold()
        self.firmness_target = dict(self.firmness)
        self.vibration = {"intensity": 0, "pattern": "off"}
        self.target_temperature = None
        self.device_safe = False

    # --- protocol -------------------------------------------------------------------
    def _fault_bits(self) -> int:
        bits = 0
        if self.heartbeat_lost:
            bits |= mp.FAULT_BIT_BY_NAME["heartbeat_lost"]
        if self.reset_flag:
            bits |= mp.FAULT_BIT_BY_NAME["device_reset"]
        for name in self.device_faults:
            bits |= mp.FAULT_BIT_BY_NAME[name]
        return bits

    def _status(self) -> mp.MattressStatus:
        flags = ((mp.FLAG_MOVING_HEAD if self._moving("head") else 0)
                 | (mp.FLAG_MOVING_FEET if self._moving("feet") else 0)
                 | (mp.FLAG_DEVICE_SAFE if self.device_safe else 0)
                 | (mp.FLAG_HEATER_ON if self.target_temperature is not None else 0))
        return mp.MattressStatus(
            head_deg=self.elevation["head"], feet_deg=self.elevation["feet"],
            head_target_deg=self.elevation_target["head"],
            feet_target_deg=self.elevation_target["feet"], flags=flags,
            firmness=tuple(round(self.firmness[z]) for z in mp.FIRMNESS_ZONES),  # type: ignore[arg-type]
            temperature_c=self.temperature, target_temperature_c=self.target_temperature,
            vibration_intensity=int(self.vibration["intensity"]),
            vibration_pattern=str(self.vibration["pattern"]),
            fault_bits=self._fault_bits(), boot_count=self.boot_count)

    def _rx_gap(self) -> None:
        self.rx_errors += len(self._parser.flush())

    def _handle_frame(self, frame: Frame, now: float) -> bytes | None:
        self._touch(now)
        if frame.type == mp.MSG_HEARTBEAT:
            return mp.ack(frame.seq, 0).encode()
        if frame.type == mp.MSG_STATUS_REQ:
            return Frame(mp.MSG_STATUS, frame.seq, self._status().encode()).encode()
        if frame.type != mp.MSG_COMMAND:
            return mp.nack(frame.seq, 0, mp.NACK_UNKNOWN_TYPE).encode()
        opcode = frame.payload[0] if frame.payload else 0
        try:
            values = mp.decode_command(frame.payload)
        except mp.MessageError as exc:
            self._log_invalid(now, frame.seq, frame.payload, str(exc))
            return mp.nack(frame.seq, opcode, exc.code).encode()
        action = values.pop("action")
        last = self._last_cmd
        if last is not None and last[0] == frame.seq and last[1] == frame.payload:
            self._log_duplicate(now, frame.seq, action, values)
            return last[2]
        if self._injected_reset(now, frame.seq, action, values):
            return None
        code = self.faults.take_nack()
        blocked = {"set_elevation": "motor_stall", "set_temperature": "overtemperature"}
        if code is None and blocked.get(action) in self.device_faults:
            code = mp.NACK_FAULT
        if code is None:
            try:
                mp.validate_command({"action": action, **values})
            except mp.MessageError as exc:
                self._log(FrameRecord(now, frame.seq, action, values, accepted=False,
                                      error=str(exc)))
                return mp.nack(frame.seq, opcode, exc.code).encode()
        else:
            self._log(FrameRecord(now, frame.seq, action, values, accepted=False,
                                  error=f"NACK {mp.nack_meaning(code)}"))
            return mp.nack(frame.seq, opcode, code).encode()
        self._execute(action, values)
        self._log(FrameRecord(now, frame.seq, action, values))
        reply = mp.ack(frame.seq, opcode).encode()
        self._last_cmd = (frame.seq, frame.payload, reply)
        return reply

    def _execute(self, action: str, v: dict[str, Any]) -> None:
        # Any command means the host is back in control: latched flags clear.
        self.heartbeat_lost = False
        self.reset_flag = False
        if action == "safe_state":
            self._enter_safe_state("host requested safe state")
            return
        if action == "stop":
            self._hold()
            return
        if action == "heater_off":
            self.target_temperature = None
            return
        self.device_safe = False
        if action == "set_elevation":
            self.elevation_target[v["zone"]] = float(v["degrees"])
        elif action == "set_firmness":
            self.firmness_target[v["zone"]] = float(v["level"])
        elif action == "set_temperature":
            self.target_temperature = float(v["celsius"])
        elif action == "set_vibration":
            if v["pattern"] == "off" or v["intensity"] == 0:
                self.vibration = {"intensity": 0, "pattern": "off"}
            else:
                self.vibration = {"intensity": int(v["intensity"]), "pattern": v["pattern"]}

    def _snapshot(self) -> dict[str, Any]:
        return {
            "elevation": dict(self.elevation),
            "elevation_target": dict(self.elevation_target),
            "moving": self._moving("head") or self._moving("feet"),
            "firmness": {z: round(f, 3) for z, f in self.firmness.items()},
            "temperature": self.temperature,
            "target_temperature": self.target_temperature,
            "heater_on": self.target_temperature is not None,
            "vibration": dict(self.vibration),
            "device_safe": self.device_safe,
            "faults": mp.MattressStatus.decode(self._status().encode()).fault_names,
        }
