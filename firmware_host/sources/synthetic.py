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
    adc_lsb_uv
        When > 0, samples are rounded to this grid (µV per ADC count), as an amplifier
        delivers them; the session recorder then stores them as exact integer counts.
    """

    def __init__(self, night: SyntheticNight, clock: Clock, max_chunk_s: float = MAX_CHUNK_S,
                 adc_lsb_uv: float = 0.0) -> None:
        super().__init__(clock, max_chunk_s)
        if not adc_lsb_uv >= 0:
            raise ValueError(f"adc_lsb_uv must be >= 0, got {adc_lsb_uv}")
        self.adc_lsb_uv = float(adc_lsb_uv)
        self.night = night
        self.sfreq = night.sfreq
        self.channel_names = night.channel_names
        self.channel_types = night.channel_types
        self.n_samples = night.n_samples

    def _fetch(self, start: int, stop: int) -> np.ndarray:
        data = self.night.generate(start, stop)
        if self.adc_lsb_uv:
            data = np.rint(data / self.adc_lsb_uv) * self.adc_lsb_uv + 0.0  # + 0.0: no -0.0
        return data
