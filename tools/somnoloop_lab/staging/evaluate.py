"""Stream labelled recordings through the live stager and score it (and YASA, if installed)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.decision import Decision
from firmware_host.staging.config import StagerConfig
from firmware_host.staging.model import StagerModel, load_model, shipped_model_for
from firmware_host.staging.stager import SleepStager
from somnoloop_lab.staging.datasets import Recording, load_dreams_excerpt
from somnoloop_lab.staging.metrics import (
    agreement,
    calibration,
    flicker_per_hour,
    night_figures,
    pool_night_figures,
)


def stream(stager: SleepStager, rec: Recording, chunk_s: float = 1.0) -> list[Decision]:
    """Feed a recording in ``chunk_s`` chunks; return the final (non-provisional) decisions."""
    n = max(int(round(chunk_s * rec.sfreq)), 1)
    out: list[Decision] = []
    total = rec.data.shape[1]
    for a in range(0, total, n):
        b = min(a + n, total)
        ch = Chunk(data=rec.data[:, a:b], first_sample=a, sfreq=rec.sfreq,
                   channel_names=rec.channel_names, channel_types=rec.channel_types,
                   timestamps=np.arange(a, b) / rec.sfreq)
        out.extend(d for d in stager.update(ch).decisions if not d.details.get("provisional"))
    return out


def stager_for(rec: Recording, model: StagerModel, cfg: StagerConfig | None = None,
               eeg: str = "", eog: str = "", emg: str = "") -> SleepStager:
    """A stager on a recording's channels (``eeg`` '' = its first EEG channel)."""
    cfg = cfg or StagerConfig()
    names = list(rec.channel_names)
    rows: dict[str, int] = {}
    for role, wanted in (("eeg", eeg), ("eog", eog), ("emg", emg)):
        if wanted:
            if wanted not in names:
                raise ValueError(f"channel {wanted!r} not in recording {rec.name}: {names}")
            rows[role] = names.index(wanted)
        elif role in rec.channel_types:
            rows[role] = list(rec.channel_types).index(role)
    return SleepStager(cfg, model, rec.sfreq, rows)


def score(rec: Recording, labels: Sequence[str]) -> dict[str, Any]:
    """Agreement of predicted epoch labels with a recording's stages (common length)."""
    n = min(len(labels), len(rec.stages))
    res = agreement(rec.stages[:n], list(labels[:n]))
    res["flicker_per_hour"] = flicker_per_hour(list(labels[:n]))
    return res


def yasa_labels(rec: Recording, eeg_row: int = 0) -> list[str]:
    """YASA's offline staging of a whole recording (EEG only; resampled to ≥ 100 Hz)."""
    import mne
    import yasa
    from scipy.signal import resample_poly

    x = rec.data[eeg_row]
    sf = rec.sfreq
    if sf < 100:
        up = int(round(100 / sf))
        x = resample_poly(x, up, 1)
        sf = sf * up
    info = mne.create_info([rec.channel_names[eeg_row]], sf, ["eeg"], verbose=False)
    raw = mne.io.RawArray(x[None, :] * 1e-6, info, verbose=False)
    sls = yasa.SleepStaging(raw, eeg_name=rec.channel_names[eeg_row])
    pred = sls.predict()
    if hasattr(pred, "hypno"):  # yasa >= 0.7 returns a Hypnogram object
        pred = pred.hypno.values
    names = {"R": "REM", "WAKE": "W", "W": "W"}
    return [names.get(str(p), str(p)) for p in pred]


def evaluate(recs: Sequence[Recording], model: StagerModel | None = None, *,
             cfg: StagerConfig | None = None, loo_fit: Any = None, with_yasa: bool = True,
             chunk_s: float = 1.0) -> dict[str, Any]:
    """Stream every recording through the live stager and pool the agreement.

    Parameters
    ----------
    recs
        Labelled recordings.
    model
        The model to use (``None`` = the shipped default for each recording's rate,
        :func:`~firmware_host.staging.model.shipped_model_for`); ignored with ``loo_fit``.
    loo_fit
        ``callable(train_recs, test_rec) -> StagerModel``: leave-one-recording-out — each
        recording is staged by a model fitted on the others (``test_rec`` is passed so the
        fit can match its sampling rate; it must not use its data or labels).
    with_yasa
        Also run YASA offline on the same recordings when it is importable.
    """
    cfg = cfg or StagerConfig()
    truth: list[str] = []
    pred: list[str] = []
    probs: list[dict[str, float]] = []
    ypred: list[str] = []
    epred: list[str] = []
    per: dict[str, Any] = {}
    flick_changes, n_ep_total = 0.0, 0
    have_yasa = False
    if with_yasa:
        try:
            import yasa  # noqa: F401

            have_yasa = True
        except ImportError:
            have_yasa = False
    used_models: list[str] = []
    t_stager = 0.0
    for rec in recs:
        if loo_fit is not None:
            m = loo_fit([r for r in recs if r.name != rec.name], rec)
        else:
            m = model or load_model(shipped_model_for(rec.sfreq))
        if m.tag not in used_models:
            used_models.append(m.tag)
        stager = stager_for(rec, m, replace(cfg))
        t0 = time.perf_counter()
        decisions = stream(stager, rec, chunk_s)
        t_stager += time.perf_counter() - t0
        labels = [d.label for d in decisions]
        n = min(len(labels), len(rec.stages))
        r = score(rec, labels)
        r.update(night_figures(rec.stages[:n], labels[:n]))
        r["trained_on"] = loo_fit is None and rec.name in m.meta.get("trained_on", [])
        truth += rec.stages[:n]
        pred += labels[:n]
        probs += [d.probabilities for d in decisions[:n]]
        flick_changes += r["flicker_per_hour"] * n
        n_ep_total += n
        if m.expert and cfg.expert:
            # YASA's trees alone on our causal features: what causality costs YASA
            alone = replace(m, expert={**m.expert, "weight": 1.0})
            el = [d.label for d in stream(stager_for(rec, alone, replace(cfg)), rec, chunk_s)]
            r["expert_alone"] = {k: v for k, v in score(rec, el[:n]).items() if k != "confusion"}
            epred += el[:n] + ["?"] * (n - len(el[:n]))
        if have_yasa:
            yl = yasa_labels(rec)
            ny = min(len(yl), n)
            r["yasa"] = {k: v for k, v in score(rec, yl[:ny]).items() if k != "confusion"}
            ypred += yl[:ny] + ["?"] * (n - ny)
        per[rec.name] = r
    res = agreement(truth, pred)
    res["flicker_per_hour"] = flick_changes / max(n_ep_total, 1)
    res["calibration"] = calibration(truth, probs)
    res.update(pool_night_figures(list(per.values())))
    res["per_excerpt"] = per
    res["model"] = " + ".join(used_models)
    res["mode"] = "leave-one-out" if loo_fit is not None else "fixed-model"
    res["stager_seconds"] = t_stager
    if epred and len(epred) == len(truth):
        e = agreement(truth, epred)
        e["model"] = "YASA trees alone, causal features (expert weight 1)"
        res["expert_alone"] = e
    if have_yasa:
        y = agreement(truth, ypred)
        y["flicker_per_hour"] = float(np.mean([per[k]["yasa"]["flicker_per_hour"] for k in per]))
        y["model"] = "yasa"
        res["yasa"] = {k: v for k, v in y.items()}
        res["kappa_minus_yasa"] = res["kappa"] - y["kappa"]
    return res


def load_dreams(root: str, excerpts: Sequence[int]) -> list[Recording]:
    """Load several DREAMS excerpts."""
    return [load_dreams_excerpt(root, k) for k in excerpts]
