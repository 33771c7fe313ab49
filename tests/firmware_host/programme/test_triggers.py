"""Every trigger kind, rule by rule, with hand-made decision sequences (no loop, no threads)."""

from __future__ import annotations

from firmware_host.decision import Decision
from tests.firmware_host.programme.helpers import (
    SET_HEAD,
    actions,
    grip,
    hypnogram,
    make,
    quality,
    rule,
    run,
    stage,
    suppressed,
)


def test_stage_entered_fires_once_on_the_first_confident_final_epoch():
    eng, sink = make(rule("n2", {"kind": "stage", "stages": ["N2"], "min_probability": 0.6},
                          SET_HEAD))
    out = run(eng, [stage(30, "N1"), stage(45, "N2", provisional=True), stage(60, "N2", 0.5),
                    stage(90, "N2", 0.8), stage(120, "N2"), stage(150, "N1"), stage(180, "N2")])
    fired = actions(sink, "n2")
    assert [a["t"] for a in fired] == [90.0, 180.0]  # provisional and unconfident ignored
    assert fired[0]["trigger"] == "stage"
    ev = fired[0]["evidence"]["decisions"]
    assert ev == [{"kind": "stage", "sample": 90, "label": "N2", "p": 0.8, "t": 90.0}]
    assert [c.params["degrees"] for c in out] == [20.0]  # the second firing asks nothing new


def test_stage_sustained_needs_its_dwell_counted_from_the_epoch_start():
    eng, sink = make(rule("deep", {"kind": "stage", "stages": ["N3"], "dwell": "2m"}, SET_HEAD))
    run(eng, hypnogram(("N2", 2), ("N3", 3), ("N2", 1), ("N3", 4)))
    # N3 epochs 60-150 (90 s only), then from 180: 2 min reached at the end of 300
    fired = actions(sink, "deep")
    assert [a["t"] for a in fired] == [300.0]
    assert fired[0]["evidence"]["since"] == 180.0 and fired[0]["evidence"]["matched"] == 4


def test_transition_from_to_skips_unscorable_epochs():
    eng, sink = make(rule("rem_end", {"kind": "transition", "from_stages": ["REM"],
                                      "to_stages": ["N1", "N2"]}, SET_HEAD))
    run(eng, [stage(30, "N2"), stage(60, "REM"), stage(90, "unscorable"), stage(120, "N1"),
              stage(150, "N2"), stage(180, "REM"), stage(210, "W")])
    fired = actions(sink, "rem_end")
    assert [a["t"] for a in fired] == [120.0]
    assert [d["label"] for d in fired[0]["evidence"]["decisions"]] == ["REM", "N1"]


def test_sleep_onset_is_the_first_epoch_of_persistent_sleep_and_fires_once():
    eng, sink = make(rule("onset", {"kind": "sleep_onset"}, SET_HEAD), persistent_sleep="5m")
    # 4 min of sleep interrupted by wake, then 10 epochs (5 min) of sleep from t = 210
    night = hypnogram(("W", 2), ("N1", 8), ("W", 1), ("N1", 2), ("N2", 8), ("W", 3), ("N2", 20))
    run(eng, night)
    (fired,) = actions(sink, "onset")
    assert fired["evidence"]["onset_sample"] == 360  # first sleep epoch after the wake one
    assert fired["t"] == 330.0 + 300.0  # known once 5 min have passed since its start
    assert eng.ctx.onset_t == 330.0


def test_arousal_counts_only_after_sleep_onset():
    eng, sink = make(rule("aro", {"kind": "arousal", "stages": ["W"]}, SET_HEAD),
                     persistent_sleep="2m")
    run(eng, hypnogram(("W", 2), ("N1", 1), ("W", 1), ("N2", 4), ("N3", 2), ("W", 2), ("N2", 1),
                       ("W", 1)))
    fired = actions(sink, "aro")
    # onset after 4 N2 epochs (t 150..240); the wakes at 330 and 420 are arousals
    assert [a["t"] for a in fired] == [330.0, 420.0]
    assert fired[0]["evidence"]["sleep_onset_sample"] == 150


def test_signal_lost_then_restored_with_dwell():
    eng, sink = make(rule("lost", {"kind": "signal", "state": "lost", "dwell": "3s"},
                          {"kind": "stop", "target": "mattress.vibration"}),
                     rule("back", {"kind": "signal", "state": "restored", "dwell": "2s"},
                          SET_HEAD))
    seq = [quality(t, ok) for t, ok in
           [(1, True), (2, False), (3, False), (4, True), (5, False), (6, False), (7, False),
            (8, False), (9, True), (10, True), (11, True), (12, True)]]
    run(eng, seq)
    assert [a["t"] for a in actions(sink, "lost")] == [7.0]  # bad since 4 s, for 3 s
    assert [a["t"] for a in actions(sink, "back")] == [10.0]  # ok since 8 s, for 2 s


def test_clock_at_fires_at_its_local_time_even_without_decisions():
    eng, sink = make(rule("alarm", {"kind": "clock", "at": "06:30"}, SET_HEAD))
    assert eng.decide([], 7 * 3600.0) == []
    out = eng.decide([], 7.5 * 3600 + 10)
    (fired,) = actions(sink, "alarm")
    assert fired["t"] == 7.5 * 3600  # at its scheduled time, not when the call came
    assert fired["evidence"] == {"clock": "06:30", "local_time": "06:30:00"}
    assert len(out) == 1
    eng.decide([], 20 * 3600.0)
    assert len(actions(sink, "alarm")) == 1


def test_clock_time_before_the_night_started_never_fires():
    eng, sink = make(rule("alarm", {"kind": "clock", "at": "22:00"}, SET_HEAD))
    eng.decide([], 12 * 3600.0)
    assert actions(sink) == []


def test_clock_window_is_active_inside_and_fires_at_its_start():
    eng, sink = make(rule("win", {"kind": "clock", "window": ["23:30", "00:30"]},
                          {"kind": "hold", "target": "mattress.head"}, priority=5),
                     rule("low", {"kind": "stage", "stages": ["N2"]}, SET_HEAD))
    run(eng, [stage(1900, "N2")])
    assert [a["t"] for a in actions(sink, "win")] == [1800.0]
    assert [s["guard"] for s in suppressed(sink)] == ["priority"]  # 'low' lost to the hold
    run(eng, [stage(5500, "W"), stage(5530, "N2")])  # after 00:30: the window let go
    assert len(actions(sink, "low")) == 1


def test_stage_window_matches_only_inside_so_the_first_epoch_inside_fires():
    eng, sink = make(rule("wake", {"kind": "stage", "stages": ["N2"],
                                   "window": ["06:30", "07:00"]}, SET_HEAD))
    t0 = 7.5 * 3600
    run(eng, [stage(t0 - 60, "N2"), stage(t0 - 30, "N2"), stage(t0 + 30, "N2")])
    assert [a["t"] for a in actions(sink, "wake")] == [t0 + 30]


def test_intent_labels_force_step_rejected_and_label_changes():
    eng, sink = make(
        rule("grip", {"kind": "intent", "labels": ["power", "pinch"], "min_probability": 0.7,
                      "force_step": 0.2}, {"kind": "grip", "target": "hand"}),
        rule("hold", {"kind": "intent", "labels": ["rest", "rejected"]},
             {"kind": "stop", "target": "hand"}, priority=1))
    seq = [grip(1, "power", 0.6), grip(2, "power", 0.9, force=0.3), grip(3, "power", force=0.4),
           grip(4, "power", force=0.6), grip(5, "pinch", force=0.6),
           grip(6, "pinch", rejected=True), grip(7, "rest"), grip(8, "rest")]
    out = run(eng, seq)
    # unconfident ignored; force moved 0.1 (no), 0.3 (yes); a new label fires again
    assert [(a["rule"], a["t"]) for a in actions(sink)] == [
        ("grip", 2.0), ("grip", 4.0), ("grip", 5.0), ("hold", 6.0), ("hold", 7.0)]
    assert [(c.action, c.params.get("pattern"), c.params.get("force")) for c in out] == [
        ("grip", "power", 0.3), ("grip", "power", 0.6), ("grip", "pinch", 0.6),
        ("stop", None, None), ("stop", None, None)]


def test_feature_trigger_reads_nested_details_with_dwell():
    def so(t: float, power: float | str) -> Decision:
        return Decision("stage", int(t), "N3", {"N3": 0.9}, "m",
                        {"provisional": False, "bands": {"so_power": power}})

    eng, sink = make(rule("so", {"kind": "feature", "decision": "stage",
                                 "feature": "bands.so_power", "above": 2.0, "below": 10.0,
                                 "dwell": "1m"}, SET_HEAD))
    run(eng, [so(30, 1.0), so(60, 3.0), so(90, "x"), so(120, 3.0), so(150, 12.0), so(180, 4.0),
              so(210, 5.0)])
    (fired,) = actions(sink, "so")
    assert fired["t"] == 210.0 and fired["evidence"]["feature"] == {"name": "bands.so_power",
                                                                    "value": 5.0}


def test_intent_labels_of_other_datasets_are_read_in_the_loop_vocabulary():
    eng, sink = make(rule("grip", {"kind": "intent", "labels": ["tripod"]},
                          {"kind": "grip", "target": "hand"}),
                     rule("hold", {"kind": "intent", "labels": ["rest"]},
                          {"kind": "stop", "target": "hand"}, priority=1))
    out = run(eng, [grip(1, "chuck_grip"), grip(2, "relax"), grip(3, "thumbs_up")])
    assert [(c.action, c.params.get("pattern")) for c in out] == [("grip", "tripod"),
                                                                   ("stop", None)]
