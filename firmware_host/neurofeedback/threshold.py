"""The adaptive reward threshold: set from a baseline, then a running percentile.

For an up-trained feature, rewarding the top ``r`` of recent values means the threshold is
their ``1 - r`` quantile (``r`` for a down-trained one). Recomputed every ``adapt_every_s``
over the clean values of the last ``adapt_window_s`` seconds, it follows a trainee whose
feature drifts, so the reward rate stays near the target. A proportional nudge corrects the
lag: when the observed rate over the same window runs above target the quantile moves up
(harder), below target it moves down (easier).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from firmware_host.neurofeedback.config import ThresholdConfig

#: The quantile never leaves this range (a threshold above every value would starve the trainee).
QUANTILE_LIMITS = (0.02, 0.98)


@dataclass(frozen=True)
class ThresholdChange:
    """One new threshold, for the journal."""

    threshold: float
    previous: float | None
    quantile: float
    reward_rate: float | None
    n_values: int
    reason: str


class AdaptiveThreshold:
    """Running-percentile threshold that holds the reward rate near its target.

    Parameters
    ----------
    cfg
        ``[neurofeedback.threshold]``.
    direction
        ``"up"`` (reward above) or ``"down"`` (reward below).
    """

    def __init__(self, cfg: ThresholdConfig, direction: str) -> None:
        self.cfg = cfg
        self.direction = direction
        self.value: float | None = None
        self._recent: deque[tuple[float, float, bool]] = deque()  # (t, feature, rewarded)
        self._last_adapt = -np.inf

    @property
    def base_quantile(self) -> float:
        """The quantile that rewards ``target_reward_rate`` of a stationary feature."""
        r = self.cfg.target_reward_rate
        return 1.0 - r if self.direction == "up" else r

    def passes(self, feature: float) -> bool:
        """Whether ``feature`` meets the threshold (False before any threshold)."""
        if self.value is None:
            return False
        return feature > self.value if self.direction == "up" else feature < self.value

    def from_baseline(self, values: list[float]) -> ThresholdChange | None:
        """Set the threshold from the clean values of a baseline (``None`` if there are none)."""
        if not values:
            return None
        previous = self.value
        q = self.base_quantile
        self.value = float(np.quantile(values, q))
        return ThresholdChange(self.value, previous, q, None, len(values), "baseline")

    def observe(self, t: float, feature: float, rewarded: bool) -> ThresholdChange | None:
        """Add one clean training update at time ``t``; adapt when due and return the change."""
        self._recent.append((t, feature, rewarded))
        while self._recent and self._recent[0][0] <= t - self.cfg.adapt_window_s:
            self._recent.popleft()
        if self.value is None:
            return None
        if not np.isfinite(self._last_adapt):
            self._last_adapt = t  # the first adaptation waits a whole interval of training
        if t - self._last_adapt < self.cfg.adapt_every_s:
            return None
        self._last_adapt = t
        values = np.fromiter((v for _, v, _ in self._recent), float)
        rate = sum(r for _, _, r in self._recent) / len(self._recent)
        sign = 1.0 if self.direction == "up" else -1.0
        q = self.base_quantile + sign * self.cfg.correction_gain * (rate - self.cfg.target_reward_rate)
        q = min(max(q, QUANTILE_LIMITS[0]), QUANTILE_LIMITS[1])
        previous = self.value
        self.value = float(np.quantile(values, q))
        return ThresholdChange(self.value, previous, q, rate, len(values), "adapt")
