"""Neurofeedback keys changed mid-session: the applier on a real stage, then over the socket."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from firmware_host.chunk import Chunk
from firmware_host.config import parse_config
from firmware_host.control.changes import ChangeManager
from firmware_host.control.client import ControlClient, ControlError
from firmware_host.control.params import ParamError, mode_of
from firmware_host.neurofeedback.stage import NeurofeedbackStage
from firmware_host.session import Session
from firmware_host.synthetic.trainee import SyntheticTrainee
from tests.firmware_host.control.live import live_loop

ROOT = Path(__file__).resolve().parents[3]
NF = "neurofeedback.threshold."
FS = 250


def _cfg(blocks=("baseline 20s", "training 80s"), **nf):
    return parse_config({
        "source": {"synthetic": {"mode": "neurofeedback", "eeg_channels": ["Cz", "Pz", "C4"],
                                 "eog_channels": ["E1", "E2"], "emg_channels": ["Chin"],
                                 "forearm_channels": []}},
        "neurofeedback": {"enabled": True, "channels": ["Pz"], "blocks": list(blocks),
                          "threshold": {"adapt_every_s": 2.0, "adapt_window_s": 30.0}, **nf},
    })


class StageBench:
    """A neurofeedback stage fed the synthetic trainee in 0.1-s chunks, with a change manager."""

    def __init__(self, cfg, seconds: float = 100.0) -> None:
        self.trainee = SyntheticTrainee(cfg.source.synthetic, seconds)
        tr = self.trainee
        self.stage = NeurofeedbackStage(cfg.neurofeedback, tr.sfreq, tr.channel_names, tr.channel_types)
        run = SimpleNamespace(controller=SimpleNamespace(pipeline=SimpleNamespace(stages=[self.stage])))
        self.changes = ChangeManager(run, cfg, cfg, None)
        self.pos = 0

    def feed(self, until_s: float) -> list:
        out = []
        stop = round(until_s * FS)
        while self.pos < stop:
            hi = min(stop, self.pos + 25)
            tr = self.trainee
            chunk = Chunk(tr.generate(self.pos, hi), self.pos, tr.sfreq, tr.channel_names,
                          tr.channel_types, np.arange(self.pos, hi) / tr.sfreq)
            out += self.stage.update(chunk).decisions
            self.pos = hi
        return out

    def set(self, key: str, value) -> dict:
        return self.changes.set(key, value, "test")(self.pos / FS)


def _updates(decisions, kind="neurofeedback"):
    return [d for d in decisions if d.kind == kind]


def _reward_rate(decisions) -> float:
    clean = [d for d in _updates(decisions) if d.label != "gated"]
    return sum(d.label == "reward" for d in clean) / len(clean)


def _same(a, b) -> bool:
    return [(d.kind, d.sample, d.label, d.details.get("threshold")) for d in a] == \
        [(d.kind, d.sample, d.label, d.details.get("threshold")) for d in b]


@pytest.fixture(scope="module")
def reference():
    """The unchanged session, decided in two halves around t = 50 s."""
    s = StageBench(_cfg())
    return s.feed(50.0), s.feed(100.0)


def test_target_rate_change_keeps_the_session_and_raises_the_reward_rate(reference):
    before_ref, after_ref = reference
    s = StageBench(_cfg())
    before = s.feed(50.0)
    assert _same(before, before_ref)
    threshold, n, block = s.stage.threshold.value, s.stage.n_updates, s.stage._block
    recent = list(s.stage.threshold._recent)
    result = s.set(NF + "target_reward_rate", 0.95)
    assert result["old"] == 0.65 and result["new"] == 0.95 and result["applied_to"] == ["neurofeedback"]
    # nothing reset: threshold, its window of values, the plan and the counts go on
    assert s.stage.threshold.value == threshold and list(s.stage.threshold._recent) == recent
    assert (s.stage.n_updates, s.stage._block) == (n, block)
    assert s.stage.cfg.threshold.target_reward_rate == 0.95
    after = s.feed(100.0)
    assert not [d for d in after if d.kind == "neurofeedback_phase" or d.label == "baseline"]
    first = _updates(after)[0]
    assert first.details["threshold"] == threshold  # the next update still uses the old threshold
    late = [d for d in after if d.sample >= 60 * FS]  # after the next adaptations
    late_ref = [d for d in after_ref if d.sample >= 60 * FS]
    assert _reward_rate(late) > 0.9 and _reward_rate(late_ref) < 0.75
    assert max(d.details["threshold"] for d in _updates(late)) < \
        min(d.details["threshold"] for d in _updates(late_ref))  # easier: a lower threshold


def test_gain_zero_and_a_long_interval_freeze_the_threshold(reference):
    s = StageBench(_cfg())
    s.feed(50.0)
    frozen = s.stage.threshold.value
    s.set(NF + "correction_gain", 0.0)
    s.set(NF + "adapt_every_s", 600.0)
    after = s.feed(100.0)
    assert not _updates(after, "neurofeedback_threshold")
    assert {d.details["threshold"] for d in _updates(after)} == {frozen}
    assert _updates(reference[1], "neurofeedback_threshold")  # unchanged: it adapts


def test_switching_a_gate_off_and_smoothing_apply_from_the_next_update(reference):
    s = StageBench(_cfg())
    s.feed(50.0)
    s.set("neurofeedback.gates.emg_rms_max_uv", 0.0)
    s.set("neurofeedback.gates.eog_rms_max_uv", 0.0)
    s.set("neurofeedback.smoothing", 1.0)
    after = _updates(s.feed(100.0))
    gated_ref = [d for d in _updates(reference[1]) if {"emg", "eog"} & set(d.details["gated_by"])]
    assert gated_ref, "the trainee blinks and clenches: the reference is gated"
    assert not [d for d in after if {"emg", "eog"} & set(d.details["gated_by"])]
    assert all(d.details["feature"] == d.details["raw_feature"] for d in after)


def test_restart_keys_are_refused_with_the_reason_and_change_nothing():
    s = StageBench(_cfg())
    s.feed(25.0)
    for key, value in (("neurofeedback.window_s", 2.0), ("neurofeedback.blocks", ["baseline 1m"]),
                       ("neurofeedback.gates.emg_band", [20.0, 40.0])):
        assert mode_of(key)[0] == "restart"
        with pytest.raises(ParamError, match=rf"{key}: needs a restart: \[neurofeedback\] .* builds "
                                             "the session's filters"):
            s.set(key, value)
    with pytest.raises(ParamError, match="neurofeedback.outputs"):  # feedback is the programme's
        s.set("neurofeedback.outputs.vibration_intensity", 40.0)
    assert s.changes.undo_stack == [] and s.stage.cfg == _cfg().neurofeedback
    with pytest.raises(ValueError, match="neurofeedback.window_s: needs a restart"):
        s.stage.reconfigure(_cfg(window_s=2.0).neurofeedback)  # a direct caller is refused too
    gates = {"eog_rms_max_uv": 10.0, "emg_band": [20.0, 40.0]}
    with pytest.raises(ValueError, match="neurofeedback.gates.emg_band: needs a restart"):
        s.stage.reconfigure(_cfg(gates=gates).neurofeedback)
    assert s.stage.cfg == _cfg().neurofeedback


def test_inhibit_percentile_recomputes_the_limits_from_the_kept_baseline():
    s = StageBench(_cfg(protocol="smr_up", channels=["C4"]), seconds=40.0)
    s.feed(30.0)
    limits = s.stage.inhibit_limits
    assert limits is not None and len(limits) == 2
    s.set(NF + "inhibit_percentile", 0.5)
    lower = s.stage.inhibit_limits
    assert all(b < a for a, b in zip(limits, lower, strict=True))
    assert s.changes.undo(client="test")(30.0)["new"] == 0.9
    assert s.stage.inhibit_limits == limits


# ----------------------------------------------------------------- over the control socket
def _live_cfg():
    data = tomllib.loads((ROOT / "configs" / "neurofeedback.toml").read_text())
    data["neurofeedback"]["blocks"] = ["baseline 30s", "training 10m"]
    return parse_config(data)


def test_a_running_session_takes_threshold_and_intensity_changes_over_the_socket(tmp_path):
    with live_loop(tmp_path, cfg=_live_cfg(), speed="20", duration="10m30s") as live, \
            ControlClient(live.socket, name="nf") as c:
        stage = next(s for s in live.run.controller.pipeline.stages if isinstance(s, NeurofeedbackStage))
        live.wait_for(lambda: c.status()["data_s"] > 90, timeout_s=60, what="a minute of training")
        c.take_control()
        with pytest.raises(ControlError, match=r"neurofeedback.window_s: needs a restart"):
            c.set("neurofeedback.window_s", 2.0)
        assert c.set(NF + "target_reward_rate", 0.95)["applied_to"] == ["neurofeedback"]
        assert c.set("programme.rules.neurofeedback_reward.actions.0.value", 45.0)["new"] == 45.0
        changed_at = c.status()["data_s"]
        live.wait_for(lambda: c.status()["data_s"] > changed_at + 60, timeout_s=60, what="a minute more")
        assert stage.cfg.threshold.target_reward_rate == 0.95
        time.sleep(0.6)  # one journal flush
    sess = Session(live.run.session_dir)
    control = [e for e in sess.events("control")]
    assert [(e.payload["params"].get("key"), e.payload["ok"]) for e in control] == [
        ("neurofeedback.window_s", False), (NF + "target_reward_rate", True),
        ("programme.rules.neurofeedback_reward.actions.0.value", True)]
    t_change = control[1].t
    ups = sess.decisions("neurofeedback")

    def rate(lo: float, hi: float) -> float:
        clean = [e.payload for e in ups if lo <= e.t < hi and e.payload["label"] != "gated"]
        return sum(u["label"] == "reward" for u in clean) / len(clean)

    before, after = rate(t_change - 50, t_change), rate(t_change + 15, t_change + 55)
    assert after > before + 0.15 and after > 0.8, (before, after)
    phases = [e.payload["label"] for e in sess.decisions("neurofeedback_phase")]
    assert phases == ["baseline", "training"]  # the block timeline went on
    thresholds = [e.payload["label"] for e in sess.decisions("neurofeedback_threshold")]
    assert thresholds.count("baseline") == 1 and thresholds[1:] == ["adapt"] * (len(thresholds) - 1)
    pulses = [e for e in sess.events("command") if e.payload["sent"].get("pattern") == "pulse"]
    assert {e.payload["sent"]["intensity"] for e in pulses if e.t > control[2].t + 1} == {45.0}
    assert {e.payload["sent"]["intensity"] for e in pulses if e.t < control[2].t} == {30.0}
