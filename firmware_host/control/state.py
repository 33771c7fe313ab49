"""The ``state`` message: the loop's latest snapshot and the journal's news, as one dict.

Built on the control thread from a :class:`~firmware_host.control.snapshot.LoopSnapshot`
(copied by the loop) and a :class:`~firmware_host.control.tail.JournalTail`; see
PROTOCOL.md for every key.
"""

from __future__ import annotations

import time
from typing import Any

from firmware_host.control.snapshot import LoopSnapshot
from firmware_host.control.tail import JournalTail
from firmware_host.control.views import TraceView, signal_views
from firmware_host.stages.quality import QualityConfig


class CpuMeter:
    """This process's CPU use (% of one core) between two readings."""

    def __init__(self) -> None:
        self._last = (time.monotonic(), time.process_time())
        self.percent = 0.0

    def read(self, min_interval_s: float = 0.5) -> float:
        """Update (at most every ``min_interval_s``) and return the CPU percentage."""
        wall, cpu = time.monotonic(), time.process_time()
        dt = wall - self._last[0]
        if dt >= min_interval_s:
            self.percent = round(100.0 * (cpu - self._last[1]) / dt, 1)
            self._last = (wall, cpu)
        return self.percent


def _actuators(snap: LoopSnapshot, tail: JournalTail) -> dict[str, Any]:
    status = snap.actuation
    devices = status.get("devices", {})
    out: dict[str, Any] = {}
    for name, reported in (status.get("actuators") or {}).items():
        channels = {ch.split(".", 1)[1]: v for ch, v in snap.commanded.items() if ch.startswith(name + ".")}
        ramps = {ch.split(".", 1)[1]: v for ch, v in snap.ramping.items() if ch.startswith(name + ".")}
        out[name] = {
            "commanded": {"last": tail.commanded.get(name), "channels": channels, "ramping": ramps},
            "reported": reported,
            "lost": bool(devices.get(name, {}).get("lost", False)),
        }
    return out


def build_state(snap: LoopSnapshot | None, tail: JournalTail, *, acknowledged: set[str],
                cpu_percent: float, quality: QualityConfig, view: TraceView, staging: bool,
                run_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``state`` message (see PROTOCOL.md), its signals as ``view`` asks; ``staging``:
    whether the run stages sleep (``[stager] enabled``)."""
    stage = tail.stage or {}
    state: dict[str, Any] = {
        "type": "state",
        "run": run_info or {},
        "t": snap.t if snap else None,
        "data_s": snap.data_s if snap else 0.0,
        "healthy": snap.healthy if snap else False,
        "stage": stage.get("label"),
        "stage_probabilities": stage.get("probabilities", {}),
        "stage_provisional": stage.get("provisional", False),
        "stage_model": stage.get("model"),
        "hypnogram": list(snap.hypnogram) if snap else [],
        "epoch_s": snap.epoch_s if snap else None,
        "staging": staging,
        "grip": tail.grip,
        "actuators": _actuators(snap, tail) if snap else {},
        "alarms": [],
        "safety": {},
        "recent": list(tail.recent),
        "journal": list(tail.control),
        "loop_latency_ms": round(snap.latency_ms["mean"], 3) if snap else None,
        "loop_latency_max_ms": round(snap.latency_ms["max"], 3) if snap else None,
        "loop_late_ms": round(snap.latency_ms["late"], 3) if snap else None,
        "cpu_percent": cpu_percent,
    }
    if snap is not None:
        status = snap.actuation
        state["alarms"] = [{**a, "acknowledged": a.get("code") in acknowledged}
                           for a in status.get("alarms", [])]
        state["safety"] = {k: status.get(k) for k in ("estop", "signal_stale", "hold", "led")}
    state.update(signal_views(snap.raw if snap else None, view, quality))
    return state
