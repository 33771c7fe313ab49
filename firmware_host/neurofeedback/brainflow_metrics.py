"""BrainFlow's own focus/relaxation models as an optional neurofeedback score.

``[neurofeedback] brainflow_metric = "mindfulness" | "restfulness"`` makes the stage journal,
with every update, the latest score (0..1) of :class:`brainflow.ml_model.MLModel` with
``BrainFlowMetrics.MINDFULNESS`` / ``RESTFULNESS`` and the default classifier, computed as
BrainFlow documents it: the average and spread of the five band powers
(``DataFilter.get_avg_band_powers``) over the last :data:`WINDOW_S` seconds of the trained
channels, once per :data:`EVERY_S`. It is journalled for comparison, not used for reward.
"""

from __future__ import annotations

import weakref

import numpy as np
from brainflow.data_filter import DataFilter
from brainflow.ml_model import BrainFlowClassifiers, BrainFlowMetrics, BrainFlowModelParams, MLModel

WINDOW_S = 4.0
EVERY_S = 1.0
METRICS = {"mindfulness": BrainFlowMetrics.MINDFULNESS, "restfulness": BrainFlowMetrics.RESTFULNESS}


class BrainFlowScore:
    """Streams EEG and scores it with a BrainFlow MLModel every :data:`EVERY_S` seconds.

    Parameters
    ----------
    metric
        ``"mindfulness"`` or ``"restfulness"``.
    sfreq
        Sampling rate (Hz).
    n_channels
        Rows of every block.

    Raises
    ------
    ValueError
        An unknown metric (the allowed ones named).
    """

    def __init__(self, metric: str, sfreq: float, n_channels: int) -> None:
        if metric not in METRICS:
            raise ValueError(f"brainflow_metric = {metric!r}; allowed: {sorted(METRICS)}")
        self.metric = metric
        self.sfreq = float(sfreq)
        self._n = round(WINDOW_S * sfreq)
        self._every = round(EVERY_S * sfreq)
        self._buf = np.zeros((n_channels, self._n))
        self._filled = 0
        self._since = 0
        params = BrainFlowModelParams(METRICS[metric].value, BrainFlowClassifiers.DEFAULT_CLASSIFIER.value)
        self._model = MLModel(params)
        self._model.prepare()
        self._finalizer = weakref.finalize(self, self._model.release)
        #: The latest score (None until a whole window was seen).
        self.score: float | None = None

    def reset(self) -> None:
        """Forget the window (after a gap)."""
        self._filled = 0
        self._since = 0
        self.score = None

    def push(self, block: np.ndarray) -> float | None:
        """Add a ``(n_channels, m)`` block; return the latest score."""
        m = block.shape[1]
        if m >= self._n:
            self._buf[:] = block[:, -self._n:]
        else:
            self._buf[:, :-m] = self._buf[:, m:]
            self._buf[:, -m:] = block
        self._filled = min(self._n, self._filled + m)
        self._since += m
        if self._filled == self._n and self._since >= self._every:
            self._since = 0
            data = np.ascontiguousarray(self._buf.copy())
            avg, std = DataFilter.get_avg_band_powers(data, list(range(data.shape[0])), int(self.sfreq), True)
            self.score = float(np.ravel(self._model.predict(np.concatenate([avg, std])))[0])
        return self.score

    def close(self) -> None:
        """Release the model (also done when the object is collected)."""
        self._finalizer()
