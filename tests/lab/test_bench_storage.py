"""The storage benchmark runs on a short night and reports every key (no timing assertions)."""

from __future__ import annotations

import math

import pytest

from somnoloop_lab.bench_storage import bench_storage

KEYS = ("night_mb", "journal_mb", "write_mb_s", "read_mb_s", "old_night_mb", "old_read_mb_s",
        "night_size_ratio", "read_time_ratio", "block_write_us", "samples_bit_exact")


@pytest.mark.slow
def test_bench_storage_short_night():
    result = bench_storage(0.02, float32_hours=0.01, journal_hours=1 / 60)
    for key in KEYS:
        assert key in result
        if key != "samples_bit_exact":
            assert isinstance(result[key], float) and math.isfinite(result[key]) and result[key] > 0, key
    assert result["samples_bit_exact"] is True
    assert result["samples_read"] == result["old_samples_read"] == round(0.02 * 3600 * 250)
    assert result["samples_mb"] < 0.5 * result["old_samples_mb"]
    assert result["journal_mb"] < result["old_journal_mb"]
