"""The fault catalogue, injected into a real run.

Signal faults act on a :class:`FaultySource` wrapped around the configured source (the
``wrap_source`` seam of :class:`~firmware_host.runtime.run.Run`); device faults act on the
device simulators' :class:`~actuators.simulators.faults.FaultPlan` and cable; the E-stop is
pressed on the mock GPIO pin. Each fault has an onset and a duration in data seconds and
says whether the actuators must reach their safe state because of it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from firmware_host.chunk import Chunk, SourceEvent

#: Faults of the signal path (acting on the source's chunks).
SIGNAL_FAULTS = ("stall", "flat", "railing", "nan", "inf", "timestamp_jump", "timestamp_jump_back",
                 "overrun")
#: Faults of a serial device (acting on its simulator).
DEVICE_FAULTS = ("serial_timeout", "corrupt_bytes", "nack_storm", "reset_mid_command",
                 "unplug", "heartbeat_lost")
#: Faults of the bedside controls.
CONTROL_FAULTS = ("estop",)
CATALOGUE = SIGNAL_FAULTS + DEVICE_FAULTS + CONTROL_FAULTS

#: Faults after which every actuator (or the faulty one) must be in its safe state.
NEEDS_SAFE_STATE = {"flat", "railing", "nan", "inf", "stall", "unplug", "heartbeat_lost", "estop"}


@dataclass
class Fault:
    """One injected fault.

    Parameters
    ----------
    kind
        One of :data:`CATALOGUE`.
    start_s
        Onset, in seconds of loop clock.
    duration_s
        How long it lasts (0 for one-shot faults).
    target
        The device it hits (device faults), else ``""``.
    """

    kind: str
    start_s: float
    duration_s: float
    target: str = ""
    #: Loop-clock time at which the fault was actually applied and cleared.
    applied_at: float | None = None
    cleared_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def end_s(self) -> float:
        """When the fault clears."""
        return self.start_s + self.duration_s


def random_schedule(hours: float, rng: random.Random, *, every_s: tuple[float, float] = (300, 1500),
                    devices: tuple[str, ...] = ("mattress", "hand"), estop: bool = True) -> list[Fault]:
    """Faults from the catalogue at random times over ``hours`` (one at a time, spaced)."""
    faults: list[Fault] = []
    kinds = [k for k in CATALOGUE if estop or k != "estop"]
    t = rng.uniform(*every_s)
    end = hours * 3600.0 - 120.0
    while t < end:
        kind = rng.choice(kinds)
        duration = {"stall": rng.uniform(2.0, 30.0), "flat": rng.uniform(3.0, 60.0),
                    "railing": rng.uniform(3.0, 30.0), "nan": 1.0, "inf": 1.0, "timestamp_jump": 0.0,
                    "timestamp_jump_back": 0.0,
                    "overrun": 0.0, "unplug": rng.uniform(3.0, 30.0),
                    "heartbeat_lost": rng.uniform(3.0, 10.0), "estop": rng.uniform(2.0, 20.0),
                    }.get(kind, 0.0)
        target = rng.choice(devices) if kind in DEVICE_FAULTS else ""
        faults.append(Fault(kind, round(t, 2), round(duration, 2), target))
        t += duration + rng.uniform(*every_s)
    return faults


class FaultySource:
    """A source wrapper that spoils chunks while a signal fault is active.

    ``stall`` withholds data (the inner source keeps buffering, so nothing is lost);
    ``flat`` and ``railing`` replace the samples by a constant or the amplifier rail;
    ``nan`` puts NaN in the samples, ``inf`` +inf and -inf; ``timestamp_jump`` and
    ``timestamp_jump_back`` shift the chunk's timestamps an hour forward or back (a board
    clock that steps); ``overrun`` drops two seconds of samples (a lost ring buffer: a real gap, counted
    as deliberately lost).
    """

    def __init__(self, inner: Any, rail_uv: float = 187500.0) -> None:
        self.inner = inner
        self.rail_uv = rail_uv
        self.active: dict[str, Fault] = {}
        #: Samples the ``overrun`` faults threw away (per channel).
        self.dropped = 0
        self._pending_drop = 0

    # Source protocol, delegated
    @property
    def sfreq(self) -> float:
        return self.inner.sfreq

    @property
    def channel_names(self) -> tuple[str, ...]:
        return self.inner.channel_names

    @property
    def channel_types(self) -> tuple[str, ...]:
        return self.inner.channel_types

    @property
    def finished(self) -> bool:
        return self.inner.finished

    @property
    def start_time(self) -> float | None:
        return getattr(self.inner, "start_time", None)

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def drop_next(self, n_samples: int) -> None:
        """Throw away the next ``n_samples`` samples (a buffer overrun)."""
        self._pending_drop += int(n_samples)

    def read(self) -> Chunk | None:
        """The inner source's chunk, spoiled by the active faults."""
        if "stall" in self.active:
            return None
        chunk = self.inner.read()
        if chunk is None or chunk.n_samples == 0:
            return chunk
        if self._pending_drop:
            k = min(self._pending_drop, chunk.n_samples)
            self._pending_drop -= k
            self.dropped += k
            if k == chunk.n_samples:
                return None
            chunk = _tail(chunk, k)
            chunk = replace(chunk, events=(*chunk.events, SourceEvent(
                "gap", chunk.first_sample, {"missing": k, "cause": "injected overrun"})))
        data = chunk.data
        if self.active.keys() & {"flat", "railing", "nan", "inf"}:
            data = data.copy()
            eeg = np.array([t == "eeg" for t in chunk.channel_types])
            if "flat" in self.active:
                data[eeg] = 3.0
            if "railing" in self.active:
                data[eeg] = self.rail_uv
            every = max(1, chunk.n_samples // 3)
            if "nan" in self.active:
                data[:, ::every] = math.nan
            if "inf" in self.active:
                data[:, ::every] = math.inf
                data[:, 1::every] = -math.inf
        ts = chunk.timestamps
        for kind, sign in (("timestamp_jump", 1.0), ("timestamp_jump_back", -1.0)):
            if kind in self.active:
                ts = ts + sign * self.active[kind].extra.get("jump_s", 3600.0)
        if data is chunk.data and ts is chunk.timestamps:
            return chunk
        return replace(chunk, data=data, timestamps=ts)


def _tail(chunk: Chunk, k: int) -> Chunk:
    """``chunk`` without its first ``k`` samples."""
    return replace(chunk, data=chunk.data[:, k:], first_sample=chunk.first_sample + k,
                   timestamps=chunk.timestamps[k:],
                   events=tuple(e for e in chunk.events if e.sample >= chunk.first_sample + k))
