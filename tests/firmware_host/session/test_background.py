"""The recorder's background sync thread: rounds on request, coalesced, waited for, closed."""

from __future__ import annotations

import threading

from firmware_host.session.background import BackgroundSync


def test_requests_made_during_a_round_give_one_more_round_and_close_finishes_them():
    gate, rounds = threading.Event(), []

    def work():
        rounds.append(len(rounds))
        gate.wait(5.0)

    sync = BackgroundSync(work)
    sync.request()
    while not rounds:  # the first round is running, held at the gate
        threading.Event().wait(0.01)
    assert sync.busy_s() > 0.0
    for _ in range(5):
        sync.request()  # all served by a single next round
    gate.set()
    sync.wait_idle()
    assert rounds == [0, 1] and sync.busy_s() == 0.0
    sync.request()
    sync.close()  # a wanted round still runs before the thread ends
    assert rounds == [0, 1, 2] and sync.error is None


def test_a_round_that_raises_is_kept_and_the_thread_goes_on():
    calls = []

    def work():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")

    sync = BackgroundSync(work)
    sync.request()
    sync.wait_idle()
    assert isinstance(sync.error, RuntimeError)
    sync.request()
    sync.wait_idle()
    sync.close()
    assert len(calls) == 2


def test_a_sync_round_that_raises_degrades_the_recording_until_one_succeeds(tmp_path,
                                                                             monkeypatch):
    from firmware_host.clock import FakeClock
    from firmware_host.session import SessionRecorder

    rec = SessionRecorder(tmp_path / "s", FakeClock(), flush_interval_s=0.001, fsync=False)
    rec.start(sfreq=250.0, channel_names=("C3",), channel_types=("eeg",), config={})
    fail = {"on": True}
    real = rec.journal.commit

    def commit():
        if fail["on"]:
            raise RuntimeError("journal in a state nobody foresaw")
        real()

    monkeypatch.setattr(rec.journal, "commit", commit)
    rec.emit("note", {})
    threading.Event().wait(0.01)
    rec.maybe_flush()
    rec._background.wait_idle()
    rec.maybe_flush()
    assert "sync failed: RuntimeError" in rec.degraded
    fail["on"] = False
    threading.Event().wait(0.01)
    rec.maybe_flush()
    rec._background.wait_idle()
    rec.maybe_flush()
    assert rec.degraded == ""
    rec.close()
