"""The neurofeedback record of a session: per-block figures and the learning curve.

:func:`neurofeedback_summary` reads the journalled ``neurofeedback`` decisions of a session
(every update: feature, threshold, label, gates) and gives, per training block, the share of
clean updates rewarded, the mean clean feature, the mean of the baseline before it and the
share of updates gated; transfer blocks get the same with the share that *would* have been
rewarded. ``somnoloop info SESSION --json`` prints it as ``neurofeedback``.

:func:`learning_curve_figure` draws feature mean per block (with the baseline) and reward
rate across blocks, and across sessions of one wearer when several summaries are given; the
clinician report embeds the PNG it writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.session import Session


def _protocol(session: Session) -> dict[str, Any]:
    """The ``[neurofeedback]`` table of the config the session ran with."""
    for event in session.events("config"):
        nf = event.payload.get("neurofeedback")
        if isinstance(nf, dict):
            return nf
    return {}


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _block_figures(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Figures of one block from its update details."""
    n = len(rows)
    clean = [d for d in rows if not d["gated_by"]]
    hits = sum(1 for d in clean if d.get(key))
    features = [d["feature"] for d in clean if d.get("feature") is not None]
    thresholds = [d["threshold"] for d in rows if d.get("threshold") is not None]
    return {
        "n_updates": n,
        "reward_rate": hits / len(clean) if clean else None,
        "rewarded_fraction": hits / n if n else None,
        "feature_mean": _mean(features),
        "gated_fraction": (n - len(clean)) / n if n else None,
        "threshold_start": thresholds[0] if thresholds else None,
        "threshold_end": thresholds[-1] if thresholds else None,
    }


def neurofeedback_summary(session: Session) -> dict[str, Any] | None:
    """The ``neurofeedback`` object of ``somnoloop info --json`` (``None`` without updates).

    Returns
    -------
    dict or None
        ``protocol``, ``feature``, ``target_reward_rate``, ``n_updates``, ``gated_fraction``,
        ``gated_by`` (update counts per gate), ``threshold_changes``, ``baselines`` and
        ``blocks`` (one per training block: ``block``, ``training_block``, ``reward_rate`` —
        rewarded share of the clean updates, what the threshold holds at the target —,
        ``rewarded_fraction`` — rewarded share of all updates, i.e. of the block's time —,
        ``feature_mean`` (clean updates), ``baseline_mean`` (the latest baseline before it),
        ``gated_fraction``, ``n_updates``, ``threshold_start``, ``threshold_end``) and
        ``transfer_blocks`` (the same, with the share that *would* have been rewarded).
    """
    updates = [e.payload for e in session.decisions("neurofeedback")]
    if not updates:
        return None
    cfg = _protocol(session)
    by_block: dict[int, list[dict[str, Any]]] = {}
    phases: dict[int, tuple[str, int | None]] = {}
    for u in updates:
        d = dict(u["details"], label=u["label"])
        by_block.setdefault(d["block"], []).append(d)
        phases[d["block"]] = (d["phase"], d.get("training_block"))
    baselines, blocks, transfers = [], [], []
    last_baseline: float | None = None
    for index in sorted(by_block):
        phase, number = phases[index]
        rows = by_block[index]
        if phase == "baseline":
            fig = _block_figures(rows, "would_reward")
            last_baseline = fig["feature_mean"]
            baselines.append({"block": index, "feature_mean": fig["feature_mean"],
                              "gated_fraction": fig["gated_fraction"], "n_updates": fig["n_updates"]})
        elif phase in ("training", "transfer"):
            for d in rows:
                d["rewarded"] = d["label"] == "reward"
            fig = _block_figures(rows, "rewarded" if phase == "training" else "would_reward")
            entry = {"block": index, "training_block": number, **fig, "baseline_mean": last_baseline}
            (blocks if phase == "training" else transfers).append(entry)
    gated = Counter(g for u in updates for g in u["details"]["gated_by"])
    n_gated = sum(1 for u in updates if u["details"]["gated_by"])
    feature = cfg.get("feature") or None
    return {
        "protocol": cfg.get("protocol"),
        "feature": feature,
        "target_reward_rate": (cfg.get("threshold") or {}).get("target_reward_rate"),
        "n_updates": len(updates),
        "gated_fraction": n_gated / len(updates),
        "gated_by": dict(sorted(gated.items())),
        "threshold_changes": len(session.decisions("neurofeedback_threshold")),
        "baselines": baselines,
        "blocks": blocks,
        "transfer_blocks": transfers,
    }


def learning_curve_figure(summaries: Sequence[dict[str, Any]], path: str | Path,
                          labels: Sequence[str] | None = None) -> Path:
    """Write a PNG of the learning curve: feature and reward rate per training block.

    Parameters
    ----------
    summaries
        :func:`neurofeedback_summary` results, one per session of one wearer, in time order.
    path
        Where the PNG goes.
    labels
        One legend label per session (default ``session 1``, ``session 2``...).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        No summary has any training block, or ``labels`` has the wrong length.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if labels is not None and len(labels) != len(summaries):
        raise ValueError(f"labels has {len(labels)} entries for {len(summaries)} sessions")
    if not any(s.get("blocks") for s in summaries):
        raise ValueError("no training block in any session: nothing to plot")
    names = list(labels) if labels is not None else [f"session {i + 1}" for i in range(len(summaries))]
    fig, (ax_f, ax_r) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
    offset = 0
    ticks: list[int] = []
    for name, summary in zip(names, summaries, strict=True):
        blocks = summary.get("blocks") or []
        x = np.arange(offset + 1, offset + len(blocks) + 1)
        feat = [np.nan if b["feature_mean"] is None else b["feature_mean"] for b in blocks]
        base = [np.nan if b["baseline_mean"] is None else b["baseline_mean"] for b in blocks]
        rate = [np.nan if b["reward_rate"] is None else 100 * b["reward_rate"] for b in blocks]
        (line,) = ax_f.plot(x, feat, "o-", label=f"{name}: training")
        ax_f.plot(x, base, "--", color=line.get_color(), alpha=0.6, label=f"{name}: baseline")
        ax_r.plot(x, rate, "o-", color=line.get_color(), label=name)
        target = summary.get("target_reward_rate")
        if target is not None and len(x):
            ax_r.hlines(100 * target, x[0] - 0.3, x[-1] + 0.3, colors="grey", linestyles=":")
        ticks += list(x)
        offset += len(blocks)
    protocol = summaries[-1].get("protocol") or "neurofeedback"
    ax_f.set_title(f"Learning curve ({protocol})")
    ax_f.set_ylabel("feature (mean, clean updates)")
    ax_f.legend(fontsize="small")
    ax_r.set_ylabel("rewarded (%)")
    ax_r.set_xlabel("training block (sessions in order)")
    ax_r.set_ylim(0, 100)
    ax_r.set_xticks(ticks)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
