"""Neurofeedback end to end on the synthetic trainee, through the real loop (``Run``, dry actuation).

Until the lead wires the stage into ``build_pipeline``, :func:`wiring.with_neurofeedback`
adds it (the wrapper adds nothing once the real wiring is in).
"""

from __future__ import annotations

import io
import json
import tomllib
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from firmware_host.cli import main
from firmware_host.config import load_config, parse_config
from firmware_host.neurofeedback.display import (
    NeurofeedbackDisplay,
    attach_neurofeedback_display,
    neurofeedback_display,
)
from firmware_host.neurofeedback.latency import measure_feedback_delay
from firmware_host.neurofeedback.summary import learning_curve_figure, neurofeedback_summary
from firmware_host.runtime import build
from firmware_host.runtime.run import Run
from firmware_host.session import Session
from tests.firmware_host.neurofeedback.wiring import with_neurofeedback

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "configs" / "neurofeedback.toml"
BLOCKS = ["baseline 1m", "training 2m", "rest 20s", "training 2m", "rest 20s", "training 2m",
          "transfer 1m"]
DURATION = "8m40s"


def _config(**nf) -> dict:
    data = tomllib.loads(CONFIG.read_text())
    data["neurofeedback"].update({"blocks": BLOCKS, **nf})
    data["run"]["duration"] = DURATION
    return data


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """One alpha up-training session at max speed, with the display observer attached."""
    out = io.StringIO()
    display = NeurofeedbackDisplay(Console(file=out, width=100))
    path = tmp_path_factory.mktemp("nf") / "session"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "build_pipeline", with_neurofeedback(build.build_pipeline))
        run = Run(parse_config(_config()), session_dir=path, actuation="dry", observers=[display])
        summary = run.run()
    assert summary.stop_reason == "duration reached" and summary.faults == 0
    return run, Session(path), out.getvalue()


def test_info_json_has_the_neurofeedback_object(session, capsys) -> None:
    run, sess, _ = session
    assert main(["info", str(sess.path), "--json"]) == 0
    nf = json.loads(capsys.readouterr().out)["neurofeedback"]
    assert nf["protocol"] == "alpha_up" and nf["target_reward_rate"] == 0.65
    assert len(nf["blocks"]) == 3 and len(nf["transfer_blocks"]) == 1
    for block in nf["blocks"]:
        assert {"reward_rate", "feature_mean", "baseline_mean", "gated_fraction"} <= set(block)
    assert nf["gated_by"]["eog"] > 0 and nf["gated_by"]["emg"] > 0
    assert nf["threshold_changes"] > 20  # baseline + an adaptation every 5 s of training
    for block in nf["blocks"]:
        assert block["rewarded_fraction"] == pytest.approx(
            block["reward_rate"] * (1 - block["gated_fraction"]), rel=1e-9)
    assert main(["info", str(sess.path)]) == 0
    text = capsys.readouterr().out
    assert "neurofeedback (alpha_up" in text and "transfer 1" in text


def test_reward_rate_tracks_the_target(session) -> None:
    nf = neurofeedback_summary(session[1])
    for block in nf["blocks"]:
        assert abs(block["reward_rate"] - 0.65) <= 0.10, block


def test_up_regulation_shows_as_a_rising_feature(session) -> None:
    nf = neurofeedback_summary(session[1])
    means = [b["feature_mean"] for b in nf["blocks"]]
    assert means == sorted(means) and means[0] > nf["baselines"][0]["feature_mean"]
    assert nf["transfer_blocks"][0]["feature_mean"] > means[0]


def test_no_reward_during_any_blink_or_clench(session) -> None:
    run, sess, _ = session
    trainee = run.source.night
    events = [*trainee.transients, *trainee.artefacts]
    assert {e.kind for e in events} == {"blink", "saccade", "clench"}
    updates = [e.payload for e in sess.decisions("neurofeedback")]
    rewarded = np.array([u["details"]["feature_sample"] for u in updates if u["label"] == "reward"])
    assert rewarded.size > 500
    for e in events:
        inside = (rewarded >= e.start_sample) & (rewarded < e.stop_sample)
        assert not inside.any(), f"reward during {e.kind} at {rewarded[inside]}"
    gated = [u for u in updates if u["label"] == "gated"]
    for clench in trainee.artefacts:  # every clench is caught (and counted) by the EMG gate
        assert any("emg" in u["details"]["gated_by"]
                   and clench.start_sample <= u["details"]["feature_sample"] < clench.stop_sample
                   for u in gated)


def test_the_programme_pulses_the_vibration_exactly_while_rewarded(session) -> None:
    sess = session[1]
    actions = {e.sample: e.payload for e in sess.events("action")}
    assert {a["rule"] for a in actions.values()} == {"neurofeedback_reward", "neurofeedback_no_reward"}
    on = False
    for u in sess.decisions("neurofeedback"):
        if u.sample in actions:
            on = actions[u.sample]["rule"] == "neurofeedback_reward"
        assert on == (u.payload["label"] == "reward"), u.payload
    sent = [e.payload for e in sess.events("command")]
    assert {c["target"] for c in sent} == {"vibration"} and {c["outcome"] for c in sent} == {"sent"}
    assert {c["sent"]["pattern"] for c in sent} == {"pulse", "off"}


def test_phases_and_thresholds_are_journalled(session) -> None:
    sess = session[1]
    phases = [e.payload["label"] for e in sess.decisions("neurofeedback_phase")]
    assert phases[:len(BLOCKS)] == [b.split()[0] for b in BLOCKS]
    thresholds = [e.payload for e in sess.decisions("neurofeedback_threshold")]
    assert thresholds[0]["label"] == "baseline" and thresholds[0]["details"]["threshold"] > 0


def test_display_prints_the_per_block_summary(session) -> None:
    text = session[2]
    assert "neurofeedback (alpha_up" in text
    for row in ("training 1", "training 2", "training 3", "transfer 1"):
        assert row in text


def test_learning_curve_figure(session, tmp_path) -> None:
    nf = neurofeedback_summary(session[1])
    png = learning_curve_figure([nf, nf], tmp_path / "curve.png", labels=["day 1", "day 2"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="labels has 1 entries for 2 sessions"):
        learning_curve_figure([nf, nf], tmp_path / "x.png", labels=["one"])
    with pytest.raises(ValueError, match="no training block"):
        learning_curve_figure([{"blocks": []}], tmp_path / "y.png")


def test_smr_trainee_raises_smr(tmp_path, monkeypatch) -> None:
    data = _config(protocol="smr_up", channels=["C4"],
                   blocks=["baseline 40s", "training 80s", "training 80s"])
    data["run"]["duration"] = "200s"
    data["source"]["synthetic"]["trainee"]["rhythm"] = "smr"
    data["source"]["synthetic"]["trainee"]["learning"] = 1.0
    monkeypatch.setattr(build, "build_pipeline", with_neurofeedback(build.build_pipeline))
    Run(parse_config(data), session_dir=tmp_path / "s", actuation="dry").run()
    nf = neurofeedback_summary(Session(tmp_path / "s"))
    means = [b["feature_mean"] for b in nf["blocks"]]
    assert nf["protocol"] == "smr_up" and means[0] < means[1]
    assert means[0] > nf["baselines"][0]["feature_mean"]


def test_run_with_a_bad_protocol_exits_2_with_one_line(tmp_path, monkeypatch, capsys) -> None:
    text = CONFIG.read_text().replace('channels = ["Pz"]', 'channels = ["Oz"]')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    monkeypatch.setattr(build, "build_pipeline", with_neurofeedback(build.build_pipeline))
    code = main(["run", "--config", str(path), "--session-dir", str(tmp_path / "s"),
                 "--actuation", "dry", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "'Oz' is not an EEG channel" in err and err.count("\n") == 1


def test_feedback_latency_at_speed_1(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(build, "build_pipeline", with_neurofeedback(build.build_pipeline))
    stats = measure_feedback_delay(load_config(CONFIG), 12.0, session_dir=tmp_path / "s")
    assert stats["n"] >= 20  # 7 s of training at 4 updates/s
    phases = [e.payload["label"] for e in Session(tmp_path / "s").decisions("neurofeedback_phase")]
    assert phases == ["baseline", "training"]  # the plan was replaced by a quick start
    assert stats["p95_ms"] <= 250.0, stats
    commands = Session(tmp_path / "s").events("command")
    assert commands and {c.payload["target"] for c in commands} == {"vibration"}
    assert {c.payload["outcome"] for c in commands} == {"sent"}  # through the safety layer


def test_live_view_renders_feature_threshold_and_progress(tmp_path, monkeypatch) -> None:
    data = _config(blocks=["baseline 4s", "training 1m"])
    monkeypatch.setattr(build, "build_pipeline", with_neurofeedback(build.build_pipeline))
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=True)
    run = Run(parse_config(data), duration="15s", session_dir=tmp_path / "s", actuation="dry")
    run.open()
    assert neurofeedback_display(run, console).live is False  # max speed: summary only
    assert isinstance(attach_neurofeedback_display(Run(parse_config({})), console), nullcontext)
    display = NeurofeedbackDisplay(console, live=True)  # what speed 1 attaches
    run.attach(display)
    with display:
        run.run()
    text = out.getvalue()
    for piece in ("TRAINING", "block 2/2", "threshold", "rewarded", "target", "65 %", "training 1"):
        assert piece in text


def test_display_filters_do_not_reach_the_stage(tmp_path, monkeypatch) -> None:
    data = _config(blocks=["baseline 10s", "training 10s"])
    data["filters"] = {"enabled": True}
    monkeypatch.setattr(build, "build_pipeline", with_neurofeedback(build.build_pipeline))
    run = Run(parse_config(data), duration="20s", session_dir=tmp_path / "s", actuation="dry")
    run.open()
    names = [type(s).__name__ for s in run.controller.pipeline.stages]
    assert names.index("NeurofeedbackStage") < names.index("FilterStage")
    run.run()
