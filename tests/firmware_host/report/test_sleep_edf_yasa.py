"""The real expert hypnogram SC4001EC through our AASM metrics, against YASA's ``sleep_statistics``.

Where the definitions differ (stated in the README, "The clinician's report"):

- REM latency: ours runs from sleep onset (AASM); YASA's ``Lat_REM`` from the start of the
  record, so ours equals ``Lat_REM - SOL``.
- Latency to persistent sleep: ours is the first run of 10 min of sleep by default, YASA's
  ``SOL_5min`` the first run of 5 min; with ``persistent_epochs=10`` the two agree.
- Awakenings: YASA has no count, but its SFI (sleep→wake transitions per hour of TST) counts
  every transition into W, the final awakening after the last sleep epoch included; ours
  counts W runs inside the SPT only, so ours = SFI × TST − 1 on a night ending awake.
- Stage shifts: YASA has none; checked against a naive count in this file.
Everything else (TIB with unscored epochs, TST without them, SPT, WASO, SOL, SE, stage
minutes and % of TST) has the same definition and must match to the rounding YASA applies.
"""

import os
from pathlib import Path

import pytest

from firmware_host.report.metrics import sleep_metrics
from firmware_host.report.night import EXPERT_LABELS

DATA = Path(os.environ.get("SOMNOLOOP_DATA",
                           Path(__file__).resolve().parents[3] / ".." / "shared" / "data"))
HYPNOGRAM = DATA / "sleep-edf" / "SC4001EC-Hypnogram.edf"

pytestmark = pytest.mark.skipif(not HYPNOGRAM.exists(), reason=f"real data absent: {HYPNOGRAM}")


def expert_epochs() -> list[str | None]:
    """30-s epochs of SC4001EC from its EDF+ annotations (R&K 3 and 4 → N3; '?' unscored)."""
    mne = pytest.importorskip("mne")
    ann = mne.read_annotations(HYPNOGRAM)
    out: list[str | None] = []
    for dur, desc in zip(ann.duration, ann.description, strict=True):
        out += [EXPERT_LABELS.get(desc)] * int(round(dur / 30))
    return out


def trimmed(epochs: list[str | None]) -> list[str | None]:
    """30 min of wake before the first and after the last sleep epoch (Sleep-EDF-20 practice)."""
    sleep = [i for i, s in enumerate(epochs) if s in ("N1", "N2", "N3", "REM")]
    return epochs[max(0, sleep[0] - 60): sleep[-1] + 61]


def test_counts_match_the_readme_of_the_data():
    epochs = expert_epochs()
    assert len(epochs) == 2880
    m = sleep_metrics(epochs)
    # README table: N1 58, N2 250, N3 101 + 119 (R&K 3 + 4), REM 125 → 653 epochs of sleep
    assert m.tst_min == 653 * 0.5
    assert m.stage_min == {"W": 1997 * 0.5, "N1": 29.0, "N2": 125.0, "N3": 110.0, "REM": 62.5}
    assert m.unscored_min == 230 * 0.5
    # first sleep epoch at 30 630 s, last sleep epoch ends at 52 260 s (README)
    assert m.sol_min == 30630 / 60
    assert m.spt_min == (52260 - 30630) / 60


@pytest.mark.parametrize("crop", [False, True], ids=["whole-record", "trimmed-30min"])
def test_metrics_match_yasa_sleep_statistics(crop):
    yasa = pytest.importorskip("yasa", reason="YASA is a [yasa] extra (lab yardstick), not installed")
    epochs = expert_epochs()
    epochs = trimmed(epochs) if crop else epochs
    ours = sleep_metrics(epochs, persistent_epochs=10)
    hyp = yasa.Hypnogram([s or "UNS" for s in epochs], freq="30s")
    theirs = hyp.sleep_statistics()
    same = {"TIB": ours.tib_min, "TST": ours.tst_min, "SPT": ours.spt_min, "WASO": ours.waso_min,
            "SOL": ours.sol_min, "SE": ours.se_pct, "SOL_5min": ours.lps_min,
            "N1": ours.stage_min["N1"], "N2": ours.stage_min["N2"], "N3": ours.stage_min["N3"],
            "REM": ours.stage_min["REM"], "WAKE": ours.stage_min["W"],
            **{f"%{s}": ours.stage_pct_tst[s] for s in ("N1", "N2", "N3", "REM")}}
    for key, value in same.items():
        assert value == pytest.approx(float(theirs[key]), abs=1e-3), key
    # REM latency: AASM (ours) from sleep onset, YASA from the start of the record
    assert ours.rem_latency_min == pytest.approx(theirs["Lat_REM"] - theirs["SOL"], abs=1e-3)
    # awakenings: YASA's SFI × TST (h) counts every sleep→wake transition, the final
    # awakening (outside the SPT) included; with no unscored epoch inside the SPT ours is one less
    assert ours.unscored_in_spt_min == 0.0
    assert ours.n_awakenings == int(round(theirs["SFI"] * theirs["TST"] / 60)) - 1
    assert ours.n_stage_shifts == naive_stage_shifts(epochs)


def naive_stage_shifts(epochs: list[str | None]) -> int:
    """Changes between consecutive scored epochs from the first to the last sleep epoch."""
    sleep = [i for i, s in enumerate(epochs) if s in ("N1", "N2", "N3", "REM")]
    previous, shifts = None, 0
    for s in epochs[sleep[0]: sleep[-1] + 1]:
        if s is None:
            continue
        if previous is not None and s != previous:
            shifts += 1
        previous = s
    return shifts
