"""Hypnogram files: Sleep-EDF EDF+, DREAMS 5-s R&K, plain text."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from firmware_host.sources.hypnogram import HypnogramError, load_hypnogram
from tests.paths import DATA

SLEEP_EDF = DATA / "sleep-edf" / "SC4001EC-Hypnogram.edf"
DREAMS = DATA / "dreams-spindles" / "Hypnogram_excerpt1.txt"


@pytest.mark.skipif(not SLEEP_EDF.exists(), reason=f"real data not found at {SLEEP_EDF}")
def test_sleep_edf_hypnogram_merges_s3_s4_and_trims_unscored_tail() -> None:
    hyp = load_hypnogram(SLEEP_EDF)
    # 2880 epochs minus the 230-epoch unscored tail (see the data README)
    assert len(hyp) == 2650
    assert Counter(hyp) == {"W": 1997, "N1": 58, "N2": 250, "N3": 101 + 119, "REM": 125}
    trimmed = load_hypnogram(SLEEP_EDF, max_edge_wake_s=1800)
    assert len(trimmed) == 841
    assert trimmed[:60] == ["W"] * 60 and trimmed[60] != "W"


@pytest.mark.skipif(not DREAMS.exists(), reason=f"real data not found at {DREAMS}")
def test_dreams_5s_labels_aggregate_by_majority() -> None:
    hyp = load_hypnogram(DREAMS)
    assert len(hyp) == 60
    assert Counter(hyp) == {"W": 10, "N1": 1, "N2": 36, "N3": 13}
    assert len(load_hypnogram(DREAMS, epoch_s=5.0)) == 360


def test_dreams_movement_is_wake_and_unknown_is_filled(tmp_path: Path) -> None:
    path = tmp_path / "Hypnogram_x.txt"
    codes = [-2] * 6 + [2] * 6 + [-1] * 6 + [-3] * 6 + [0] * 4 + [1] * 2 + [-2] * 6
    path.write_text("[Hypnogram]\n" + "\n".join(map(str, codes)) + "\n")
    assert load_hypnogram(path) == ["N2", "W", "W", "N3"]


def test_plain_text_with_entry_length_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "h.txt"
    path.write_text("# scored by hand\nW\nw\nN1\nS2\nN2\n\nR\nS4\n?\nREM\n")
    # pairs vote; a tie goes to the stage listed first in STAGES
    assert load_hypnogram(path, 30.0, entry_s=15.0) == ["W", "N1", "N2", "N3", "REM"]
    assert load_hypnogram(path, 30.0) == ["W", "W", "N1", "N2", "N2", "REM", "N3", "N3", "REM"]


def test_errors_name_file_line_and_allowed(tmp_path: Path) -> None:
    path = tmp_path / "h.txt"
    path.write_text("W\nN5\n")
    with pytest.raises(HypnogramError, match=r"h.txt:2: unknown stage 'N5'; allowed: .*'REM'"):
        load_hypnogram(path)
    with pytest.raises(HypnogramError, match="does not exist"):
        load_hypnogram(tmp_path / "missing.txt")
    path.write_text("?\n?\n")
    with pytest.raises(HypnogramError, match="no scored sleep stage"):
        load_hypnogram(path)
