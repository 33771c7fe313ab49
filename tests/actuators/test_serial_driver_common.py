"""Behaviour both serial drivers get from :class:`actuators.driver_base.SerialDriver`,
checked for each against its simulator over a real pty with real pyserial."""

from __future__ import annotations

import pytest

from actuators.base import ActuatorError, Command
from firmware_host.clock import FakeClock
from tests.actuators.conftest import RIGS

KINDS = sorted(RIGS)


@pytest.mark.parametrize("kind", KINDS)
def test_open_failure_names_port(kind):
    driver_cls = RIGS[kind][0]
    with pytest.raises(ActuatorError, match=f"/dev/no-{kind}"):
        driver_cls(f"/dev/no-{kind}")


@pytest.mark.parametrize("kind", KINDS)
def test_reconnect_reopens_the_port(kind, make_rig):
    sim, drv = make_rig(kind, FakeClock(10.0))
    drv.reconnect()
    assert drv.status()["connected"] is True
    drv.apply(Command(kind, "stop"))
    sim.unplug()
    with pytest.raises(ActuatorError, match="status request failed"):
        drv.reconnect()


@pytest.mark.parametrize("kind", KINDS)
def test_closed_driver_refuses_everything(kind, make_rig):
    _, drv = make_rig(kind, FakeClock(10.0))
    drv.close()
    drv.close()  # idempotent
    assert drv.status()["connected"] is False
    assert drv.heartbeat(force=True) is False
    with pytest.raises(ActuatorError, match="closed"):
        drv.reconnect()
    with pytest.raises(ActuatorError, match="closed"):
        drv.poll_status()
    with pytest.raises(ActuatorError, match="closed"):
        drv.apply(Command(kind, "stop"))


@pytest.mark.parametrize("kind", KINDS)
def test_command_for_another_target_is_refused(kind, make_rig):
    _, drv = make_rig(kind, FakeClock(10.0))
    with pytest.raises(ActuatorError, match=f"sent to the {kind} driver"):
        drv.apply(Command("toaster", "stop"))
    assert drv.counters["sent"] == 1  # only the status poll at open
