"""The runtime's seams: lifecycle hooks, the command queue, dry actuation, loud missing devices."""

from __future__ import annotations

import threading

import pytest

from firmware_host.cli import main
from firmware_host.config import parse_config
from firmware_host.errors import UsageError
from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run
from firmware_host.session import Session

#: A light config: no stager model search, no EMG decoder, short night.
LIGHT = {"source": {"synthetic": {"forearm_channels": [], "gestures": False}},
         "emg": {"enabled": False}}


class Recorder(RunObserver):
    """Remembers the hooks it saw, in order."""

    name = "recorder"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.infos: list = []

    def on_opened(self, run):
        self.calls.append("opened")

    def on_ready(self, run):
        self.calls.append("ready")

    def on_iteration(self, run, info):
        if not self.calls or self.calls[-1] != "iteration":
            self.calls.append("iteration")
        self.infos.append(info)

    def on_stopping(self, run, reason):
        self.calls.append(f"stopping:{reason}")

    def on_closed(self, run, summary):
        self.calls.append("closed")


def _cfg(**extra):
    data = {k: dict(v) for k, v in LIGHT.items()}
    data.update(extra)
    return parse_config(data)


def test_hooks_are_called_in_lifecycle_order(tmp_path):
    obs = Recorder()
    run = Run(_cfg(), duration="2m", session_dir=tmp_path / "s", actuation="dry", observers=[obs])
    summary = run.run()
    # dry actuators answer at once: ready after the first chunk of data
    assert obs.calls == ["opened", "ready", "iteration", "stopping:duration reached", "closed"]
    assert summary.data_s == pytest.approx(120.0)
    assert obs.infos[-1].healthy and obs.infos[-1].data_s == pytest.approx(120.0)
    assert all(i.processing_s >= 0 for i in obs.infos)


def test_ready_waits_for_the_devices_to_answer(tmp_path):
    obs = Recorder()
    run = Run(_cfg(), duration="30s", session_dir=tmp_path / "s", observers=[obs])
    run.run()
    assert "ready" in obs.calls  # simulators on ptys answered their first heartbeat


def test_a_raising_observer_is_journalled_and_the_night_goes_on(tmp_path):
    class Broken(RunObserver):
        name = "broken"

        def on_iteration(self, run, info):
            raise RuntimeError("display crashed")

    run = Run(_cfg(), duration="1m", session_dir=tmp_path / "s", actuation="dry",
              observers=[Broken()])
    summary = run.run()
    assert summary.data_s == pytest.approx(60.0) and summary.stop_reason == "duration reached"
    faults = Session(tmp_path / "s").events("fault")
    assert faults and faults[0].payload["where"] == "observer:broken"
    assert "display crashed" in faults[0].payload["error"]


def test_commands_are_applied_on_the_loop_thread_between_iterations(tmp_path):
    seen: dict = {}

    class Submitter(RunObserver):
        """Submits from another thread once, the first time the loop reaches 10 s."""

        def on_iteration(self, run, info):
            if info.data_s >= 10 and "future" not in seen:
                def apply(now):
                    seen["thread"] = threading.get_ident()
                    seen["now"] = now
                    return {"applied_at": now}

                def refuse(now):
                    raise ValueError("runtime.nope is not a parameter; allowed: ...")

                t = threading.Thread(target=lambda: seen.update(
                    future=run.submit("set", apply, client="test", params={"key": "x"}),
                    refused=run.submit("set", refuse, client="test")))
                t.start()
                t.join()

    loop_thread = threading.get_ident()
    run = Run(_cfg(), duration="1m", session_dir=tmp_path / "s", actuation="dry",
              observers=[Submitter()])
    run.run()
    assert seen["thread"] == loop_thread
    assert seen["future"].result(timeout=1) == {"applied_at": seen["now"]}
    with pytest.raises(ValueError, match="not a parameter"):
        seen["refused"].result(timeout=1)
    controls = [e.payload for e in Session(tmp_path / "s").events("control")]
    assert [c["ok"] for c in controls] == [True, False]
    assert controls[0]["client"] == "test" and controls[0]["params"] == {"key": "x"}
    assert "not a parameter" in controls[1]["error"]


def test_bad_actuation_mode_is_refused():
    with pytest.raises(UsageError, match="allowed: \\['devices', 'dry'\\]"):
        Run(_cfg(), actuation="wet")


def test_dry_actuation_records_commands_without_devices(tmp_path):
    run = Run(parse_config({}), duration="20m", session_dir=tmp_path / "s", actuation="dry")
    summary = run.run()
    assert not any(t.name.startswith("sim-") for t in threading.enumerate())
    s = Session(tmp_path / "s")
    commands, acks = s.events("command"), s.events("ack")
    assert commands and acks
    assert all(a.payload.get("dry") for a in acks)
    assert summary.events["command"] == len(commands)
    config = [e.payload for e in s.events("config") if "actuation" in e.payload]
    assert config[0]["actuation"]["dry"] is True


def test_an_unavailable_actuator_is_loud(tmp_path, capsys):
    cfg = tmp_path / "missing.toml"
    cfg.write_text('[actuators.mattress]\nport = "/dev/does-not-exist"\n'
                   '[actuators.hand]\nport = "/dev/null"\n')
    rc = main(["run", "--config", str(cfg), "--duration", "1m", "--quiet",
               "--session-dir", str(tmp_path / "s")])
    out, err = capsys.readouterr()
    assert rc == 0  # the night is still recorded
    assert "actuator 'mattress' is configured but unavailable" in err
    assert "actuator 'hand' is configured but unavailable" in err
    assert "/dev/does-not-exist" in err
    assert "unavailable: mattress, hand" in out  # even --quiet's closing line says it
    alarms = [e.payload["code"] for e in Session(tmp_path / "s").events("alarm")]
    assert {"device_unavailable:mattress", "device_unavailable:hand"} <= set(alarms)


def test_a_run_opened_on_one_thread_and_run_on_another_journals_the_safety_layer(tmp_path):
    run = Run(_cfg(), duration="1m", session_dir=tmp_path / "s", actuation="dry")
    run.open()  # built here (a control server or a test harness may do this) ...
    worker = threading.Thread(target=run.run)  # ... iterated on another thread
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive()
    safe = Session(tmp_path / "s").events("safe_state")
    assert {e.payload["target"] for e in safe} == {"mattress", "hand"}  # the shutdown's safe states
