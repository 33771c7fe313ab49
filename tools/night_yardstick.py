"""Whole synthetic nights in bed: cold start, REM entry and the final awakening, measured.

Each night (``firmware_host.synthetic``, no artefacts, no gestures) starts with
``--lead-wake-min`` minutes of wake in bed before the scripted night and ends with
``--tail-wake-min`` minutes of wake after it, and is streamed through the live stager with
the shipped model for every channel set (EEG; EEG+EOG; EEG+EMG; EEG+EOG+EMG), with the
sleep-onset gate on and off. ``--intrusions F`` makes the hard case of the real night of
issue 19: a fraction ``F`` of the epochs of the first 30 min of wake carries NREM-looking EEG
(the same night's EEG rendered as N3 there, as slow artefacts on a frontal derivation look)
while the truth, EOG and chin EMG stay those of wake.

Prints JSON: per channel set and gate setting, the pooled night figures
(:func:`somnoloop_lab.staging.metrics.night_figures`) and the mean κ.

Usage::

    python tools/night_yardstick.py --seeds 1,2,3 --hours 8
    python tools/night_yardstick.py --seeds 1,2,3 --hours 1.5 --intrusions 0.25
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware_host.config.schema import SyntheticSourceConfig  # noqa: E402
from firmware_host.staging.config import StagerConfig  # noqa: E402
from firmware_host.staging.model import load_model  # noqa: E402
from firmware_host.staging.stager import SleepStager  # noqa: E402
from firmware_host.synthetic.night import SyntheticNight  # noqa: E402
from firmware_host.synthetic.script import scripted_hypnogram  # noqa: E402
from somnoloop_lab.staging.datasets import Recording  # noqa: E402
from somnoloop_lab.staging.evaluate import score, stream  # noqa: E402
from somnoloop_lab.staging.metrics import night_figures, pool_night_figures  # noqa: E402

ROLES = ("eeg", "eog", "emg")
#: Channel sets a user can configure, as ``{role: row of the recording}``.
CHANNEL_SETS = {"eeg": ("eeg",), "eeg+eog": ("eeg", "eog"), "eeg+emg": ("eeg", "emg"),
                "eeg+eog+emg": ROLES}


def in_bed_hypnogram(hours: float, seed: int, lead_wake_min: float = 35.0,
                     tail_wake_min: float = 30.0) -> list[str]:
    """``lead_wake_min`` of wake, the scripted night, ``tail_wake_min`` of wake (30-s epochs)."""
    core_s = hours * 3600.0 - (lead_wake_min + tail_wake_min) * 60.0
    if core_s <= 0:
        raise ValueError(f"a {hours}-h night has no room between {lead_wake_min} and "
                         f"{tail_wake_min} min of wake")
    return (["W"] * int(round(lead_wake_min * 2)) + scripted_hypnogram(core_s, seed=seed)
            + ["W"] * int(round(tail_wake_min * 2)))


def _render(seed: int, hypnogram: list[str],
            sfreq: float) -> tuple[SyntheticNight, list[int], np.ndarray]:
    """The night, its first EEG/EOG/EMG rows and their samples."""
    cfg = SyntheticSourceConfig(seed=seed, sfreq=sfreq, artefacts=False, gestures=False)
    night = SyntheticNight(cfg, len(hypnogram) * 30.0, hypnogram=hypnogram)
    keep = [list(night.channel_types).index(t) for t in ROLES]
    return night, keep, night.generate(0, night.n_samples)[keep]


def in_bed_night(seed: int, hours: float, intrusions: float = 0.0, lead_wake_min: float = 35.0,
                 tail_wake_min: float = 30.0, sfreq: float = 250.0) -> Recording:
    """A synthetic night in bed as a labelled EEG/EOG/EMG :class:`Recording`.

    ``intrusions`` (0..1): that fraction of the first 60 wake epochs (drawn with ``seed``)
    gets the EEG of the same night rendered as N3 there; truth, EOG and EMG stay wake.
    """
    if not 0.0 <= intrusions <= 1.0:
        raise ValueError(f"intrusions must be in 0..1, got {intrusions}")
    hyp = in_bed_hypnogram(hours, seed, lead_wake_min, tail_wake_min)
    night, keep, x = _render(seed, hyp, sfreq)
    if intrusions > 0:
        rng = np.random.default_rng([seed, 19])
        lead = min(60, int(round(lead_wake_min * 2)))
        hit = np.flatnonzero(rng.random(lead) < intrusions)
        deep = list(hyp)
        for e in hit:
            deep[e] = "N3"
        xd = _render(seed, deep, sfreq)[2]
        n = int(round(30.0 * night.sfreq))
        for e in hit:
            x[0, e * n : (e + 1) * n] = xd[0, e * n : (e + 1) * n]
    return Recording(f"in-bed-{seed}", x, night.sfreq,
                     tuple(night.channel_names[i] for i in keep), ROLES, list(night.hypnogram),
                     subject=f"synthetic-{seed}")


def stage_recording(rec: Recording, channels: str, cfg: StagerConfig) -> list[str]:
    """Labels of the live stager (shipped model) on one channel set of a recording."""
    rows = {r: ROLES.index(r) for r in CHANNEL_SETS[channels]}
    return [d.label for d in stream(SleepStager(cfg, load_model(), rec.sfreq, rows), rec, 5.0)]


def measure(recs: list[Recording], channels: str, cfg: StagerConfig) -> dict:
    """Pooled night figures and mean κ of the stager on ``recs``."""
    figs, kappas = [], []
    for rec in recs:
        labels = stage_recording(rec, channels, cfg)
        figs.append(night_figures(rec.stages, labels))
        kappas.append(score(rec, labels)["kappa"])
    out = pool_night_figures(figs)
    out["kappa_mean"] = float(np.mean(kappas))
    out["kappa_per_night"] = kappas
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="1,2,3", help="comma-separated synthetic night seeds")
    p.add_argument("--hours", type=float, default=8.0, help="night length in bed (h)")
    p.add_argument("--intrusions", type=float, default=0.0,
                   help="fraction of the first 30 min of wake with NREM-looking EEG (0..1)")
    p.add_argument("--channels", default=",".join(CHANNEL_SETS),
                   help=f"channel sets to run, among {list(CHANNEL_SETS)}")
    p.add_argument("--onset-evidence", type=float, default=StagerConfig().onset_evidence,
                   help="stager.onset_evidence of the gate-on runs")
    p.add_argument("--wake-evidence", type=float, default=StagerConfig().wake_evidence,
                   help="stager.wake_evidence of the gate-on runs")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    sets = [c for c in args.channels.split(",") if c]
    bad = [c for c in sets if c not in CHANNEL_SETS]
    if bad or not seeds:
        p.error(f"--channels must be among {list(CHANNEL_SETS)} and --seeds non-empty")
    recs = [in_bed_night(s, args.hours, args.intrusions) for s in seeds]
    res: dict = {"seeds": seeds, "hours": args.hours, "intrusions": args.intrusions,
                 "model": load_model().tag, "onset_evidence": args.onset_evidence,
                 "wake_evidence": args.wake_evidence}
    for c in sets:
        for gate in (False, True):
            cfg = replace(StagerConfig(), onset_gate=gate, onset_evidence=args.onset_evidence,
                          wake_evidence=args.wake_evidence)
            res[f"{c} gate {'on' if gate else 'off'}"] = measure(recs, c, cfg)
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
