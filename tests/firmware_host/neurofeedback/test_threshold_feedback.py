"""Adaptive threshold and session plan, without a loop."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_host.neurofeedback.config import (
    ThresholdConfig,
    session_blocks,
)
from firmware_host.neurofeedback.plan import DONE, SessionPlan
from firmware_host.neurofeedback.threshold import AdaptiveThreshold


def _train(direction: str, values: np.ndarray, target: float = 0.65, rate_hz: float = 4.0) -> list[bool]:
    th = AdaptiveThreshold(ThresholdConfig(target_reward_rate=target), direction)
    th.from_baseline(list(values[:240]))
    rewarded = []
    for i, v in enumerate(values[240:]):
        r = th.passes(float(v))
        rewarded.append(r)
        th.observe(i / rate_hz, float(v), r)
    return rewarded


@pytest.mark.parametrize("direction", ["up", "down"])
@pytest.mark.parametrize("target", [0.3, 0.65, 0.8])
def test_reward_rate_holds_the_target_on_a_drifting_feature(direction: str, target: float) -> None:
    rng = np.random.default_rng(1)
    n = 240 + 4 * 900  # 1-min baseline, 15 min of training at 4 updates/s
    drift = np.linspace(0, 2.0, n) * (1 if direction == "up" else -1)
    values = 5 + drift + rng.standard_normal(n)
    rewarded = np.array(_train(direction, values, target))
    adapted = rewarded[4 * 60:]  # after the first minute
    assert abs(adapted.mean() - target) < 0.05
    for block in np.array_split(adapted, 5):  # every 2.8 minutes
        assert abs(block.mean() - target) < 0.10


def test_threshold_history_and_direction() -> None:
    th = AdaptiveThreshold(ThresholdConfig(target_reward_rate=0.6, adapt_every_s=5.0), "down")
    assert th.from_baseline([]) is None and not th.passes(0.0)
    change = th.from_baseline(list(np.arange(101.0)))
    assert change.reason == "baseline" and change.threshold == pytest.approx(60.0)
    assert th.passes(59.0) and not th.passes(61.0)
    assert th.observe(0.0, 10.0, True) is None  # the first adaptation waits a whole interval
    assert th.observe(4.0, 10.0, True) is None
    change = th.observe(5.0, 10.0, True)
    assert change.reason == "adapt" and change.previous == pytest.approx(60.0)
    assert change.reward_rate == 1.0 and change.quantile < 0.6  # too easy: lower quantile


def test_session_plan_positions() -> None:
    plan = SessionPlan(session_blocks(("baseline 10s", "training 20s", "rest 5s", "training 20s",
                                       "transfer 10s")), 100.0)
    assert plan.total_s == 65.0
    assert plan.at(0).phase == "baseline" and plan.at(999).phase == "baseline"
    pos = plan.at(1000)
    assert (pos.block, pos.phase, pos.training_block, pos.elapsed_s) == (1, "training", 1, 0.0)
    assert plan.at(3600).training_block == 2
    assert plan.at(5600).phase == "transfer" and plan.at(5600).training_block == 1
    assert plan.at(6500).phase == DONE


