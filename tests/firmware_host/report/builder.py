"""Small hand-made sessions written through the real recorder, for the report tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.clock import FakeClock
from firmware_host.report.metrics import STAGES
from firmware_host.session import SessionRecorder

NAMES = ("C4-M1", "E1-M2", "Chin")
TYPES = ("eeg", "eog", "emg")
EPOCH_S = 30


def make_session(path: Path, labels: Sequence[str | None], *, sfreq: float = 100.0,
                 gaps: Sequence[int] = (), bad_seconds: Sequence[int] = (),
                 events: Sequence[tuple[float, str, dict[str, Any]]] = (),
                 expert: Sequence[str] | None = None, config: dict[str, Any] | None = None,
                 seed: int = 0, closed: bool = True, thin_journal: bool = True) -> Path:
    """A session with one 30-s epoch per label.

    Parameters
    ----------
    labels
        Stage decision per epoch (``None``: no decision, e.g. inside a gap).
    gaps
        Epoch indices whose samples are not recorded (a gap in ``samples.bin``).
    bad_seconds
        Seconds (from the start) whose quality decision flags every channel bad.
    events
        ``(t_s, kind, payload)`` journal events emitted at data time ``t_s``.
    expert
        Expert stage per epoch, journalled as Sleep-EDF ``annotation`` events.
    closed
        Whether the run ended cleanly (``stop`` event); otherwise it looks killed.
    thin_journal
        The recorder's retention policy (per-epoch quality); ``False`` keeps every window.
    """
    rng = np.random.default_rng(seed)
    clock = FakeClock()
    rec = SessionRecorder(path, clock, fsync=False)
    rec.thin_journal = thin_journal
    rec.start(sfreq=sfreq, channel_names=NAMES, channel_types=TYPES,
              config=config or {"name": "test", "stager": {"eeg_channel": "C4-M1"}, "policy": {}},
              extra={"config_name": "test", "source": "synthetic"})
    n_ep = int(EPOCH_S * sfreq)
    pending = sorted(events, key=lambda e: e[0])
    bad = set(bad_seconds)
    expert_text = {"W": "Sleep stage W", "N1": "Sleep stage 1", "N2": "Sleep stage 2",
                   "N3": "Sleep stage 3", "REM": "Sleep stage R"}
    for k, label in enumerate(labels):
        first = k * n_ep
        t = np.arange(first, first + n_ep) / sfreq
        freq = {"W": 10.0, "N1": 6.0, "N2": 13.0, "N3": 1.5, "REM": 7.0}.get(label or "", 10.0)
        data = np.vstack([40 * np.sin(2 * np.pi * freq * t), 20 * np.sin(2 * np.pi * 0.3 * t),
                          5 * np.ones_like(t)]) + rng.normal(0, 3, (3, n_ep))
        if expert is not None:
            rec.emit("annotation", {"description": expert_text[expert[k]], "duration": 30.0}, first)
        if k not in gaps:
            rec.write_chunk(Chunk(data, first, sfreq, NAMES, TYPES, t))
            for sec in range(EPOCH_S):
                s0 = first + int(sec * sfreq)
                is_bad = (k * EPOCH_S + sec) in bad
                rec.emit("decision", {
                    "kind": "quality", "sample": s0 + int(sfreq) - 1, "label": "bad" if is_bad else "ok",
                    "probabilities": {}, "model": "quality-1",
                    "details": {"start": s0, "window": int(sfreq), "non_finite": False,
                                "bad_channels": list(NAMES) if is_bad else [],
                                "channels": {n: {"artefact": is_bad} for n in NAMES}}}, s0 + int(sfreq) - 1)
        clock.advance(EPOCH_S)
        while pending and pending[0][0] < (k + 1) * EPOCH_S:
            t_s, kind, payload = pending.pop(0)
            rec.emit(kind, {**payload, "t": t_s})
        if label is not None:
            probs = ({s: (0.8 if s == label else 0.05) for s in STAGES} if label in STAGES
                     else dict.fromkeys(STAGES, 0.2))
            rec.emit("decision", {"kind": "stage", "sample": first + n_ep - 1, "label": label,
                                  "probabilities": probs, "model": "test-model@1.0",
                                  "details": {"epoch": k, "provisional": False}}, first + n_ep - 1)
    if closed:
        rec.close({"stop_reason": "duration reached"})
    else:
        rec.flush()
    return path
