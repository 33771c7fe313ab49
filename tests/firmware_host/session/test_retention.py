"""The journal's retention policy: what is kept, at which resolution, inside the recorder."""

from __future__ import annotations

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock
from firmware_host.session import Session, SessionRecorder
from firmware_host.session.retention import Retention


def _quality(sample: int, bad: list[str], ptp: float = 10.0) -> dict:
    channels = {n: {"flat": False, "artefact": n in bad, "ptp_uv": ptp, "line_ratio": None}
                for n in ("C3", "Chin")}
    return {"kind": "quality", "sample": sample, "label": "bad" if bad else "ok",
            "probabilities": {}, "model": "quality-1",
            "details": {"start": sample - 99, "window": 100, "non_finite": False,
                        "bad_channels": bad, "channels": channels}}


def _grip(label: str, force: float, active: bool = True) -> dict:
    return {"kind": "grip", "label": label, "probabilities": {label: 1.0}, "model": "m",
            "details": {"force": force, "active": active, "rejected": False}}


def test_quality_is_one_row_per_epoch_with_per_channel_counts():
    r = Retention(100.0)  # 3000-sample epochs
    out = []
    for s in range(30):  # 30 one-second windows = 1 epoch
        out += r.admit("decision", _quality(s * 100 + 99, ["Chin"] if s in (3, 4) else [],
                                            ptp=10.0 + s), s * 100 + 99)
    assert out == []  # held until the epoch ends
    out += r.admit("decision", _quality(3099, []), 3099)
    (kind, payload, sample), = out
    assert kind == "decision" and sample == 2999
    d = payload["details"]
    assert payload["label"] == "bad" and d["n_windows"] == 30 and d["n_bad"] == 2
    assert d["epoch_start"] == 0 and d["epoch_samples"] == 3000
    assert d["channels"]["Chin"]["n_bad"] == 2 and d["channels"]["Chin"]["artefact"] == 2
    assert d["channels"]["C3"] == {"n_bad": 0, "flat": 0, "artefact": 0, "ptp_uv_max": 39.0}
    (_, last, _), = r.drain()
    assert last["label"] == "ok" and last["details"]["n_windows"] == 1


def test_grip_drops_only_exact_repeats_and_keeps_a_heartbeat():
    r = Retention(100.0, heartbeat_s=30.0)
    kept = []
    stream = [("rest", 0.0, False)] * 5 + [("power", 0.5, True)] * 3 + [("power", 0.65, True)] \
        + [("power", 0.66, True)] * 3 + [("rest", 0.0, False)]
    for i, (label, force, active) in enumerate(stream):
        kept += [s for _, _, s in r.admit("decision", _grip(label, force, active), i * 100)]
    # every change is kept, however small (0.65 -> 0.66): a rule's force step may be any size
    assert kept == [0, 500, 800, 900, 1200]
    assert [s for _, _, s in r.admit("decision", _grip("rest", 0.0, False), 1200 + 3000)] == [4200]


def test_grip_probability_change_alone_is_kept():
    r = Retention(100.0)
    a = _grip("power", 0.5)
    b = {**a, "probabilities": {"power": 0.69, "rest": 0.31}}
    kept = [s for i, p in enumerate([a, a, b, b, a]) for _, _, s in r.admit("decision", p, i)]
    assert kept == [0, 2, 4]


def test_other_events_pass_untouched():
    r = Retention(100.0)
    for kind, payload in [("decision", {"kind": "stage", "label": "N2"}), ("command", {"x": 1}),
                          ("ack", {}), ("alarm", {}), ("fault", {}), ("safe_state", {}),
                          ("action", {}), ("suppressed", {}), ("gap", {})]:
        assert r.admit(kind, payload, 5) == [(kind, payload, 5)]


def test_recorder_applies_the_policy_and_flushes_the_last_epoch(tmp_path):
    rec = SessionRecorder(tmp_path / "s", FakeClock(), fsync=False)
    rec.start(sfreq=100.0, channel_names=("C3", "Chin"), channel_types=("eeg", "emg"), config={})
    idx = np.arange(4500)
    rec.write_chunk(Chunk(np.vstack([idx * 1.0, idx * 2.0]), 0, 100.0, ("C3", "Chin"),
                          ("eeg", "emg"), idx / 100.0))
    for s in range(45):
        rec.emit("decision", _quality(s * 100 + 99, []), s * 100 + 99)
        rec.emit("decision", _grip("rest", 0.0, False), s * 100 + 99)
    rec.emit("decision", {"kind": "stage", "label": "W"}, 2999)
    rec.close()
    s = Session(tmp_path / "s")
    rows = [(e.payload["kind"], e.sample) for e in s.events("decision")]
    assert rows == [("grip", 99), ("quality", 2999), ("grip", 3099), ("stage", 2999), ("quality", 4499)]
    assert s.summary()["complete"] is True
