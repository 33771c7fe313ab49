"""Stream DREAMS excerpts through the live event detectors; score them and YASA's offline one.

Spindles: by event against expert 1 (``Visual_scoring1_excerptN.txt``), a match being
IoU >= 0.2 (:mod:`somnoloop_lab.events.matching`); counts are pooled over excerpts. Latency:
median of (detection sample - expert onset) over matched spindles.

Slow oscillations: every on-time stimulus that falls in an N3 5-s label is scored by the
phase the signal actually had when it took effect, measured offline (zero-phase 0.5–2 Hz
Butterworth, ``scipy.signal.sosfiltfilt``, then the Hilbert phase; 0° = up-state peak),
minus the target phase; circular mean and SD of those errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

from firmware_host.chunk import Chunk
from firmware_host.decision import Decision
from firmware_host.microstructure.slow_oscillations import (
    METHODS,
    SlowOscillationConfig,
    SlowOscillationStage,
)
from firmware_host.microstructure.spindles import SpindleConfig, SpindleStage
from somnoloop_lab.events.matching import circular_stats_deg, match_events, prf, wrap_deg
from somnoloop_lab.staging.datasets import Recording, load_dreams_excerpt


def read_scoring(path: str | Path) -> list[tuple[float, float]]:
    """DREAMS spindle scoring file (header, then ``onset duration`` in s) → ``(start, end)`` s."""
    lines = Path(path).read_text().split("\n")
    if not lines or not lines[0].startswith("["):
        raise ValueError(f"{path}: not a DREAMS scoring file (first line should be '[...]')")
    out = []
    for line in lines[1:]:
        parts = line.split()
        if parts:
            onset, duration = float(parts[0]), float(parts[1])
            out.append((onset, onset + duration))
    return out


def stream(stages: Sequence[Any], rec: Recording, chunk_s: float = 1.0) -> list[list[Decision]]:
    """Feed ``rec`` in ``chunk_s`` chunks through every stage; the decisions of each stage."""
    n = max(int(round(chunk_s * rec.sfreq)), 1)
    out: list[list[Decision]] = [[] for _ in stages]
    total = rec.data.shape[1]
    for a in range(0, total, n):
        b = min(a + n, total)
        chunk = Chunk(data=rec.data[:, a:b], first_sample=a, sfreq=rec.sfreq,
                      channel_names=rec.channel_names, channel_types=rec.channel_types,
                      timestamps=np.arange(a, b) / rec.sfreq)
        for i, stage in enumerate(stages):
            out[i].extend(stage.update(chunk).decisions)
    return out


def spindle_events(decisions: Sequence[Decision], sfreq: float) -> list[dict[str, float]]:
    """Valid finished spindles as ``{"start", "end", "detected"}`` in seconds."""
    detected_at = {d.details["onset_sample"]: d.sample for d in decisions if d.label == "onset"}
    return [
        {"start": d.details["onset_sample"] / sfreq,
         "end": (d.details["end_sample"] + 1) / sfreq,
         "detected": detected_at[d.details["onset_sample"]] / sfreq}
        for d in decisions if d.label == "end" and d.details["valid"]
    ]


def onset_precision_counts(decisions: Sequence[Decision], sfreq: float,
                           expert: list[tuple[float, float]]) -> tuple[int, int]:
    """``(matched, onsets)``: how many onset decisions belong to a run matching an expert spindle.

    Every finished run counts, valid or not: it is what a rule acting at onset would have
    acted on.
    """
    runs = [(d.details["onset_sample"] / sfreq, (d.details["end_sample"] + 1) / sfreq)
            for d in decisions if d.label == "end"]
    return len(match_events(runs, expert)), sum(d.label == "onset" for d in decisions)


def yasa_events(x: np.ndarray, sfreq: float) -> list[tuple[float, float]]:
    """YASA 0.8 ``spindles_detect`` with its defaults on the whole signal (offline).

    The broadband's upper edge (30 Hz) is capped at ``0.45 * sfreq`` so a 50-Hz excerpt runs
    (YASA itself refuses an edge at or above Nyquist); the same cap as the live detector.
    """
    import yasa

    broad = (1.0, min(30.0, 0.45 * sfreq))
    res = yasa.spindles_detect(x, sfreq, freq_broad=broad, verbose=False)
    if res is None:
        return []
    summary = res.summary()
    return list(zip(summary["Start"].astype(float), summary["End"].astype(float), strict=True))


def offline_phase_deg(x: np.ndarray, sfreq: float, band: tuple[float, float]) -> np.ndarray:
    """Zero-phase band-pass + Hilbert phase in degrees (0 = peak, ±180 = trough)."""
    sos = signal.butter(2, band, btype="bandpass", fs=sfreq, output="sos")
    return np.rad2deg(np.angle(signal.hilbert(signal.sosfiltfilt(sos, x))))


def stimulus_phase_errors(decisions: Sequence[Decision], rec: Recording, phase: np.ndarray,
                          latency_s: float) -> np.ndarray:
    """Phase error (degrees) of every on-time stimulus that takes effect in an N3 5-s label."""
    errors = []
    shift = int(round(latency_s * rec.sfreq))
    for d in decisions:
        if not d.details["on_time"]:
            continue
        at = d.details["stimulus_sample"] + shift
        label_i = int(at // (rec.fine_s * rec.sfreq))
        if 0 <= at < phase.shape[0] and label_i < len(rec.fine_stages) \
                and rec.fine_stages[label_i] == "N3":
            errors.append(phase[at] - d.details["target_phase_deg"])
    return wrap_deg(np.array(errors))


def _spindle_score(detected: list[tuple[float, float]], expert: list[tuple[float, float]]
                   ) -> tuple[int, list[tuple[int, int]]]:
    pairs = match_events(detected, expert)
    return len(pairs), pairs


def evaluate(root: str | Path, excerpts: Sequence[int], *,
             spindle_cfg: SpindleConfig | None = None,
             so_cfg: SlowOscillationConfig | None = None,
             chunk_s: float = 1.0, with_yasa: bool = True) -> dict[str, Any]:
    """Run the live detectors (and YASA) on DREAMS ``excerpts``; pooled and per-excerpt figures.

    The configurations default to the shipped ones, enabled.

    Raises
    ------
    FileNotFoundError
        An excerpt, hypnogram or ``Visual_scoring1`` file is missing.
    """
    spindle_cfg = spindle_cfg or SpindleConfig(enabled=True)
    so_cfg = so_cfg or SlowOscillationConfig(enabled=True)
    root = Path(root)
    counts = {"ours": [0, 0, 0], "yasa": [0, 0, 0], "onsets": [0, 0]}  # tp, detected, expert
    latencies: list[float] = []
    errors: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
    per_excerpt: dict[str, Any] = {}
    for k in excerpts:
        scoring = root / f"Visual_scoring1_excerpt{k}.txt"
        if not scoring.is_file():
            raise FileNotFoundError(f"DREAMS file missing: {scoring}")
        rec = load_dreams_excerpt(root, k)
        expert = read_scoring(scoring)
        so_stages = [SlowOscillationStage(replace(so_cfg, method=m)) for m in METHODS]
        spindle_dec, *so_dec = stream([SpindleStage(spindle_cfg), *so_stages], rec, chunk_s)
        events = spindle_events(spindle_dec, rec.sfreq)
        tp, pairs = _spindle_score([(e["start"], e["end"]) for e in events], expert)
        lat = [events[i]["detected"] - expert[j][0] for i, j in pairs]
        on_tp, n_on = onset_precision_counts(spindle_dec, rec.sfreq, expert)
        counts["onsets"] = [counts["onsets"][0] + on_tp, counts["onsets"][1] + n_on]
        latencies.extend(lat)
        row: dict[str, Any] = {"n_expert": len(expert), "n_detected": len(events),
                               **{f"spindle_{key}": v
                                  for key, v in prf(tp, len(events), len(expert)).items()}}
        row["spindle_latency_ms"] = float(np.median(lat) * 1000) if lat else float("nan")
        counts["ours"] = [a + b for a, b in zip(counts["ours"], (tp, len(events), len(expert)),
                                                 strict=True)]
        x = rec.data[0]
        phase = offline_phase_deg(x, rec.sfreq, (so_cfg.low_hz, so_cfg.high_hz))
        for m, decs in zip(METHODS, so_dec, strict=True):
            err = stimulus_phase_errors(decs, rec, phase, so_cfg.actuator_latency_s)
            errors[m].append(err)
            if m == so_cfg.method:
                row["n_stimuli"] = int(err.size)
        if with_yasa:
            ydet = yasa_events(x, rec.sfreq)
            ytp, _ = _spindle_score(ydet, expert)
            row["yasa"] = {f"spindle_{key}": v
                           for key, v in prf(ytp, len(ydet), len(expert)).items()}
            counts["yasa"] = [a + b for a, b in zip(counts["yasa"], (ytp, len(ydet), len(expert)),
                                                     strict=True)]
        per_excerpt[f"dreams-{k}"] = row
    res: dict[str, Any] = {f"spindle_{key}": v for key, v in prf(*counts["ours"]).items()}
    res["spindle_latency_ms"] = float(np.median(latencies) * 1000) if latencies else float("nan")
    res["spindle_onset_precision"] = (counts["onsets"][0] / counts["onsets"][1]
                                      if counts["onsets"][1] else 0.0)
    res["n_spindle_onsets"] = counts["onsets"][1]
    res["n_spindles_expert"] = counts["ours"][2]
    res["n_spindles_detected"] = counts["ours"][1]
    so_methods = {}
    for m in METHODS:
        err = np.concatenate(errors[m]) if errors[m] else np.empty(0)
        mean, sd = circular_stats_deg(err)
        so_methods[m] = {"so_phase_error_deg_mean": mean, "so_phase_error_deg_sd": sd,
                         "n_stimuli": int(err.size)}
    res.update(so_methods[so_cfg.method])
    res["so_method"] = so_cfg.method
    res["so_methods"] = so_methods
    if with_yasa:
        res["yasa"] = {f"spindle_{key}": v for key, v in prf(*counts["yasa"]).items()}
    res["per_excerpt"] = per_excerpt
    return res
