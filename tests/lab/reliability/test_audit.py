"""The frame audit on hand-made frame logs: bounds, slew, and where a set-point sequence ends."""

from __future__ import annotations

from actuators.simulators.base import FrameRecord
from firmware_host.config import load_config
from somnoloop_lab.reliability.audit import FrameAudit

SAFETY = load_config(None).safety  # temperature slew 0.5 °C/min, 16-32 °C


def _temp(t: float, c: float) -> FrameRecord:
    return FrameRecord(t, 0, "set_temperature", {"celsius": c})


def _audit(frames) -> list[str]:
    audit = FrameAudit(SAFETY)
    audit.check("mattress", frames)
    return audit.violations


def test_a_set_point_jump_is_a_slew_violation():
    (v,) = _audit([_temp(0.0, 27.43), _temp(36.0, 26.34)])
    assert "mattress.temperature" in v and "slew" in v
    assert _audit([_temp(0.0, 27.4), _temp(36.0, 27.1)]) == []  # 0.3 °C in 36 s is allowed


def test_heater_off_safe_state_or_reboot_restart_the_temperature_sequence():
    for brk in (FrameRecord(10.0, 0, "safe_state", {}), FrameRecord(10.0, 0, "heater_off", {}),
                FrameRecord(10.0, 0, "set_temperature", {"celsius": 27.0}, accepted=False,
                            error="device reset while receiving")):
        assert _audit([_temp(0.0, 27.43), brk, _temp(36.0, 26.34)]) == []


def test_elevation_keeps_its_sequence_across_a_stop_and_bounds_always_apply():
    frames = [FrameRecord(0.0, 0, "set_elevation", {"zone": "head", "degrees": 10.0}),
              FrameRecord(1.0, 0, "safe_state", {}),
              FrameRecord(2.0, 0, "set_elevation", {"zone": "head", "degrees": 20.0})]
    assert any("slew" in v for v in _audit(frames))
    assert any("outside" in v for v in _audit([FrameRecord(0.0, 0, "set_elevation",
                                                           {"zone": "head", "degrees": 45.0})]))
