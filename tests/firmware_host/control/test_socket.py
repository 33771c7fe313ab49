"""The control socket against a real running loop (dry actuation, synthetic night)."""

from __future__ import annotations

import json
import os
import socket
import stat
import time

import pytest

from firmware_host.cli import main
from firmware_host.control import protocol as P
from firmware_host.control.client import ControlClient, ControlError
from firmware_host.control.server import ControlServer
from firmware_host.errors import UsageError
from firmware_host.runtime.hooks import RunObserver
from firmware_host.session import Session
from firmware_host.stages.quality import QualityStage
from tests.firmware_host.control.live import live_loop

ONSET_P = "programme.rules.onset_rocking.trigger.min_probability"
FADE_DWELL = "programme.rules.onset_rocking_fade.trigger.dwell"


def _raw(path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(path))
    s.settimeout(5.0)
    return s


def _read_line(s: socket.socket, timeout_s: float = 5.0) -> dict:
    s.settimeout(timeout_s)
    buf = b""
    while b"\n" not in buf:
        data = s.recv(65536)
        if not data:
            raise ConnectionError(f"closed after {buf!r}")
        buf += data
    return json.loads(buf.split(b"\n", 1)[0])


def _closed(s: socket.socket, timeout_s: float = 2.0) -> bool:
    s.settimeout(timeout_s)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def _control_events(session_dir):
    return [e.payload for e in Session(session_dir).events("control")]


class QualitySpy(RunObserver):
    """Records, after every iteration, the clock time and the quality stage's threshold."""

    name = "quality-spy"

    def __init__(self) -> None:
        self.seen: list[tuple[float, float]] = []

    def on_iteration(self, run, info):
        stage = next(s for s in run.controller.pipeline.stages if isinstance(s, QualityStage))
        self.seen.append((info.now, stage.config.flat_std_uv))


def test_socket_file_is_owner_only_and_removed_at_the_end(tmp_path):
    with live_loop(tmp_path) as live:
        mode = stat.S_IMODE(os.stat(live.socket).st_mode)
        assert stat.S_ISSOCK(os.stat(live.socket).st_mode)
        assert mode == 0o600
        with pytest.raises(UsageError, match="another somnoloop is listening"):
            ControlServer(live.socket).listen()
    assert not live.socket.exists()


def test_a_set_is_used_by_the_loop_on_the_next_iteration(tmp_path):
    spy = QualitySpy()
    with live_loop(tmp_path, observers=(spy,)) as live:
        live.wait_for(lambda: live.run.summary.data_s > 3, what="3 s of data")
        with ControlClient(live.socket, name="test") as c:
            c.take_control()
            result = c.set("quality.flat_std_uv", 100.0)
            assert result["old"] == 0.5 and result["new"] == 100.0
            assert result["applied_to"] == ["quality"]
            assert c.get("quality.flat_std_uv") == 100.0

            def c4_flags() -> list[str]:
                return next(ch for ch in c.status()["channels"] if ch["name"] == "C4-M1")["flags"]
            live.wait_for(lambda: c4_flags() == ["flat"], what="the live view's flat flag")
            n = len(spy.seen)
            live.wait_for(lambda: len(spy.seen) > n + 12, what="more iterations")
    (event,) = [e for e in _control_events(live.run.session_dir) if e["command"] == "set"]
    assert event["ok"] and event["client"].startswith("test@")
    assert event["result"]["old"] == 0.5 and event["result"]["new"] == 100.0
    t_set = event["t"]
    before = [v for t, v in spy.seen if t <= t_set]
    after = [v for t, v in spy.seen if t > t_set]
    assert before and set(before) == {0.5}
    assert after and set(after) == {100.0}  # the very first iteration after the change has it
    # ... and the loop acts on it: 28 µV of EEG is now "flat" on every EEG channel, so the
    # loop declares the signal invalid and the safety layer holds the actuators safe
    stale = [e.t for e in Session(live.run.session_dir).events("alarm")
             if e.payload["code"] == "signal_stale" and e.payload["state"] == "active"]
    assert stale and min(stale) > t_set and min(stale) - t_set < 2.0


def test_safety_keys_and_restart_keys_are_refused_with_the_reason(tmp_path):
    with live_loop(tmp_path) as live, ControlClient(live.socket) as c:
        c.take_control()
        with pytest.raises(ControlError, match=r"\[safety\] section is read-only") as exc:
            c.set("safety.mattress.head_elevation_max_deg", 5)
        assert exc.value.code == "refused"
        with pytest.raises(ControlError, match="needs a restart"):
            c.set("run.tick_s", 0.1)
        with pytest.raises(ControlError, match="above the maximum 1.0"):
            c.set("programme.rules.onset_rocking.trigger.min_probability", 2)
        assert live.run.actuation.safety.config.mattress.head_elevation_max_deg != 5
    refused = [e for e in _control_events(live.run.session_dir) if not e["ok"]]
    assert [e["params"]["key"] for e in refused] == [
        "safety.mattress.head_elevation_max_deg", "run.tick_s", ONSET_P]


def test_one_client_holds_control_others_watch(tmp_path):
    with live_loop(tmp_path) as live:
        a = ControlClient(live.socket, name="a")
        b = ControlClient(live.socket, name="b")
        a.take_control()
        with pytest.raises(ControlError, match="held by a@") as exc:
            b.take_control()
        assert exc.value.code == "control_held"
        with pytest.raises(ControlError) as exc:
            b.set(ONSET_P, 0.9)
        assert exc.value.code == "not_controller"
        assert b.status()["data_s"] > 0  # watching is allowed
        assert a.set(ONSET_P, 0.9)["new"] == 0.9
        a.close()  # control goes with the connection
        live.wait_for(lambda: live.server.n_clients == 1, what="a's disconnection")
        b.take_control()
        assert b.undo()["new"] == 0.5  # undo reverts a's change: the stack belongs to the run
        b.close()


def test_bad_requests_get_errors_and_the_loop_keeps_its_pace(tmp_path):
    speed, tick = 4.0, 0.25
    with live_loop(tmp_path, speed=str(speed)) as live:
        iters = live.server.snapshots
        t0, n0 = time.monotonic(), iters.iterations
        time.sleep(1.0)
        base_rate = (iters.iterations - n0) / (time.monotonic() - t0)

        t1, n1 = time.monotonic(), iters.iterations
        s = _raw(live.socket)
        s.sendall(b"{not json\n")
        assert _read_line(s)["code"] == "bad_json"
        s.sendall(b'{"op": "launch"}\n')
        assert _read_line(s)["code"] == "bad_request"
        s.sendall(b'[1, 2]\n')
        assert _read_line(s)["code"] == "bad_json"
        s.sendall(b'{"op": "hello", "id": 7}\n')  # still served after errors
        assert _read_line(s)["type"] == "hello"

        big = _raw(live.socket)
        big.sendall(b'{"op": "get", "key": "' + b"x" * (P.MAX_REQUEST_BYTES + 10) + b'"}\n')
        assert _read_line(big)["code"] == "too_large"
        assert _closed(big)

        half = _raw(live.socket)
        half.sendall(b'{"op": "get", "key": "programme.ru')  # never finished
        sent = time.monotonic()
        reply = _read_line(half, timeout_s=P.REQUEST_TIMEOUT_S + 3)
        assert reply["code"] == "timeout"
        assert time.monotonic() - sent >= P.REQUEST_TIMEOUT_S - 0.1
        assert _closed(half)

        dead = _raw(live.socket)  # subscribes fast with traces and never reads
        dead.sendall(b'{"op": "subscribe", "rate_hz": 10}\n')
        time.sleep(0.5)
        abuse_rate = (iters.iterations - n1) / (time.monotonic() - t1)
        for sock in (s, dead):
            sock.close()
    expected = speed / tick
    assert base_rate == pytest.approx(expected, rel=0.25)
    assert abuse_rate == pytest.approx(expected, rel=0.25), (base_rate, abuse_rate)


def test_status_command_prints_the_documented_json(tmp_path, capsys):
    with live_loop(tmp_path) as live:
        assert main(["status", "--socket", str(live.socket), "--json"]) == 0
        state = json.loads(capsys.readouterr().out)
        assert main(["status", "--socket", str(live.socket)]) == 0
        text = capsys.readouterr().out
    for key in ("stage", "stage_probabilities", "actuators", "alarms", "loop_latency_ms", "data_s"):
        assert key in state
    assert state["data_s"] > 0 and state["loop_latency_ms"] >= 0
    assert set(state["actuators"]) == {"mattress", "hand"}
    assert "channels" in state and "trace" not in state["channels"][0]  # one-shot: no traces
    assert "loop latency" in text and "alarms" in text


def test_status_without_a_loop_is_a_clear_error(tmp_path, capsys):
    assert main(["status", "--socket", str(tmp_path / "none.sock")]) == 2
    assert "is a loop running" in capsys.readouterr().err


def test_subscription_streams_live_state(tmp_path):
    with live_loop(tmp_path) as live, ControlClient(live.socket) as c:
        assert c.request({"op": "subscribe", "rate_hz": 5, "points": 20})["rate_hz"] == 5
        states = []
        deadline = time.monotonic() + 5
        while len(states) < 4 and time.monotonic() < deadline:
            msg = c.read_message(1.0)
            if msg and msg["type"] == "state":
                states.append(msg)
        with pytest.raises(ControlError, match="rate_hz"):
            c.request({"op": "subscribe", "rate_hz": 1000})
        with pytest.raises(ControlError, match=r"span_s = 60; allowed: a number from 1 to 30"):
            c.request({"op": "subscribe", "span_s": 60})
    assert len(states) == 4
    assert states[-1]["data_s"] > states[0]["data_s"]
    eeg = next(ch for ch in states[-1]["channels"] if ch["name"] == "C4-M1")
    assert len(eeg["trace"]) == 20 and eeg["flags"] == [] and "envelope" not in eeg  # version 1 as it was
    assert 0 < states[-1]["trace_window"]["span_s"] <= 8.0  # the default time base (or less data)
    assert set(states[-1]["band_powers"]["C4-M1"]) == {"delta", "theta", "alpha", "sigma", "beta"}
    assert "Chin" in states[-1]["emg_envelope"]


def test_save_writes_overrides_that_the_next_start_applies(tmp_path, capsys):
    with live_loop(tmp_path) as live, ControlClient(live.socket) as c:
        c.take_control()
        c.set(FADE_DWELL, "10m")
        saved = c.save()
    assert saved["overrides"] == {FADE_DWELL: "10m"}
    text = live.overrides.read_text()
    assert f'{FADE_DWELL} = "10m"' in text
    config = tmp_path / "light.toml"
    config.write_text('[source.synthetic]\nforearm_channels = []\ngestures = false\n'
                      '[emg]\nenabled = false\n')
    code = main(["run", "--config", str(config), "--duration", "30s", "--quiet", "--actuation", "dry",
                 "--overrides", str(live.overrides), "--session-dir", str(tmp_path / "next")])
    assert code == 0
    err = capsys.readouterr().err
    assert f"override {FADE_DWELL} = '10m' (from {live.overrides})" in err
    config_event = Session(tmp_path / "next").events("config")[0].payload
    (fade,) = [r for r in config_event["programme"]["rules"] if r["name"] == "onset_rocking_fade"]
    assert fade["trigger"]["dwell"] == "10m"


def test_safe_state_and_alarm_acknowledgement(tmp_path):
    with live_loop(tmp_path) as live, ControlClient(live.socket) as c:
        c.take_control()
        assert c.request({"op": "safe_state"})["result"] == {"safe_state": True}
        with pytest.raises(ControlError, match="no active alarm 'nope'"):
            c.request({"op": "ack_alarm", "code": "nope"})
        live.wait_for(lambda: live.run.actuation.safety.alarms.active, what="the safe-state alarm")
        code = live.run.actuation.safety.alarms.active[0].code
        c.request({"op": "ack_alarm", "code": code})
        live.wait_for(lambda: any(a["acknowledged"] for a in c.status()["alarms"]), what="the ack")
    safe = Session(live.run.session_dir).events("safe_state")
    assert any("control: safe state asked by" in e.payload["reason"] for e in safe)


def test_stage_and_decoder_keys_reach_the_running_stages(tmp_path):
    from firmware_host.config import parse_config
    from firmware_host.emg.decoder import EmgDecoder
    from firmware_host.staging.stager import SleepStager

    cfg = parse_config({})  # the default night: stager and the synthetic wearer's grip decoder
    with live_loop(tmp_path, cfg=cfg) as live, ControlClient(live.socket) as c:
        stages = live.run.controller.pipeline.stages
        decoder = next(s for s in stages if isinstance(s, EmgDecoder))
        stager = next(s for s in stages if isinstance(s, SleepStager))
        old_post = decoder.post
        c.take_control()
        assert c.set("emg.vote", 5)["applied_to"] == ["emg"]
        assert decoder.post is not old_post and decoder.post.vote == 5 and decoder.cfg.vote == 5
        assert c.set("emg.onset_on", 0.2)["new"] == 0.2 and decoder.post.onset_on == 0.2
        with pytest.raises(ControlError, match=r"emg.onset_off \(0.3\) must be <= emg.onset_on"):
            c.set("emg.onset_off", 0.3)
        assert c.set("stager.max_bad_fraction", 0.2)["applied_to"] == ["stager"]
        assert stager.cfg.max_bad_fraction == 0.2
        assert c.undo()["new"] == 0.5 and stager.cfg.max_bad_fraction == 0.5
        assert c.undo()["new"] == 0.08 and decoder.post.onset_on == 0.08
