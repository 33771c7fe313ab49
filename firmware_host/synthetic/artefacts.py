"""Optional artefacts: body movement, electrode pop and flat line, placed per epoch."""

from __future__ import annotations

import numpy as np

from firmware_host.synthetic.layout import Layout
from firmware_host.synthetic.transients import Placed
from firmware_host.synthetic.truth import ArtefactEvent

#: Probability per 30-s epoch of each artefact, by stage (movement is commonest awake).
PROBABILITY = {
    "movement": {"W": 0.06, "N1": 0.03, "N2": 0.01, "N3": 0.005, "REM": 0.01},
    "electrode_pop": {"W": 0.005, "N1": 0.005, "N2": 0.005, "N3": 0.005, "REM": 0.005},
    "flat_line": {"W": 0.002, "N1": 0.002, "N2": 0.002, "N3": 0.002, "REM": 0.002},
}


def epoch_artefacts(
    rng: np.random.Generator,
    stage: str,
    epoch_start: int,
    epoch_len: int,
    sfreq: float,
    layout: Layout,
) -> tuple[list[Placed], list[ArtefactEvent]]:
    """Artefacts starting in one epoch: the placed waveforms and their truth records."""
    scale = epoch_len / (30.0 * sfreq)
    placed: list[Placed] = []
    truth: list[ArtefactEvent] = []
    exg = np.concatenate([layout.rows("eeg"), layout.rows("eog")])
    for kind, by_stage in PROBABILITY.items():
        if rng.random() >= min(1.0, by_stage[stage] * scale):
            continue
        start = epoch_start + int(rng.integers(0, epoch_len))
        if kind == "movement":
            stop = start + int(rng.uniform(2.0, 10.0) * sfreq)
            w = np.zeros(layout.n)
            w[exg] = rng.uniform(0.5, 1.5, len(exg))
            params = (rng.uniform(100.0, 300.0), *rng.uniform(0.3, 2.0, 3), *rng.uniform(0, 6.28, 3))
            placed.append(Placed(start, stop, "movement", "add", w, tuple(params)))
            placed.append(Placed(start, stop, "movement_emg", "env", np.ones(layout.n),
                                 (rng.uniform(30.0, 80.0),)))
            truth.append(ArtefactEvent(start, stop, kind, layout.names))
            continue
        rows = exg if kind == "electrode_pop" and len(exg) else np.arange(layout.n)
        row = int(rng.choice(rows))
        w = np.zeros(layout.n)
        w[row] = 1.0
        if kind == "electrode_pop":
            tau = rng.uniform(0.2, 1.0)
            stop = start + int(5 * tau * sfreq)
            amp = rng.choice((-1.0, 1.0)) * rng.uniform(100.0, 400.0)
            placed.append(Placed(start, stop, kind, "add", w, (amp, tau)))
        else:
            stop = start + int(rng.uniform(5.0, 30.0) * sfreq)
            placed.append(Placed(start, stop, kind, "flat", w, (round(rng.uniform(-50, 50), 1),)))
        truth.append(ArtefactEvent(start, stop, kind, (layout.names[row],)))
    return placed, truth
