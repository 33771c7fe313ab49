"""The tuning console driven headlessly (Textual's Pilot) against a real running loop."""

from __future__ import annotations

import asyncio
import time

import pytest

pytest.importorskip("textual", reason="the console needs Textual (a runtime dependency)")

from firmware_host.console import render  # noqa: E402
from firmware_host.console.app import TuneApp, parse_value  # noqa: E402
from firmware_host.control.client import ControlClient  # noqa: E402
from firmware_host.session import Session  # noqa: E402
from tests.firmware_host.control.live import live_loop  # noqa: E402

KEY = "programme.rules.onset_rocking.trigger.min_probability"


def _onset_min_p(run) -> float:
    rule = next(r for r in run.actuation.programme.config.rules if r.name == "onset_rocking")
    return rule.trigger.min_probability


async def _until(pilot, predicate, timeout_s: float = 8.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch)


async def _edit(pilot, app, text: str) -> None:
    await pilot.press("e")
    await _until(pilot, lambda: app.focused is app.query_one("#edit"), what="the edit line")
    app.query_one("#edit").value = ""
    await _type(pilot, text)
    await pilot.press("enter")


def test_keys_change_refuse_and_undo_a_parameter_and_the_journal_shows_all_three(tmp_path):
    async def drive(live) -> dict:
        app = TuneApp(ControlClient(live.socket, name="pilot"))
        seen: dict = {}
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: app.control == "CONTROL" and app.params, what="control")
            await _until(pilot, lambda: app.state.get("channels"), what="live state")
            await pilot.press("slash")
            await _type(pilot, "onset_rocking.trigger.min_prob")
            await pilot.press("enter")
            assert app._selected() == KEY

            await _edit(pilot, app, "0.85")
            await _until(pilot, lambda: app.message.startswith("set:"), what="the set reply")
            seen["set"] = app.message
            seen["rule_after_set"] = _onset_min_p(live.run)

            await _edit(pilot, app, "1.5")
            await _until(pilot, lambda: "above the maximum" in app.message, what="the refusal")
            seen["refused"] = app.message
            seen["rule_after_refusal"] = _onset_min_p(live.run)

            await pilot.press("u")
            await _until(pilot, lambda: app.message.startswith("undo:"), what="the undo reply")
            seen["undo"] = app.message
            seen["value_cell"] = app.params[KEY]["value"]

            await pilot.press("4")
            await _until(pilot, lambda: len(app.state.get("journal") or []) >= 3, what="journal")
            seen["journal"] = str(app.query_one("#journal-log").render())
            await pilot.press("q")
        return seen

    with live_loop(tmp_path) as live:
        seen = asyncio.run(drive(live))
        final = _onset_min_p(live.run)
    assert seen["set"] == f"set: {KEY} 0.5 → 0.85 (programme)"
    assert seen["rule_after_set"] == 0.85
    assert "1.5 is above the maximum 1.0; allowed: 0.0 to 1.0" in seen["refused"]
    assert seen["rule_after_refusal"] == 0.85
    assert seen["undo"] == f"undo: {KEY} 0.85 → 0.5 (programme)"
    assert seen["value_cell"] == 0.5 and final == 0.5
    lines = [ln for ln in seen["journal"].splitlines() if KEY in ln]
    assert len(lines) == 3
    assert "set" in lines[0] and "0.5 → 0.85" in lines[0]
    assert "REFUSED" in lines[1] and "above the maximum" in lines[1]
    assert "undo" in lines[2] and "0.85 → 0.5" in lines[2]
    control = [e.payload for e in Session(live.run.session_dir).events("control")]
    assert [(e["command"], e["ok"]) for e in control] == [("set", True), ("set", False), ("undo", True)]
    assert all(e["client"].startswith("pilot@") for e in control)


def test_a_second_console_watches_while_one_holds_control(tmp_path):
    async def drive(live) -> tuple[str, str]:
        holder = ControlClient(live.socket, name="holder")
        holder.take_control()
        app = TuneApp(ControlClient(live.socket, name="second"))
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: app.control.startswith("watching (held)"), what="refusal")
            await _until(pilot, lambda: app.state.get("data_s"), what="live state")
            await pilot.press("u")
            await _until(pilot, lambda: "needs control" in app.message, what="the undo refusal")
            message = app.message
            await pilot.press("q")
        holder.close()
        return app.control, message

    with live_loop(tmp_path) as live:
        control, message = asyncio.run(drive(live))
    assert control.startswith("watching")
    assert "it is held by holder@" in message


def test_panes_render_within_80_columns():
    state = {
        "run": {"config": "default", "speed": 10.0}, "data_s": 1234.0, "healthy": True,
        "stage": "N2", "stage_probabilities": {"W": 0.05, "N1": 0.1, "N2": 0.7, "N3": 0.1, "REM": 0.05},
        "hypnogram": ["W", "N1", "N2", "N3", "REM"] * 30, "epoch_s": 30.0,
        "channels": [{"name": "C4-M1", "type": "eeg", "flags": [], "ptp_uv": 120.0,
                      "trace": [float(i % 7) for i in range(24)]},
                     {"name": "FA1", "type": "forearm_emg", "flags": ["clipped"], "ptp_uv": 9000.0,
                      "trace": [0.0] * 24}],
        "band_powers": {"C4-M1": {"delta": 60, "theta": 20, "alpha": 10, "sigma": 5, "beta": 5}},
        "emg_envelope": {"FA1": {"rms_uv": 40.0}}, "grip": {"label": "power", "force": 0.4,
                                                             "confidence": 0.9},
        "alarms": [{"priority": "medium", "code": "held_safe", "message": "x" * 200,
                    "acknowledged": False}],
        "actuators": {"mattress": {"commanded": {"last": {"action": "set_elevation",
                                                          "sent": {"zone": "head", "degrees": 5}}},
                                   "reported": {"head": 4.5, "moving": True}, "lost": False}},
        "recent": [{"t": 10.0, "kind": "command", "text": "y" * 300}],
        "loop_latency_ms": 2.5, "loop_latency_max_ms": 9.0, "cpu_percent": 12.0,
    }
    for text, width in ((render.signals(state, 44), 44), (render.stage(state, 34), 34),
                        (render.emg(state, 34), 34), (render.alarms(state, 34), 34),
                        (render.actuators(state, 78), 78), (render.recent(state, 78, 5), 78)):
        assert text.plain, "empty pane"
        assert max(len(line) for line in text.plain.splitlines()) <= width, text.plain
    assert "clip" in render.signals(state, 44).plain
    assert render.hypnogram(["W", "N2", "REM"], 10, 30.0).plain.endswith("W2R")
    assert len(render.header(state, "CONTROL").plain) <= 80
    assert render.sparkline([0, 1, 2, 3], 4) == "▁▃▆█"  # lowest and highest at the ends


def test_typed_values_are_json_when_they_parse():
    assert parse_value("0.7") == 0.7 and parse_value("true") is True
    assert parse_value("[1, 2]") == [1, 2] and parse_value("wave") == "wave"
