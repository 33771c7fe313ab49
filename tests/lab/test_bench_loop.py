"""The loop figures of ``somnoloop bench``: measured on a short real run at speed 1."""

from __future__ import annotations

import math
import os

import pytest

from somnoloop_lab.bench_grip import bench_grip
from somnoloop_lab.bench_loop import _vm_rss_mib, device_rss_mb, loop_figures, night_figures
from tests.jit import needs_jit

#: The figures measure the device, whose kernels are compiled; without JIT they mean nothing.
pytestmark = needs_jit("benchmarks measure the compiled kernels")


@pytest.mark.slow
def test_loop_latency_and_cpu_at_speed_1():
    figures = loop_figures(6.0)
    assert figures["loop_iterations"] > 100  # a 10 ms loop over ~6 s of data
    assert 0 < figures["loop_latency_p50_ms"] <= figures["loop_latency_p99_ms"] < 1000
    assert 0 < figures["cpu_pct_speed1"] < 200


@pytest.mark.slow
def test_grip_delay_pairs_hand_frames_with_their_decisions():
    figures = bench_grip(25.0)
    assert figures["grip_commands"] >= 3
    assert 0 < figures["grip_delay_p50_ms"] <= figures["grip_delay_p95_ms"] <= figures["grip_delay_max_ms"]
    assert math.isfinite(figures["grip_delay_p99_ms"])


def test_vm_rss_reads_a_live_process_and_none_once_gone():
    mine = _vm_rss_mib(os.getpid())
    assert mine is not None and 10 < mine < 10_000
    assert _vm_rss_mib(2**22 + 12345) is None  # beyond Linux's pid_max: no such process


@pytest.mark.slow
def test_device_rss_is_the_steady_state_of_a_child_device_process():
    figures = device_rss_mb(12.0)
    # sampled every second over the second half of the run: about six readings
    assert 3 <= figures["rss_samples"] <= 7
    # python + numpy + numba's runtime alone are > 100 MiB; the device process is far below 1 GiB
    assert 100 < figures["rss_mb"] < 1024


@pytest.mark.slow
def test_the_nights_peak_rss_is_the_childs_own_however_large_the_bench_has_grown():
    """``ru_maxrss`` would report the bench's own size at the fork; ``VmHWM`` does not."""

    ballast = bytearray(1024 * 2**20)  # the bench after its other suites: 1 GiB resident
    ballast[::4096] = b"\1" * len(ballast[::4096])
    own = _vm_rss_mib(os.getpid())
    figures = night_figures(0.02)  # 72 s of data, then the report
    assert own is not None and own > 1024
    assert 50 < figures["rss_peak_mb"] < 1000, figures
    assert figures["night_x_realtime"] > 1
