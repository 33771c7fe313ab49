"""The fault catalogue, each fault injected into a real run (synthetic source, stage chain,
programme, safety layer, serial drivers over ptys to the simulators, E-stop on a mock pin).

For each: no crash; no frame outside the safety limits; when the fault calls for it, every
affected actuator safe within 1 s (simulated time) of the fault being detectable, with an
alarm; recovery once it clears (alarms cleared, the device answering, commands flowing);
the session readable with at most 1 s of samples lost (beyond what an injected overrun
throws away on purpose).
"""

from __future__ import annotations

import pytest

from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from somnoloop_lab.reliability.audit import FrameAudit
from somnoloop_lab.reliability.faults import CATALOGUE, DEVICE_FAULTS, NEEDS_SAFE_STATE, Fault
from somnoloop_lab.reliability.soak import FaultInjector, soak_config

ONSET_S, RUN_S = 120.0, 300.0
DURATION = {"stall": 12.0, "flat": 10.0, "railing": 10.0, "nan": 1.0, "inf": 1.0, "unplug": 10.0,
            "heartbeat_lost": 8.0, "estop": 5.0}
#: Alarm each fault must raise (device faults: the device's own code).
ALARM = {"stall": "signal_stale", "flat": "signal_stale", "railing": "signal_stale",
         "nan": "signal_stale", "inf": "signal_stale", "unplug": "device_lost:{target}",
         "heartbeat_lost": "device_lost:{target}", "estop": "estop"}


class StatusAtStop(RunObserver):
    """The safety layer's status when the run decides to stop (before the shutdown)."""

    def on_stopping(self, run, reason):
        self.status = run.actuation.safety.status()
        self.counters = {n: a.status().get("counters", {}) for n, a in run.actuation.actuators.items()}


@pytest.mark.parametrize("kind", CATALOGUE)
def test_fault_is_survived(tmp_path, kind):
    cfg = soak_config()
    target = "hand" if kind in DEVICE_FAULTS else ""
    fault = Fault(kind, ONSET_S, DURATION.get(kind, 0.0), target)
    audit = FrameAudit(cfg.safety)
    injector = FaultInjector([fault], audit)
    probe = StatusAtStop()
    run = Run(cfg, duration=f"{RUN_S:g}s", session_dir=tmp_path / "s",
              observers=[injector, probe], wrap_source=injector.wrap)
    summary = run.run()

    # an injected overrun throws samples away, so the source may end before the duration
    assert summary.stop_reason in ("duration reached", "source finished")
    assert fault.applied_at is not None
    assert audit.violations == [] and audit.checked > 0
    s = Session(tmp_path / "s")
    sfreq = s.sfreq
    lost = round(RUN_S * sfreq) - injector.source.dropped - s.n_samples
    assert lost <= sfreq  # at most 1 s
    events = s.events()

    if kind in NEEDS_SAFE_STATE:
        detectable = fault.applied_at + (cfg.run.stale_after_s if kind == "stall" else 0.0)
        safe = [e.payload["t"] for e in events if e.kind == "safe_state"
                and e.payload["t"] >= detectable - 1e-9 and (not target or e.payload["target"] == target)]
        assert safe and min(safe) - detectable <= 1.0, (kind, safe[:3], detectable)
        code = ALARM[kind].format(target=target)
        alarms = [e.payload for e in events if e.kind == "alarm" and e.payload["code"] == code]
        assert any(a["state"] == "active" for a in alarms), code
        assert alarms[-1]["state"] == "cleared", f"{code} never cleared after the fault"
    elif kind in DEVICE_FAULTS:
        # a fault the driver's retries absorbed shows in its link counters, a worse one in the journal
        faults = [e.payload for e in events if e.kind == "fault" and e.payload.get("target") == target]
        counters = probe.counters[target]
        assert faults or counters.get("timeouts", 0) or counters.get("retries", 0) \
            or counters.get("nacks", 0) or counters.get("protocol_errors", 0) \
            or counters.get("device_resets", 0), \
            f"the device fault left no trace: {counters}"
    elif kind == "overrun":
        assert any(e.kind == "gap" for e in events)

    # recovery: at the end nothing is latched, held, stale or lost, and no alarm is active
    status = probe.status
    assert not status["estop"] and not status["signal_stale"] and status["hold"] is None, status
    assert not any(d["lost"] for d in status["devices"].values()), status["devices"]
    assert status["alarms"] == []
