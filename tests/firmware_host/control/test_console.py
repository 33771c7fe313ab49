"""The tuning console driven headlessly (Textual's Pilot) against a real running loop."""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("textual", reason="the console needs Textual (a runtime dependency)")

from firmware_host.config import parse_config  # noqa: E402
from firmware_host.console import render  # noqa: E402
from firmware_host.console.app import TuneApp, parse_value  # noqa: E402
from firmware_host.control import protocol as P  # noqa: E402
from firmware_host.control.client import ControlClient  # noqa: E402
from firmware_host.session import Session  # noqa: E402
from somnoloop_lab.reliability.faults import Fault, FaultySource  # noqa: E402
from tests.firmware_host.control.live import light_config, live_loop  # noqa: E402

KEY = "programme.rules.onset_rocking.trigger.min_probability"
ROOT = Path(__file__).resolve().parents[3]


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
        "trace_window": {"span_s": 10.0, "end_sample": 5000, "sfreq": 250.0},
        "channels": [{"name": "C4-M1", "type": "eeg", "flags": [], "ptp_uv": 120.0,
                      "envelope": {"lo_uv": -60.0, "step_uv": 0.5, "min": [i % 7 for i in range(54)],
                                   "max": [240 - i % 7 for i in range(54)]}},
                     {"name": "FA1", "type": "forearm_emg", "flags": ["clipped"], "ptp_uv": 9000.0,
                      "envelope": {"lo_uv": 0.0, "step_uv": 0.0, "min": [0] * 54, "max": [0] * 54}}],
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
    for text, width in ((render.signals(state, 44), 44), (render.signals(state, 44, 1), 44),
                        (render.signals(state, 44, 4), 44), (render.stage(state, 34), 34),
                        (render.emg(state, 34), 34), (render.alarms(state, 34), 34),
                        (render.actuators(state, 78), 78), (render.recent(state, 78, 5), 78)):
        assert text.plain, "empty pane"
        assert max(len(line) for line in text.plain.splitlines()) <= width, text.plain
    lines = render.signals(state, 44).plain.splitlines()
    assert lines[0].startswith("last 10 s, 185 ms/col") and len(lines) == 1 + 2 * 2 + 1
    assert lines[-1].split() == ["╵-10s", "╵-5s", "now╵"]
    assert lines[1].startswith("C4-M1") and lines[1].endswith("120µV")  # (240 - 0) x 0.5 µV
    assert lines[2].startswith("eeg ok") and lines[4].startswith("fa  clip")
    assert render.hypnogram(["W", "N2", "REM"], 10, 30.0).plain.endswith("W2R")
    assert len(render.header(state, "CONTROL").plain) <= 80


#: Unicode braille: dots 1-2-3-7 are the left column (bits 0, 1, 2, 6), 4-5-6-8 the right.
DOT_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


def _dot_extents(lines: list[str]) -> list[tuple[int, int] | None]:
    """Per dot column of braille ``lines``: the (top, bottom) lit dot row, 0 = top, or None."""
    out = []
    for c in range(2 * len(lines[0])):
        lit = [4 * r + d for r, line in enumerate(lines) for d in range(4)
               if (ord(line[c // 2]) - 0x2800) & DOT_BITS[c % 2][d]]
        out.append((min(lit), max(lit)) if lit else None)
    return out


def test_braille_envelope_lights_each_column_from_its_max_to_its_min():
    lo = [100, 100, 100, -1, 0, 100, 100, 90]
    hi = [110, 110, 255, -1, 110, 110, 110, 90]  # a spike up at 2, one down at 4, no data at 3
    lines = render.braille_envelope(lo, hi, rows=2)  # 8 dot rows: 255 -> row 0, 0 -> row 7
    assert len(lines) == 2 and all(len(line) == 4 for line in lines)
    ext = _dot_extents(lines)
    assert ext[2] == (0, 4) and ext[4] == (4, 7) and ext[3] is None
    assert ext[0] == ext[1] == ext[5] == ext[6] == (4, 4) and ext[7] == (5, 5)
    assert render.braille_envelope([5, 5], [5, 5], rows=1) == ["⠒"]  # flat: the middle rows


def test_typed_values_are_json_when_they_parse():
    assert parse_value("0.7") == 0.7 and parse_value("true") is True
    assert parse_value("[1, 2]") == [1, 2] and parse_value("wave") == "wave"


def _nf_config():
    data = tomllib.loads((ROOT / "configs" / "neurofeedback.toml").read_text())
    data["source"]["synthetic"]["trainee"]["blink_every_s"] = 3.0  # a blink in every window
    data["neurofeedback"]["blocks"] = ["baseline 1m", "training 10m"]
    return parse_config(data)


def test_traces_are_the_raw_samples_min_max_envelope_at_the_chosen_time_base(tmp_path):
    async def drive(live) -> tuple[list[float], list[tuple[dict, str]]]:
        app = TuneApp(ControlClient(live.socket, name="scope"), watch=True)
        spans, shown = [], []
        async with app.run_test(size=(80, 24)) as pilot:
            def span() -> float | None:
                return (app.state.get("trace_window") or {}).get("span_s")

            await _until(pilot, lambda: span() == 10.0 and app.state["data_s"] > 32, timeout_s=30,
                         what="the 10-s time base and 30 s of signal")
            for key, want in (("plus", 2.0), ("minus", 10.0), ("minus", 30.0), ("plus", 10.0)):
                await pilot.press(key)
                await _until(pilot, lambda w=want: span() == w, what=f"the {want:g}-s time base")
                spans.append(span())
            for _ in range(4):  # a few screens, each with the state it was drawn from
                end = app.state["trace_window"]["end_sample"]
                await _until(pilot, lambda e=end: app.state["trace_window"]["end_sample"] > e,
                             what="a new state")
                shown.append((app.state, str(app.query_one("#signals").render())))
            await pilot.press("q")
        return spans, shown

    with live_loop(tmp_path, cfg=_nf_config(), speed="4", duration="11m") as live:
        spans, shown = asyncio.run(drive(live))
    assert spans == [2.0, 10.0, 30.0, 10.0]
    session = Session(live.run.session_dir)
    blinks = [e for e in live.run.source.night.transients if e.kind == "blink"]
    checked_blinks = 0
    for state, text in shown:
        window = state["trace_window"]
        n = round(window["span_s"] * window["sfreq"])
        end = window["end_sample"]
        raw, samples, _ = session.read(end - n, end)
        assert samples[0] == end - n and samples.size == n
        lines = text.splitlines()
        names = [ch["name"] for ch in state["channels"]]
        rows = (len(lines) - 1) // len(names)
        assert rows >= 2 and max(len(line) for line in lines) <= 44
        for i, ch in enumerate(state["channels"]):
            x = raw[i] - raw[i].mean()
            points = len(ch["envelope"]["max"])
            cols = [x[c * n // points:(c + 1) * n // points] for c in range(points)]
            vmin, vmax = min(seg.min() for seg in cols), max(seg.max() for seg in cols)
            block = lines[1 + rows * i:1 + rows * (i + 1)]
            assert block[0].startswith(ch["name"])
            trace = [line[render.LABEL_W:render.LABEL_W + points // 2] for line in block]
            assert f"{vmax - vmin:.0f}µV" in block[0][-render.AXIS_W:]
            dots = 4 * rows - 1
            for c, (top, bottom) in enumerate(_dot_extents(trace)):  # drawn vs raw samples
                assert abs(top - (vmax - cols[c].max()) * dots / (vmax - vmin)) <= 1.0, (ch["name"], c)
                assert abs(bottom - (vmax - cols[c].min()) * dots / (vmax - vmin)) <= 1.0, (ch["name"], c)
            if ch["name"] != "E1":
                continue
            peak_col = int(np.argmax([seg.max() for seg in cols]))
            assert _dot_extents(trace)[peak_col][0] == 0  # the top dot is where the peak is
            for b in blinks:  # a blink inside the window is the tallest thing in its columns
                if end - n <= b.start_sample and b.stop_sample <= end:
                    first, last = ((b.start_sample - end + n) * points // n,
                                   (b.stop_sample - 1 - end + n) * points // n)
                    assert min(_dot_extents(trace)[c][0] for c in range(first, last + 1)) <= 1
                    checked_blinks += 1
    assert checked_blinks >= 4, "the trainee blinks every ~3 s: a 10-s window holds one"


@pytest.mark.skipif(shutil.which("tmux") is None,
                    reason="tmux not installed (the console in a real terminal)")
def test_the_console_in_tmux_at_80x24_shows_every_channel_as_a_braille_envelope(tmp_path):
    server = f"slc{os.getpid()}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tools"),
                                                        os.environ.get("PYTHONPATH", "")])}

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-u", "-L", server, *args], check=True, capture_output=True,
                              text=True, env=env).stdout

    def screen_with(text: str, timeout_s: float = 30.0) -> list[str]:
        deadline = time.monotonic() + timeout_s
        while True:
            lines = tmux("capture-pane", "-p").splitlines()
            if any(text in line for line in lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never on screen:\n" + "\n".join(lines))
            time.sleep(0.2)

    with live_loop(tmp_path, cfg=_nf_config(), speed="4", duration="11m") as live:
        command = f"{sys.executable} -m firmware_host tune --watch --socket {live.socket}"
        tmux("new-session", "-d", "-x", "80", "-y", "24", command)
        try:
            live.wait_for(lambda: live.server.snapshots.latest is not None
                          and live.server.snapshots.latest.data_s > 32, timeout_s=30, what="30 s of data")
            first = screen_with("last 10 s")
            tmux("send-keys", "--", "-")
            zoomed = screen_with("last 30 s")
        finally:
            tmux("kill-server")
    for screen in (first, zoomed):
        assert len(screen) <= 24 and max(len(line) for line in screen) <= 80
        for name in ("Cz", "Pz", "C4", "E1", "E2", "Chin"):
            (line,) = [ln for ln in screen if ln.startswith(f"{name} ")]
            trace = line[render.LABEL_W:render.LABEL_W + 28]
            assert all("\u2800" <= c <= "\u28ff" for c in trace), line  # braille cells only
            assert re.search(r"\d+(\.\d)?k?µV", line[render.LABEL_W + 28:44]), line
        assert sum(ln.startswith("eeg ok") for ln in screen) == 3


def _signals(app) -> list[str]:
    return str(app.query_one("#signals").render()).splitlines()


def _column_of(ago_s: float, window: dict, points: int) -> int:
    """The envelope column whose samples include the one ``ago_s`` before the newest.

    The server's rule (PROTOCOL.md): of the ``n`` samples shown, column ``c`` holds
    ``[c·n/points, (c+1)·n/points)``.
    """
    n = round(window["span_s"] * window["sfreq"])
    i = min(n - 1, n - round(ago_s * window["sfreq"]))
    return next(c for c in range(points) if c * n // points <= i < (c + 1) * n // points)


def test_the_time_axis_marks_the_columns_that_hold_those_times_at_each_time_base(tmp_path):
    async def drive(live) -> list[tuple[dict, list[str], int]]:
        app = TuneApp(ControlClient(live.socket, name="axis"), watch=True)
        seen = []
        async with app.run_test(size=(80, 24)) as pilot:
            def span() -> float | None:
                return (app.state.get("trace_window") or {}).get("span_s")

            await _until(pilot, lambda: span() == 10.0 and app.state["data_s"] > 31, timeout_s=40,
                         what="the 10-s time base and 30 s of signal")
            height = app.query_one("#signals").size.height
            seen.append((app.state, _signals(app), height))
            for key, want in (("plus", 2.0), ("minus", 10.0), ("minus", 30.0)):
                await pilot.press(key)
                await _until(pilot, lambda w=want: span() == w, what=f"the {want:g}-s time base")
                seen.append((app.state, _signals(app), height))
            await pilot.press("q")
        return seen

    with live_loop(tmp_path) as live:
        seen = asyncio.run(drive(live))
    labels = {10.0: ["-10s", "-5s", "now"], 2.0: ["-2s", "-1s", "now"],
              30.0: ["-30s", "-20s", "-10s", "now"]}
    for state, lines, height in seen:
        window = state["trace_window"]
        points = len(state["channels"][0]["envelope"]["max"])
        axis = lines[-1]
        assert len(lines) <= height and max(len(line) for line in lines) <= 44  # all on screen
        assert not axis[:render.LABEL_W].strip()
        marks = [m.strip(render.TICK) for m in axis.split()]
        assert marks == labels[window["span_s"]], axis
        ticks = [i - render.LABEL_W for i, c in enumerate(axis) if c == render.TICK]
        for mark, at in zip(marks, ticks, strict=True):
            ago = 0.0 if mark == "now" else float(mark[1:-1])
            assert at == _column_of(ago, window, points) // 2, (window["span_s"], mark, at)
        names = [ch["name"] for ch in state["channels"]]
        assert all(any(line.startswith(name) for line in lines) for name in names)


def test_before_the_first_epoch_the_stage_pane_says_when_it_comes(tmp_path):
    async def drive(live) -> tuple[dict, str, dict, str]:
        app = TuneApp(ControlClient(live.socket, name="epoch"), watch=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: app.state.get("data_s"), what="live state")
            early = app.state, str(app.query_one("#stage").render())
            await _until(pilot, lambda: app.state.get("hypnogram") and app.state.get("stage"),
                         timeout_s=40, what="the first epoch")  # the stage comes from the journal
            late = app.state, str(app.query_one("#stage").render())
            await pilot.press("q")
        return *early, *late

    with live_loop(tmp_path) as live:
        early, early_text, late, late_text = asyncio.run(drive(live))
    assert early["staging"] is True and early["epoch_s"] == 30.0 and early["data_s"] < 30.0
    assert not early["stage_probabilities"] and not early["hypnogram"]
    left = math.ceil(30.0 - early["data_s"])
    assert early_text.splitlines()[:2] == ["stage —", f"first epoch in {left} s (30-s epochs)"]
    assert "first epoch" not in late_text and f"stage {late['stage']}" in late_text
    probs = late_text.splitlines()[1]
    assert probs.startswith("W:") and probs.endswith("%") and "hypnogram 1 epochs" in late_text


def test_staging_off_is_said_and_a_railed_or_flat_channel_shows_its_level(tmp_path):
    faults: list[FaultySource] = []

    def wrap(source):
        faults.append(FaultySource(source))
        faults[0].active["railing"] = Fault("railing", 0.0, 1e9)
        return faults[0]

    async def drive(live) -> tuple[str, dict, list[str], dict, list[str]]:
        app = TuneApp(ControlClient(live.socket, name="rail"), watch=True)
        async with app.run_test(size=(80, 24)) as pilot:
            def eeg_flags(flag: str) -> bool:
                return all(flag in ch["flags"] for ch in app.state.get("channels") or [{"flags": []}]
                           if ch.get("type", "eeg") == "eeg")

            await _until(pilot, lambda: eeg_flags("clipped"), timeout_s=20, what="railed EEG")
            railed = app.state, _signals(app)
            stage_text = str(app.query_one("#stage").render())
            faults[0].active = {"flat": Fault("flat", 0.0, 1e9)}
            await pilot.press("plus")  # 2 s: a window that is flat all through soon
            await _until(pilot, lambda: eeg_flags("flat") and not eeg_flags("clipped")
                         and app.state["trace_window"]["span_s"] == 2.0
                         and any("flat at" in line for line in _signals(app)), timeout_s=20,
                         what="flat EEG over the 2-s time base")
            flat = app.state, _signals(app)
            await pilot.press("q")
        return stage_text, *railed, *flat

    with live_loop(tmp_path, cfg=light_config(stager={"enabled": False}), wrap_source=wrap) as live:
        stage_text, railed, railed_lines, flat, flat_lines = asyncio.run(drive(live))
    assert railed["staging"] is False and railed["epoch_s"] is None
    assert stage_text.splitlines()[1:3] == ["staging is disabled in the config",
                                            "([stager] enabled = false)"]
    for state, lines, level, flag in ((railed, railed_lines, "railed at +187500 µV", "clipped"),
                                      (flat, flat_lines, "flat at +3 µV", "flat")):
        eeg = [ch for ch in state["channels"] if ch["type"] == "eeg"]
        assert eeg and all(flag in ch["flags"] and ch["ptp_uv"] == 0.0 for ch in eeg)
        for ch in eeg:
            (line,) = [ln for ln in lines if ln.startswith(ch["name"] + " ")]
            assert line[render.LABEL_W:].strip().startswith(level), line
            assert line.endswith("0µV") and len(line) <= 44
        for ch in state["channels"]:  # the others still draw their trace
            if ch["type"] != "eeg":
                (line,) = [ln for ln in lines if ln.startswith(ch["name"] + " ")]
                assert "at +" not in line and "\u2800" <= line[render.LABEL_W] <= "\u28ff"


def test_a_junk_line_from_the_server_is_said_and_the_console_reads_on():
    sock_dir = Path(tempfile.mkdtemp(prefix="slc", dir="/tmp"))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock_dir / "junk.sock"))
    listener.listen(1)

    def serve() -> None:  # the hello answered, then a junk line and one good state
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as requests:
            hello = json.loads(requests.readline())
            conn.sendall(P.encode({"type": "hello", "id": hello["id"], "client": "junk@1"})
                         + b"\xffjunk\n" + P.encode({"type": "state", "data_s": 42.0}))
            requests.read()  # until the console closes

    server = threading.Thread(target=serve, daemon=True)
    server.start()

    async def drive() -> tuple[str, float]:
        app = TuneApp(ControlClient(sock_dir / "junk.sock", name="junk"), watch=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: app.state.get("data_s") == 42.0, what="the state after the junk")
            message = app.message
            await pilot.press("q")
        app.client.close()
        return message, app.state["data_s"]

    try:
        message, data_s = asyncio.run(drive())
    finally:
        listener.close()
        shutil.rmtree(sock_dir, ignore_errors=True)
    assert message.startswith("bad_reply: a reply line that is not UTF-8") and data_s == 42.0
