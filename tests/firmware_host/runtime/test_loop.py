"""The loop: pacing, duration, gaps, stage chain, faults never stop the recording."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock, RealClock
from firmware_host.decision import Decision
from firmware_host.events import ListSink
from firmware_host.runtime.hooks import Hooks, RunObserver
from firmware_host.runtime.loop import Controller
from firmware_host.runtime.pipeline import Pipeline
from firmware_host.session import Session, SessionRecorder
from firmware_host.stages.base import StageOutput
from tests.firmware_host.fakes import RampSource


class CountingStage:
    """Emits one decision per 100 samples seen; doubles the data for the next stage."""

    name = "counting"

    def __init__(self) -> None:
        self.seen = 0
        self.resets = 0

    def update(self, chunk):
        out = []
        for s in range(chunk.first_sample, chunk.end_sample):
            if s % 100 == 99:
                out.append(Decision("stage", s, "N2", {"N2": 1.0}, model="test@1"))
        self.seen += chunk.n_samples
        return StageOutput(chunk, out)

    def reset(self):
        self.resets += 1


class ExplodingStage:
    name = "exploding"

    def __init__(self, fail_from: int) -> None:
        self.fail_from = fail_from

    def update(self, chunk):
        if chunk.first_sample >= self.fail_from:
            raise RuntimeError("model file vanished")
        return StageOutput(chunk, [])

    def reset(self):
        pass


class RecordingActuation:
    def __init__(self) -> None:
        self.decisions, self.ticks, self.safe, self.closed = [], [], [], False

    def on_decisions(self, decisions, now):
        self.decisions.extend(decisions)

    def tick(self, now, signal_ok):
        self.ticks.append((now, signal_ok))

    def answered(self):
        return True

    def claim_loop_thread(self):
        pass

    @property
    def alarms(self):
        from firmware_host.safety.alarms import AlarmManager

        if not hasattr(self, "_alarms"):
            self.alarm_sink = ListSink()
            self._alarms = AlarmManager(self.alarm_sink)
        return self._alarms

    def safe_state(self, reason):
        self.safe.append(reason)

    def close(self):
        self.closed = True


def _run(tmp_path, source, stages, clock, **kw):
    rec = SessionRecorder(tmp_path / "s", clock, fsync=False)
    rec.start(sfreq=source.sfreq, channel_names=source.channel_names,
              channel_types=source.channel_types, config={})
    ctl = Controller(source, Pipeline(stages), rec, clock, **kw)
    return ctl, ctl.run()


def test_runs_for_the_duration_and_records_every_sample(tmp_path):
    clock = FakeClock()
    stage = CountingStage()
    act = RecordingActuation()
    ctl, summary = _run(tmp_path, RampSource(clock, 10_000), [stage], clock, duration_s=60.0,
                        tick_s=0.3, actuation=act)
    assert summary.stop_reason == "duration reached"
    assert summary.n_samples == 6000 and stage.seen == 6000
    s = Session(tmp_path / "s")
    data, idx, _ = s.read()
    np.testing.assert_array_equal(idx, np.arange(6000))
    np.testing.assert_array_equal(data[1], 1000.0 + idx)
    assert s.event_counts()["decision"] == 60
    assert s.event_counts()["marker"] == 1
    assert len(act.decisions) == 60 and act.closed
    assert all(ok for _, ok in act.ticks)


def test_stops_when_the_source_ends(tmp_path):
    clock = FakeClock()
    _, summary = _run(tmp_path, RampSource(clock, 555), [], clock, tick_s=0.25)
    assert summary.stop_reason == "source finished"
    assert summary.n_samples == 555


def test_gaps_are_detected_from_sample_indices(tmp_path):
    clock = FakeClock()
    src = RampSource(clock, 1000, drop=((300, 340),))
    _, summary = _run(tmp_path, src, [], clock, tick_s=0.5)
    s = Session(tmp_path / "s")
    assert summary.n_gaps == 1
    gap = s.events("gap")[0]
    assert gap.sample == 300 and gap.payload["missing"] == 40
    assert s.summary()["n_gaps"] == 1


def test_stage_fault_goes_safe_and_keeps_recording(tmp_path):
    clock = FakeClock()
    act = RecordingActuation()
    _, summary = _run(tmp_path, RampSource(clock, 2000), [ExplodingStage(1000)], clock,
                      tick_s=0.5, actuation=act)
    assert summary.n_samples == 2000  # recording continued through the faults
    assert summary.faults > 0
    assert act.safe == ["stage chain failed"]  # once, not at every failing chunk
    assert any(not ok for _, ok in act.ticks)
    assert "model file vanished" in Session(tmp_path / "s").events("fault")[0].payload["error"]


def test_stale_signal_is_reported_to_actuation(tmp_path):
    clock = FakeClock()
    act = RecordingActuation()
    src = RampSource(clock, 3000, drop=((500, 2500),))  # 20 s of silence
    _run(tmp_path, src, [], clock, tick_s=0.5, stale_after_s=5.0, actuation=act)
    stale = [t for t, ok in act.ticks if not ok]
    assert stale and min(stale) >= 5.0 + 5.0 - 0.5


def test_stop_request_ends_the_run(tmp_path):
    clock = FakeClock()
    src = RampSource(clock, 100_000)
    rec = SessionRecorder(tmp_path / "s", clock, fsync=False)
    rec.start(sfreq=100.0, channel_names=src.channel_names, channel_types=src.channel_types,
              config={})

    class StopAfter10s(RunObserver):
        def on_iteration(self, run, info):
            if info.data_s >= 10:
                run.request_stop("signal SIGTERM")

    ctl = Controller(src, Pipeline([]), rec, clock, tick_s=0.25, hooks=Hooks([StopAfter10s()]))
    summary = ctl.run()
    assert summary.stop_reason == "signal SIGTERM"
    assert src.closed
    assert Session(tmp_path / "s").summary()["complete"]


def test_decision_to_json_equals_asdict():
    from collections import namedtuple
    from dataclasses import asdict, dataclass

    pair = namedtuple("pair", "a b")

    @dataclass
    class Inner:
        x: float
        y: list

    d = Decision("quality", 5, "ok", {"a": 0.5}, "m",
                 {"l": [1, 2.5, {"k": (1, 2)}], "nt": pair(1, [2]), "dc": Inner(1.0, [3]),
                  "arr": np.arange(3), "np": np.float64(1.5), "none": None, 3: "x"})
    fast, ref = d.to_json(), asdict(d)
    assert repr(fast) == repr(ref)
    fast["details"]["l"][2]["k"] = 0  # containers are copies, like asdict's
    assert d.details["l"][2]["k"] == (1, 2)


class SlowStage:
    """Takes ``delay_s`` of real time per chunk while the first ``slow_until`` samples pass."""

    name = "slow"

    def __init__(self, delay_s: float, slow_until: int) -> None:
        self.delay_s, self.slow_until = delay_s, slow_until

    def update(self, chunk):
        if chunk.first_sample < self.slow_until:
            time.sleep(self.delay_s)
        return StageOutput(chunk, [])

    def reset(self):
        pass


def test_a_slow_stage_raises_loop_late_keeps_every_sample_and_clears(tmp_path):
    clock = RealClock(1.0)
    act = RecordingActuation()
    src = RampSource(clock, 600)  # 6 s at 100 Hz, real time
    _ctl, summary = _run(tmp_path, src, [SlowStage(0.4, slow_until=250)], clock,
                         duration_s=6.0, tick_s=0.01, actuation=act)
    assert summary.n_samples == 600  # nothing lost: later reads return what was buffered
    _, idx, _ = Session(tmp_path / "s").read()
    np.testing.assert_array_equal(idx, np.arange(600))
    states = [(p["code"], p["state"]) for k, _, p in act.alarm_sink.events if k == "alarm"]
    assert ("loop_late", "active") in states and ("loop_late", "cleared") in states


class FlatSpellSource(RampSource):
    """A ramp (never flat) whose samples in ``[flat_from, flat_to)`` are a constant, or NaN."""

    def __init__(self, *args, flat: tuple[int, int], value: float = 7.0, **kw) -> None:
        super().__init__(*args, **kw)
        self.flat, self.value = flat, value

    def read(self):
        chunk = super().read()
        if chunk is not None:
            lo, hi = self.flat
            idx = np.arange(chunk.first_sample, chunk.end_sample)
            chunk.data[:, (idx >= lo) & (idx < hi)] = self.value
        return chunk


@pytest.mark.parametrize("value", [7.0, math.nan])
def test_flat_or_non_finite_eeg_is_a_bad_signal_until_it_recovers(tmp_path, value):
    from firmware_host.stages.quality import QualityStage

    clock = FakeClock()
    act = RecordingActuation()
    src = FlatSpellSource(clock, 3000, flat=(1000, 1500), value=value)  # 5 s bad at 100 Hz
    _run(tmp_path, src, [QualityStage()], clock, duration_s=30.0, tick_s=0.25, actuation=act)
    bad = [t for t, ok in act.ticks if not ok]
    assert bad and 10.0 <= min(bad) <= 11.5 and max(bad) <= 16.5
    assert act.ticks[-1][1]  # good again once the ramp is back


class OrderedActuation(RecordingActuation):
    """Logs when the loop hands decisions over, into a log the recorder writes to as well."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def on_decisions(self, decisions, now):
        super().on_decisions(decisions, now)
        self.log.append("act")


def test_disk_work_comes_after_the_commands_and_is_timed_apart(tmp_path):
    log: list[str] = []
    clock = FakeClock()
    rec = SessionRecorder(tmp_path / "s", clock, fsync=False, flush_interval_s=0.01)
    source = RampSource(clock, 2000)
    rec.start(sfreq=source.sfreq, channel_names=source.channel_names,
              channel_types=source.channel_types, config={})
    blocks = rec._write_pending

    def write_pending():
        log.append("disk")
        blocks()

    rec._write_pending = write_pending
    infos = []

    class Times(RunObserver):
        def on_iteration(self, run, info):
            infos.append(info)
            log.append("iteration")

    Controller(source, Pipeline([CountingStage()]), rec, clock, actuation=OrderedActuation(log),
               tick_s=0.25, hooks=Hooks([Times()])).run()
    # within an iteration the decisions reach the actuation before any block is written
    per_iteration = " ".join(log).split("iteration")
    assert any("disk" in it for it in per_iteration)
    for it in per_iteration:
        if "disk" in it and "act" in it:
            assert it.index("act") < it.index("disk"), it
    assert any(i.recording_s > 0 for i in infos)
    assert Session(tmp_path / "s").n_samples == 2000


def test_a_deferred_chunk_waits_for_catch_up(tmp_path):
    clock = FakeClock()
    rec = SessionRecorder(tmp_path / "s", clock, fsync=False, flush_interval_s=0.01)
    rec.start(sfreq=100.0, channel_names=("C3",), channel_types=("eeg",), config={})
    size = (tmp_path / "s" / "samples.bin").stat().st_size
    for k in range(4):
        idx = np.arange(k * 100, (k + 1) * 100)
        rec.write_chunk(Chunk(idx[None, :] * 1.0, k * 100, 100.0, ("C3",), ("eeg",), idx / 100.0),
                        deferred=True)
    assert (tmp_path / "s" / "samples.bin").stat().st_size == size  # nothing written yet
    rec.catch_up()
    assert (tmp_path / "s" / "samples.bin").stat().st_size > size
    rec.close()
    assert Session(tmp_path / "s").n_samples == 400
