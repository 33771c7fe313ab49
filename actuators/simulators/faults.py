"""Fault injection plan shared by the device simulators (settable while they run)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field, fields


@dataclass
class FaultPlan:
    """What the simulated device does wrong. Counters (``*_next``) count down per event.

    Reply-side faults act on bytes the device sends; ``corrupt_rx_next`` acts on bytes it
    receives (the device then sees a bad CRC/checksum and stays silent).

    Parameters
    ----------
    drop_prob, drop_next
        Drop one random byte of a reply (probability per reply / next N replies).
    corrupt_prob, corrupt_next
        Flip one random bit of a reply (probability / next N replies).
    silence_next
        Send nothing at all for the next N replies (the command *was* executed).
    corrupt_rx_next
        Flip a bit in the next N chunks of received bytes.
    delay_s
        Delay every reply by this many (real) seconds.
    nack_next, nack_code
        Answer the next N commands with a NACK of ``nack_code`` instead of executing them.
    reset_next_command
        Reset the device when the next command arrives, before executing or answering it
        (a reset mid-command).
    garbage_next
        Send 1..16 random bytes before each of the next N replies.
    seed
        Seed of the fault random generator (reproducible tests).
    """

    drop_prob: float = 0.0
    drop_next: int = 0
    corrupt_prob: float = 0.0
    corrupt_next: int = 0
    silence_next: int = 0
    corrupt_rx_next: int = 0
    delay_s: float = 0.0
    nack_next: int = 0
    nack_code: int = 0x04
    reset_next_command: bool = False
    garbage_next: int = 0
    seed: int | None = 0
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False,
                                  compare=False)

    def __post_init__(self) -> None:
        for name in ("drop_prob", "corrupt_prob"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"FaultPlan.{name} must be within 0..1, got {p}")
        if self.delay_s < 0:
            raise ValueError(f"FaultPlan.delay_s must be >= 0, got {self.delay_s}")
        self._rng = random.Random(self.seed)

    def set(self, **changes: object) -> None:
        """Change fields atomically, e.g. ``plan.set(corrupt_next=2)``."""
        names = {f.name for f in fields(self) if not f.name.startswith("_")}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown FaultPlan field(s) {unknown}; allowed: {sorted(names)}")
        with self._lock:
            for key, value in changes.items():
                setattr(self, key, value)
            if "seed" in changes:
                self._rng = random.Random(self.seed)

    def clear(self) -> None:
        """Remove every fault."""
        self.set(drop_prob=0.0, drop_next=0, corrupt_prob=0.0, corrupt_next=0, silence_next=0,
                 corrupt_rx_next=0, delay_s=0.0, nack_next=0, reset_next_command=False,
                 garbage_next=0)

    def _take(self, counter: str, prob_name: str | None = None) -> bool:
        """Consume one event of ``counter`` (or draw ``prob_name``); caller holds no lock."""
        with self._lock:
            if getattr(self, counter) > 0:
                setattr(self, counter, getattr(self, counter) - 1)
                return True
            if prob_name is not None:
                p = getattr(self, prob_name)
                return p > 0 and self._rng.random() < p
            return False

    def take_nack(self) -> int | None:
        """NACK code to answer the next command with, or None."""
        with self._lock:
            if self.nack_next > 0:
                self.nack_next -= 1
                return self.nack_code
            return None

    def take_reset(self) -> bool:
        """Whether the device must reset on this command."""
        with self._lock:
            hit, self.reset_next_command = self.reset_next_command, False
            return hit

    def mangle_rx(self, data: bytes) -> bytes:
        """Apply receive-side corruption."""
        if data and self._take("corrupt_rx_next"):
            return self._flip(data)
        return data

    def mangle_reply(self, data: bytes) -> bytes | None:
        """Apply reply-side faults; None means send nothing."""
        if self._take("silence_next"):
            return None
        if data and self._take("drop_next", "drop_prob"):
            with self._lock:
                i = self._rng.randrange(len(data))
            data = data[:i] + data[i + 1:]
        if data and self._take("corrupt_next", "corrupt_prob"):
            data = self._flip(data)
        if self._take("garbage_next"):
            with self._lock:
                junk = bytes(self._rng.randrange(256) for _ in range(self._rng.randint(1, 16)))
            data = junk + data
        return data

    def _flip(self, data: bytes) -> bytes:
        with self._lock:
            i = self._rng.randrange(len(data))
            bit = 1 << self._rng.randrange(8)
        out = bytearray(data)
        out[i] ^= bit
        return bytes(out)
