"""Post-processing of window-by-window grip probabilities into a clean intent:
confidence rejection, majority vote, and onset/offset hysteresis on the force.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intent:
    """The post-processed intent of one window.

    Parameters
    ----------
    label
        Output grip (``rest`` while the contraction is below onset or after rejection).
    raw_label
        Most probable class of this window, before any post-processing.
    confidence
        Probability of ``raw_label``.
    rejected
        True when ``confidence`` was below the rejection threshold.
    active
        Onset hysteresis state (contraction present).
    """

    label: str
    raw_label: str
    confidence: float
    rejected: bool
    active: bool


class PostProcessor:
    """Turns per-window probabilities and force into a debounced intent.

    Parameters
    ----------
    classes
        Class names (columns of the probabilities).
    rest_label
        The no-motion class; must be in ``classes``.
    reject_below
        Windows whose top probability is below this are rejected: they vote for the last
        accepted intent (``hold="last"``) or for rest (``hold="rest"``).
    vote
        Majority vote over this many most recent windows (1 = off). A change needs
        ``vote // 2 + 1`` agreeing windows, which adds ``vote // 2`` increments of delay.
    onset_on, onset_off
        Force hysteresis: a contraction starts when force >= ``onset_on`` and ends when
        force < ``onset_off`` (``onset_off <= onset_on``); outside a contraction the output
        is rest. 0 and 0 disable the gate.
    hold
        ``"last"`` or ``"rest"``, see ``reject_below``.
    """

    def __init__(
        self,
        classes: Sequence[str],
        rest_label: str = "rest",
        reject_below: float = 0.6,
        vote: int = 3,
        onset_on: float = 0.1,
        onset_off: float = 0.05,
        hold: str = "last",
    ) -> None:
        if rest_label not in classes:
            raise ValueError(f"rest label {rest_label!r} not among classes {list(classes)}")
        if not 0.0 <= reject_below <= 1.0:
            raise ValueError(f"reject_below must be in [0, 1], got {reject_below}")
        if vote < 1:
            raise ValueError(f"vote must be >= 1 window, got {vote}")
        if not 0.0 <= onset_off <= onset_on <= 1.0:
            raise ValueError(f"need 0 <= onset_off <= onset_on <= 1, got {onset_off}, {onset_on}")
        if hold not in ("last", "rest"):
            raise ValueError(f"hold must be 'last' or 'rest', got {hold!r}")
        self.classes = tuple(classes)
        self.rest_label = rest_label
        self.reject_below = float(reject_below)
        self.vote = int(vote)
        self.onset_on = float(onset_on)
        self.onset_off = float(onset_off)
        self.hold = hold
        self.reset()

    def reset(self) -> None:
        """Back to rest with an empty vote history."""
        self._history: deque[str] = deque()
        self._counts: dict[str, int] = {}  # votes per label in _history (no zero entries)
        self._last_safe = self.rest_label
        self._output = self.rest_label
        self._active = False

    @property
    def added_delay_windows(self) -> int:
        """Extra windows (increments) a change of intent waits for the vote."""
        return self.vote // 2

    def update(self, probabilities: np.ndarray, force: float) -> Intent:
        """Post-process one window's ``(n_classes,)`` probabilities and force (0..1)."""
        p = np.asarray(probabilities, dtype=np.float64)
        if p.shape != (len(self.classes),):
            raise ValueError(f"expected {len(self.classes)} probabilities, got shape {p.shape}")
        k = int(np.argmax(p))
        return Intent(*self._step(k, float(p[k]), float(force)))

    def update_many(self, probabilities: np.ndarray, force: np.ndarray) -> list[Intent]:
        """Post-process consecutive windows at once; same as calling :meth:`update` per row.

        Parameters
        ----------
        probabilities
            ``(n_windows, n_classes)``.
        force
            ``(n_windows,)`` force (0..1) of each window.

        Returns
        -------
        list of Intent
            One per window, in order.
        """
        return [Intent(*f) for f in self.update_many_fields(probabilities, force)]

    def update_many_fields(
        self, probabilities: np.ndarray, force: np.ndarray
    ) -> list[tuple[str, str, float, bool, bool]]:
        """:meth:`update_many` returning plain ``(label, raw_label, confidence, rejected,
        active)`` tuples (the :class:`Intent` fields in order) for per-window hot loops that
        only build an :class:`Intent` when they need one."""
        p = np.asarray(probabilities, dtype=np.float64)
        f = np.asarray(force, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != len(self.classes):
            raise ValueError(
                f"expected (n_windows, {len(self.classes)}) probabilities, got shape {p.shape}"
            )
        if f.shape != (p.shape[0],):
            raise ValueError(f"expected force of shape ({p.shape[0]},), got {f.shape}")
        ks = np.argmax(p, axis=1)
        confs = p[np.arange(p.shape[0]), ks]
        step = self._step
        return [
            step(k, c, v)
            for k, c, v in zip(ks.tolist(), confs.tolist(), f.tolist(), strict=True)
        ]

    def _step(self, k: int, conf: float, force: float) -> tuple[str, str, float, bool, bool]:
        """One window whose top class is ``k`` with probability ``conf``: the Intent fields."""
        raw = self.classes[k]
        rejected = conf < self.reject_below
        if rejected:
            candidate = self._last_safe if self.hold == "last" else self.rest_label
        else:
            candidate = raw
            self._last_safe = raw
        history, counts = self._history, self._counts
        if len(history) >= self.vote:
            old = history.popleft()
            left = counts[old] - 1
            if left:
                counts[old] = left
            else:
                del counts[old]
        history.append(candidate)
        counts[candidate] = counts.get(candidate, 0) + 1
        # a strict majority is unique, so no tie-break is needed
        need = len(history) // 2 + 1
        voted = None
        for lab, n in counts.items():
            if n >= need:
                voted = lab
                break
        if voted is None:
            voted = self._output_or_rest()
        if self._active:
            self._active = force >= self.onset_off
        else:
            self._active = force >= self.onset_on
        gated = self.onset_on > 0.0 or self.onset_off > 0.0
        self._output = voted if (self._active or not gated) else self.rest_label
        return self._output, raw, conf, rejected, self._active

    def _output_or_rest(self) -> str:
        return self._output if self._output in self.classes else self.rest_label
