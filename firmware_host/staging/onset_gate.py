"""Sleep-onset gate: no N3 or REM while the sleeper is still awake in bed.

What is known before the stager has seen any of the night: at lights-off the sleeper is
awake, and sleep begins through N1 and N2 — N3 is reached after several minutes of N2, REM
(outside narcolepsy) only after NREM sleep. A wake epoch the classifier calls N3 is by far
the most harmful error on the device (the bed stops the sleep-onset programme while its
sleeper lies awake), and it is most likely at the start of the night, when the expert's
context features still lean on the population prior instead of this night's statistics.

The gate is a causal two-state tracker (awake in bed / asleep) driven by two one-sided
CUSUM (Page) tests on the epoch posteriors:

* **sleep onset**: ``s ← max(0, s + clip(log (P(N2)+P(N3)) / (P(W)+P(N1))))``; the sleeper
  counts as asleep once ``s ≥ onset_evidence``. Each epoch adds at most ``clip`` (≈ 20 : 1
  odds), so a few consecutive NREM epochs are needed and isolated NREM-looking wake epochs
  (movement, eye or sweat artefacts on a frontal derivation) are reset by the wake between
  them.
* **back awake**: ``a ← max(0, a + clip(log (P(W)+P(N1)) / (P(N2)+P(N3)+P(REM))))``; after
  ``wake_evidence`` of sustained wake or light sleep (several minutes, not a brief arousal)
  the tracker is awake in bed again (the final awakening, a long awakening in the night), so
  sleep must begin again through N1/N2. N1 counts with wake here because relaxed wake with
  little alpha looks like N1 to an EEG classifier, and after minutes of it a direct entry
  into REM or N3 is as unlikely as from wake.

While awake in bed the probabilities of N3 and REM are set to 0 and the rest renormalised;
the mass taken away is reported (``blocked``), so consumers see how unsure the epoch was.
Nothing looks ahead: the state after epoch ``k`` depends on epochs ``≤ k`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Stages the gate keeps out while the sleeper is awake in bed.
GATED = ("N3", "REM")
#: Largest evidence (log-odds) one epoch can add to either test.
CLIP = float(np.log(20.0))


@dataclass
class GateState:
    """The tracker's state (``asleep`` and the two CUSUM statistics)."""

    asleep: bool = False
    onset: float = 0.0
    wake: float = 0.0


class SleepOnsetGate:
    """Causal sleep-onset gate over epoch posteriors.

    Parameters
    ----------
    classes
        Class names in probability order (must contain ``W``, ``N1``, ``N2``, ``N3``).
    onset_evidence
        CUSUM threshold (log-odds) of the sleep-onset test; ``CLIP`` per epoch at most.
    wake_evidence
        CUSUM threshold (log-odds) of the back-awake test.
    """

    def __init__(self, classes: Sequence[str], onset_evidence: float = 9.0,
                 wake_evidence: float = 15.0) -> None:
        missing = [c for c in ("W", "N1", "N2", "N3") if c not in classes]
        if missing:
            raise ValueError(f"sleep-onset gate needs classes W, N1, N2, N3; missing {missing}")
        if not (onset_evidence > 0 and wake_evidence > 0):
            raise ValueError(f"onset_evidence and wake_evidence must be > 0, got "
                             f"{onset_evidence} and {wake_evidence}")
        self.classes = list(classes)
        self.onset_evidence = float(onset_evidence)
        self.wake_evidence = float(wake_evidence)
        idx = {c: i for i, c in enumerate(self.classes)}
        self._nrem = [idx["N2"], idx["N3"]]
        self._light = [idx["W"], idx["N1"]]
        self._w = idx["W"]
        self._deeper = [i for i, c in enumerate(self.classes) if c not in ("W", "N1")]
        self._gated = [idx[c] for c in GATED if c in idx]
        self.reset()

    def reset(self) -> None:
        """A new night: awake in bed."""
        self.state = GateState()

    def step(self, probs: np.ndarray, commit: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
        """One scored epoch's probabilities → gated probabilities and the gate's details.

        Parameters
        ----------
        probs
            The epoch's probabilities over :attr:`classes`.
        commit
            ``False`` for a provisional look: the state is left unchanged.

        Returns
        -------
        probs, details
            Gated probabilities (unchanged when asleep) and ``{"asleep", "onset_evidence",
            "wake_evidence", "blocked"}``.
        """
        p = np.asarray(probs, dtype=np.float64)
        s = self.state
        onset, wake, asleep = s.onset, s.wake, s.asleep
        lo = np.log(max(p[self._nrem].sum(), 1e-12)) - np.log(max(p[self._light].sum(), 1e-12))
        lw = np.log(max(p[self._light].sum(), 1e-12)) - np.log(max(p[self._deeper].sum(), 1e-12))
        if asleep:
            wake = max(0.0, wake + float(np.clip(lw, -CLIP, CLIP)))
            if wake >= self.wake_evidence:
                asleep, onset, wake = False, 0.0, 0.0
        else:
            onset = max(0.0, onset + float(np.clip(lo, -CLIP, CLIP)))
            if onset >= self.onset_evidence:
                asleep, onset, wake = True, 0.0, 0.0
        blocked = 0.0
        out = p
        if not asleep:
            blocked = float(p[self._gated].sum())
            out = p.copy()
            out[self._gated] = 0.0
            total = out.sum()
            out = out / total if total > 0 else np.where(np.arange(p.size) == self._w, 1.0, 0.0)
        if commit:
            self.state = GateState(asleep, onset, wake)
        return out, {"asleep": asleep, "onset_evidence": onset, "wake_evidence": wake,
                     "blocked": blocked}

    def run(self, probs: np.ndarray, scored: np.ndarray) -> np.ndarray:
        """A whole night's ``(n, k)`` probabilities through a fresh gate (batch staging).

        Rows where ``scored`` is false (unscorable epochs) pass unchanged and leave the state
        as it is, as in the live stager.
        """
        self.reset()
        out = np.array(probs, dtype=np.float64, copy=True)
        for i in np.flatnonzero(scored):
            out[i] = self.step(out[i])[0]
        return out
