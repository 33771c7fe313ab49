"""AASM sleep metrics of an epoch hypnogram: pure functions, no I/O.

A hypnogram is a sequence of per-epoch labels from lights off to lights on. The sleep
stages are ``W``, ``N1``, ``N2``, ``N3`` and ``REM``; every other label (``"unscorable"``,
``"?"``, ``None``, a gap) is an *unscored* epoch. Rules, stated once here and in the report:

- **TIB** (time in bed): every epoch from lights off to lights on, unscored ones included.
- **TST** (total sleep time): epochs scored N1, N2, N3 or REM.
- **Sleep onset** is the first epoch of any sleep stage (AASM); **SOL** is the time from
  lights off to it.
- **Latency to persistent sleep** (LPS): from lights off to the first epoch of the first run of
  ``persistent_epochs`` (20 = 10 min) consecutive sleep epochs; an unscored epoch ends a run.
- **SPT** (sleep period time): from sleep onset to the end of the last sleep epoch.
- **SE** (sleep efficiency): TST / TIB × 100.
- **REM latency**: from sleep onset to the first REM epoch (AASM; not from lights off).
- **WASO**: W epochs inside the SPT (unscored epochs inside the SPT are reported apart).
- **Awakenings**: runs of W inside the SPT lasting at least ``min_awakening_s`` (30 s = one
  epoch by default). Unscored epochs are transparent: they neither end nor lengthen a run.
- **Stage shifts**: changes of stage between consecutive scored epochs inside the SPT
  (unscored epochs are transparent), W ↔ sleep changes included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

STAGES: tuple[str, ...] = ("W", "N1", "N2", "N3", "REM")
SLEEP_STAGES: tuple[str, ...] = ("N1", "N2", "N3", "REM")

#: Persistent sleep: this many consecutive sleep epochs (10 min of 30-s epochs).
PERSISTENT_EPOCHS = 20
#: Shortest run of wake inside the sleep period counted as an awakening (seconds).
MIN_AWAKENING_S = 30.0


@dataclass(frozen=True)
class SleepMetrics:
    """The AASM summary of one night; durations in minutes, ``None`` when undefined."""

    epoch_s: float
    n_epochs: int
    tib_min: float
    tst_min: float
    spt_min: float
    se_pct: float | None
    sol_min: float | None
    lps_min: float | None
    rem_latency_min: float | None
    waso_min: float | None
    n_awakenings: int
    n_stage_shifts: int
    unscored_min: float
    unscored_in_spt_min: float
    stage_min: dict[str, float]
    stage_pct_tst: dict[str, float | None]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return asdict(self)


#: ``key: (abbreviation, unit, definition)`` of every reported metric, in report order.
DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "tib_min": ("TIB", "min", "time in bed: lights off to lights on, unscored epochs included"),
    "tst_min": ("TST", "min", "total sleep time: epochs scored N1, N2, N3 or REM"),
    "spt_min": ("SPT", "min", "sleep period time: sleep onset to the end of the last sleep epoch"),
    "se_pct": ("SE", "%", "sleep efficiency: TST / TIB × 100"),
    "sol_min": ("SOL", "min", "sleep onset latency: lights off to the first epoch of any sleep (AASM)"),
    "lps_min": ("LPS", "min", "latency to persistent sleep: lights off to the first of "
                f"{PERSISTENT_EPOCHS // 2} consecutive minutes of sleep (an unscored epoch breaks the run)"),
    "rem_latency_min": ("REM latency", "min", "sleep onset to the first REM epoch (AASM)"),
    "waso_min": ("WASO", "min", "wake after sleep onset: W epochs inside the SPT"),
    "n_awakenings": ("Awakenings", "", f"runs of W inside the SPT of ≥ {MIN_AWAKENING_S:g} s "
                     "(unscored epochs neither end nor extend a run)"),
    "n_stage_shifts": ("Stage shifts", "", "changes of stage between consecutive scored epochs "
                       "inside the SPT"),
    "unscored_min": ("Unscored", "min", "epochs without a stage (bad signal, gaps); in TIB, not in TST"),
    "unscored_in_spt_min": ("Unscored in SPT", "min", "unscored epochs inside the SPT "
                            "(neither WASO nor TST)"),
}


def _validate(hypnogram: Sequence[str | None], epoch_s: float) -> np.ndarray:
    if not np.isfinite(epoch_s) or epoch_s <= 0:
        raise ValueError(f"epoch_s must be a positive number of seconds, got {epoch_s!r}")
    return np.array([s if s in STAGES else "" for s in hypnogram], dtype=object)


def sleep_metrics(hypnogram: Sequence[str | None], epoch_s: float = 30.0, *,
                  persistent_epochs: int = PERSISTENT_EPOCHS,
                  min_awakening_s: float = MIN_AWAKENING_S) -> SleepMetrics:
    """AASM metrics of ``hypnogram`` (lights off to lights on, one label per epoch).

    Parameters
    ----------
    hypnogram
        Labels ``W``, ``N1``, ``N2``, ``N3``, ``REM``; anything else is an unscored epoch.
    epoch_s
        Epoch length in seconds.
    persistent_epochs
        Consecutive sleep epochs that make persistent sleep (20 = 10 min of 30-s epochs).
    min_awakening_s
        Shortest run of W inside the sleep period counted as an awakening.

    Returns
    -------
    SleepMetrics
        Durations in minutes. SOL, SPT-based figures and REM latency are ``None`` (SPT 0)
        when there is no sleep; REM latency is ``None`` without REM; SE is ``None`` for an
        empty hypnogram.

    Raises
    ------
    ValueError
        If ``epoch_s`` is not positive or ``persistent_epochs`` is below 1.
    """
    labels = _validate(hypnogram, epoch_s)
    if persistent_epochs < 1:
        raise ValueError(f"persistent_epochs must be ≥ 1, got {persistent_epochs}")
    ep_min = epoch_s / 60.0
    n = labels.size
    is_sleep = np.isin(labels, SLEEP_STAGES)
    scored = labels != ""
    sleep_idx = np.flatnonzero(is_sleep)
    stage_min = {s: float(np.count_nonzero(labels == s)) * ep_min for s in STAGES}
    tst = float(is_sleep.sum()) * ep_min
    tib = n * ep_min
    if sleep_idx.size:
        onset, last = int(sleep_idx[0]), int(sleep_idx[-1])
        spt = labels[onset:last + 1]
        rem = np.flatnonzero(labels == "REM")
        spt_scored = spt[spt != ""]
        shifts = int(np.count_nonzero(spt_scored[1:] != spt_scored[:-1]))
        awakenings = _wake_runs(spt_scored, max(1, int(np.ceil(min_awakening_s / epoch_s - 1e-9))))
        sol: float | None = onset * ep_min
        spt_min = (last + 1 - onset) * ep_min
        waso: float | None = float(np.count_nonzero(spt == "W")) * ep_min
        rem_lat = (int(rem[0]) - onset) * ep_min if rem.size else None
        unscored_spt = float(np.count_nonzero(spt == "")) * ep_min
    else:
        sol = waso = rem_lat = None
        spt_min = unscored_spt = 0.0
        shifts = awakenings = 0
    return SleepMetrics(
        epoch_s=float(epoch_s),
        n_epochs=int(n),
        tib_min=tib,
        tst_min=tst,
        spt_min=spt_min,
        se_pct=100.0 * tst / tib if n else None,
        sol_min=sol,
        lps_min=_persistent_onset(is_sleep, persistent_epochs, ep_min),
        rem_latency_min=rem_lat,
        waso_min=waso,
        n_awakenings=awakenings,
        n_stage_shifts=shifts,
        unscored_min=float(np.count_nonzero(~scored)) * ep_min,
        unscored_in_spt_min=unscored_spt,
        stage_min=stage_min,
        stage_pct_tst={s: (100.0 * stage_min[s] / tst if tst else None) for s in SLEEP_STAGES},
    )


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and lengths of the runs of ``True`` in a boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    return starts, np.flatnonzero(edges == -1) - starts


def _wake_runs(scored_spt: np.ndarray, min_epochs: int) -> int:
    """Runs of ``W`` at least ``min_epochs`` long in the scored epochs of the sleep period."""
    _, lengths = _runs(scored_spt == "W")
    return int(np.count_nonzero(lengths >= min_epochs))


def _persistent_onset(is_sleep: np.ndarray, k: int, ep_min: float) -> float | None:
    starts, lengths = _runs(is_sleep)
    ok = np.flatnonzero(lengths >= k)
    return float(starts[ok[0]]) * ep_min if ok.size else None
