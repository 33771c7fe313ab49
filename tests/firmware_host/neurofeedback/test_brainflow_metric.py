"""BrainFlow's MLModel (mindfulness / restfulness) as an optional journalled score."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_host.chunk import Chunk
from firmware_host.config import parse_config
from firmware_host.neurofeedback import brainflow_metrics
from firmware_host.neurofeedback.stage import NeurofeedbackStage
from firmware_host.synthetic.trainee import SyntheticTrainee


def _scorer(metric: str, n_channels: int = 1):
    try:
        return brainflow_metrics.BrainFlowScore(metric, 250.0, n_channels)
    except Exception as exc:  # noqa: BLE001 - BrainFlow raises its own error types
        pytest.skip(f"BrainFlow's MLModel cannot be prepared here: {exc}")


@pytest.mark.parametrize("metric", ["mindfulness", "restfulness"])
def test_score_after_a_window_and_once_a_second(metric: str) -> None:
    scorer = _scorer(metric, 2)
    rng = np.random.default_rng(0)
    scores = [scorer.push(10 * rng.standard_normal((2, 50))) for _ in range(40)]  # 8 s
    assert scores[18] is None and scores[19] is not None  # 4-s window = 20 blocks of 50
    values = [s for s in scores if s is not None]
    assert all(0.0 <= s <= 1.0 for s in values)
    assert len(set(values)) >= 2  # recomputed every second on new data
    scorer.reset()
    assert scorer.score is None
    scorer.close()


def test_unknown_metric() -> None:
    with pytest.raises(ValueError, match="allowed: \\['mindfulness', 'restfulness'\\]"):
        brainflow_metrics.BrainFlowScore("focus", 250.0, 1)


def test_stage_journals_the_score() -> None:
    _scorer("restfulness").close()  # skips here when the model cannot load
    cfg = parse_config({
        "source": {"synthetic": {"mode": "neurofeedback", "forearm_channels": []}},
        "neurofeedback": {"enabled": True, "brainflow_metric": "restfulness",
                          "blocks": ["baseline 5s", "training 5s"]},
    })
    tr = SyntheticTrainee(cfg.source.synthetic, 8.0)
    stage = NeurofeedbackStage(cfg.neurofeedback, tr.sfreq, tr.channel_names, tr.channel_types)
    chunk = Chunk(tr.generate(0, tr.n_samples), 0, tr.sfreq, tr.channel_names, tr.channel_types,
                  np.arange(tr.n_samples) / tr.sfreq)
    ds = [d for d in stage.update(chunk).decisions if d.kind == "neurofeedback"]
    assert ds[-1].details["brainflow_restfulness"] is not None
    assert 0.0 <= ds[-1].details["brainflow_restfulness"] <= 1.0
