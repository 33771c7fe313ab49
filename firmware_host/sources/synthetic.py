"""The synthetic night as a :class:`~firmware_host.sources.base.Source`, paced by a clock."""

from __future__ import annotations

import numpy as np

from firmware_host.clock import Clock
from firmware_host.sources.paced import MAX_CHUNK_S, PacedSource
from firmware_host.synthetic.night import SyntheticNight


class SyntheticSource(PacedSource):
    """Streams a :class:`~firmware_host.synthetic.night.SyntheticNight` as its clock advances.

    Sample ``k`` is delivered once ``(k + 1) / sfreq`` clock seconds have passed since
    :meth:`open`; timestamps are ``t_open + k / sfreq``. The night's truth (stages,
    gestures, artefacts) stays on :attr:`night` and is never put into chunk events: a
    source reports measurements, not answers.

    Parameters
    ----------
    night
        The night to stream.
    clock
        Real, scaled or fake clock.
    max_chunk_s
        Longest chunk one read returns.
    """

    def __init__(self, night: SyntheticNight, clock: Clock, max_chunk_s: float = MAX_CHUNK_S) -> None:
        super().__init__(clock, max_chunk_s)
        self.night = night
        self.sfreq = night.sfreq
        self.channel_names = night.channel_names
        self.channel_types = night.channel_types
        self.n_samples = night.n_samples

    def _fetch(self, start: int, stop: int) -> np.ndarray:
        return self.night.generate(start, stop)
