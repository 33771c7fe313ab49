"""Figures of the whole loop: latency, grip and feedback delays, a night's run, memory, start-up, CPU.

Every figure runs the real loop (synthetic source, stage chain, programme, safety layer,
serial drivers over ptys to the device simulators, the recorder):

``loop_latency_p50_ms`` / ``loop_latency_p99_ms``
    Per iteration at speed 1: from the source's chunk being read to the last command's
    acknowledgement, i.e. after the frame reached the simulator's pty (the iteration's
    processing time; target p99 ≤ 5 ms).
``grip_delay_p50_ms`` / ``p95`` / ``p99``
    A sample's acquisition to the hand frame received by the simulator (speed 1;
    :mod:`somnoloop_lab.bench_grip`; target p95 ≤ 100 ms).
``feedback_delay_p95_ms``
    A sample's acquisition to the neurofeedback command past the safety layer (speed 1;
    :mod:`firmware_host.neurofeedback.latency`; target ≤ 250 ms).
``night_run_s`` / ``night_x_realtime`` / ``rss_peak_mb``
    ``somnoloop run`` of the default night in a child process at max speed; its peak RSS
    (the end-of-night report included).
``rss_mb``
    Resident memory of the device process at steady state (target ≤ 200): ``somnoloop run``
    of the default config at speed 1 in a child process (the bench's own process holds lab
    code and is not what runs at the bedside); the median of its ``VmRSS`` sampled every
    second over the second half of a 3-min run, when start-up is long over and every stage
    has run (the stager's first staged epoch comes ~90 s in). MiB, like ``rss_peak_mb``.
``cold_start_s``
    A child process's start to its first processed sample, numba cache warm (≤ 3 s).
``cpu_pct_speed1``
    CPU seconds per second of real time at speed 1, after start-up (includes the device
    simulators' threads, which share the process here and not on the device).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from firmware_host.config import load_config
from firmware_host.runtime.hooks import IterationInfo, RunObserver
from firmware_host.runtime.run import Run

#: The child that reports its cold start: the time it processed its first samples.
_COLD_START = """
import sys, time
t0 = float(sys.argv[1])
from firmware_host.config import load_config
from firmware_host.runtime.hooks import RunObserver
from firmware_host.runtime.run import Run
class First(RunObserver):
    def on_iteration(self, run, info):
        if info.n_samples and not hasattr(self, "done"):
            self.done = True
            print("FIRST", time.time() - t0, flush=True)
            run.request_stop("measured")
Run(load_config(None), duration="1m", speed="1", session_dir=sys.argv[2], observers=[First()]).run()
"""


class _LoopTimes(RunObserver):
    """Iteration processing times and process CPU between ready and close."""

    name = "loop-times"

    def __init__(self) -> None:
        self.processing_s: list[float] = []
        self.cpu0 = self.wall0 = 0.0
        self.cpu_s = self.wall_s = 0.0

    def on_ready(self, run: Any) -> None:
        self.cpu0, self.wall0 = time.process_time(), time.monotonic()

    def on_iteration(self, run: Any, info: IterationInfo) -> None:
        if self.wall0 and info.n_samples:
            self.processing_s.append(info.processing_s)

    def on_stopping(self, run: Any, reason: str) -> None:
        if self.wall0:
            self.cpu_s = time.process_time() - self.cpu0
            self.wall_s = time.monotonic() - self.wall0


def loop_figures(seconds: float = 60.0) -> dict[str, Any]:
    """Loop latency percentiles and CPU share at speed 1 over ``seconds`` of the default night."""
    times = _LoopTimes()
    with tempfile.TemporaryDirectory() as tmp:
        Run(load_config(None), duration=f"{seconds:g}s", speed="1", session_dir=Path(tmp) / "s",
            observers=[times]).run()
    if not times.processing_s:
        raise RuntimeError(f"no iteration after the loop was ready within {seconds:g} s; run longer")
    ms = np.array(times.processing_s) * 1000.0
    return {"loop_latency_p50_ms": float(np.percentile(ms, 50)),
            "loop_latency_p99_ms": float(np.percentile(ms, 99)),
            "loop_iterations": int(ms.size),
            "cpu_pct_speed1": 100.0 * times.cpu_s / times.wall_s if times.wall_s else None}


def _vm_rss_mib(pid: int, field: str = "VmRSS") -> float | None:
    """``VmRSS`` (or another ``/proc/PID/status`` size, e.g. ``VmHWM``, its peak since exec)
    of a live process in MiB (None once it has gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def device_rss_mb(seconds: float = 180.0) -> dict[str, Any]:
    """Steady-state resident memory of the device process: ``somnoloop run`` at speed 1.

    A child runs the default config (``python -m firmware_host run --speed 1``, as the
    device does); its ``VmRSS`` is read every second, and the median over the second half
    of ``seconds`` is the figure (start-up, with its compile-cache loading and the EMG
    calibration, is over by then, and with the default 3 min every stage has run). The child
    is then stopped with SIGTERM, as systemd does.

    Returns
    -------
    dict
        ``rss_mb`` (median, MiB), ``rss_samples`` (how many readings it is the median of).
    """
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "stderr", "w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "firmware_host", "run", "--speed", "1", "--duration",
             f"{seconds + 120:g}s", "--quiet", "--session-dir", str(Path(tmp) / "s")],
            stdout=subprocess.DEVNULL, stderr=err)
        samples: list[float] = []
        t0 = time.monotonic()
        try:
            while child.poll() is None and time.monotonic() - t0 < seconds:
                time.sleep(1.0)
                rss = _vm_rss_mib(child.pid)
                if rss is not None and time.monotonic() - t0 >= seconds / 2:
                    samples.append(rss)
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=120)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        err.seek(0)
        if not samples:
            raise RuntimeError(f"the device process ended before it was measured: {err.read()[-500:]}")
    return {"rss_mb": round(float(np.median(samples)), 1), "rss_samples": len(samples)}


def night_figures(hours: float = 8.0) -> dict[str, Any]:
    """The default night through ``somnoloop run`` in a child process: wall time and the peak
    RSS of that child alone: its ``VmHWM``, polled until it exits. (``ru_maxrss`` from
    ``wait4`` would not do: it keeps the bench's own RSS at the fork across the exec.)"""
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "stderr", "w+") as err:
        t0 = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "firmware_host", "run", "--duration",
                                  f"{hours:g}h", "--quiet", "--session-dir", str(Path(tmp) / "night")],
                                 stdout=subprocess.DEVNULL, stderr=err)
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, _vm_rss_mib(child.pid, "VmHWM") or 0.0)
            time.sleep(0.05)
        wall = time.monotonic() - t0
        err.seek(0)
        if child.returncode != 0:
            raise RuntimeError(f"the night run failed: {err.read().strip()[-500:]}")
    return {"night_run_s": round(wall, 2), "night_x_realtime": round(hours * 3600 / wall, 1),
            "rss_peak_mb": round(peak, 1)}


def cold_start_s() -> float:
    """Process start to the first processed sample (numba cache warmed by a first run)."""
    with tempfile.TemporaryDirectory() as tmp:
        for attempt in range(2):  # the first child warms the cache, the second is measured
            t0 = time.time()
            argv = [sys.executable, "-c", _COLD_START, repr(t0), str(Path(tmp) / f"s{attempt}")]
            done = subprocess.run(argv, capture_output=True, text=True, check=False, env=os.environ.copy())
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("FIRST")]
            if not lines:
                raise RuntimeError(f"the cold-start child printed nothing: {done.stderr.strip()[-500:]}")
    return float(lines[-1].split()[1])


def run_loop_bench(*, night_hours: float = 8.0, speed1_s: float = 60.0) -> dict[str, Any]:
    """Every loop figure in one process (see the module docstring)."""
    from firmware_host.neurofeedback.latency import measure_feedback_delay
    from somnoloop_lab.bench_grip import bench_grip

    result: dict[str, Any] = {}
    result.update(loop_figures(speed1_s))
    result.update(device_rss_mb())
    result.update(bench_grip(max(60.0, speed1_s)))
    nf = measure_feedback_delay(load_config(Path(__file__).parents[2] / "configs" / "neurofeedback.toml")
                                if (Path(__file__).parents[2] / "configs").exists() else load_config(None),
                                30.0)
    result["feedback_delay_p95_ms"] = nf["p95_ms"]
    result.update(night_figures(night_hours))
    result["cold_start_s"] = round(cold_start_s(), 2)
    result["targets"] = {"loop_latency_p99_ms": "<= 5", "grip_delay_p95_ms": "<= 100",
                         "feedback_delay_p95_ms": "<= 250", "rss_mb": "<= 200", "cold_start_s": "<= 3"}
    return result


if __name__ == "__main__":
    print(json.dumps(run_loop_bench(night_hours=float(sys.argv[1]) if len(sys.argv) > 1 else 8.0),
                     indent=2))
