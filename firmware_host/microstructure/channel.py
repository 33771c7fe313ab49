"""The one EEG row a microstructure detector reads."""

from __future__ import annotations

from typing import Any

import numpy as np

from firmware_host.chunk import Chunk
from firmware_host.errors import UsageError


def pick_channel(names: tuple[str, ...], types: tuple[str, ...], name: str, section: str) -> int:
    """Row to analyse: the channel called ``name``, or the first EEG channel.

    Raises
    ------
    UsageError
        No such channel (the available names are listed) or no EEG channel at all.
    """
    if name:
        if name not in names:
            raise UsageError(
                f"[{section}] channel = {name!r} is not in the source; "
                f"allowed: {list(names)} (or '' for the first EEG channel)"
            )
        return names.index(name)
    if "eeg" not in types:
        raise UsageError(
            f"[{section}] needs an EEG channel; the source has types {list(types)}"
        )
    return types.index("eeg")


class SingleChannelDetector:
    """What every microstructure detector does around its own kernels.

    A subclass sets :attr:`section` (its config section, for messages), builds its kernels
    for a layout in ``_build`` (which sets ``self._row`` via :func:`pick_channel`) and
    forgets them in ``reset``; :meth:`_samples` then hands it the raw row of each chunk:
    rebuilt when the layout changes, restarted after a gap, skipped when not finite.
    """

    section = ""
    config: Any

    def __init__(self) -> None:
        self._layout: tuple[float, tuple[str, ...], tuple[str, ...]] | None = None
        self._row = 0
        self._origin = 0
        self._expected: int | None = None

    def reset(self) -> None:
        """Forget the stream (the next chunk starts a new one)."""
        self._expected = None

    def _build(self, fs: float, names: tuple[str, ...], types: tuple[str, ...]) -> None:
        raise NotImplementedError

    def check(self, sfreq: float, channel_names: tuple[str, ...],
              channel_types: tuple[str, ...]) -> None:
        """Build the detector for this layout now, so a bad configuration fails at start-up.

        Raises
        ------
        UsageError
            No such channel or no EEG channel, or a band impossible at ``sfreq`` (the
            message names the config section).
        """
        layout = (float(sfreq), tuple(channel_names), tuple(channel_types))
        try:
            self._build(*layout)
            self._layout = layout
        except ValueError as exc:
            if isinstance(exc, UsageError):
                raise
            raise UsageError(f"[{self.section}] {exc}") from None

    def _samples(self, chunk: Chunk) -> np.ndarray | None:
        """The chunk's samples of the analysed row, or ``None`` when there is nothing to do
        (detector off, empty chunk, or non-finite samples — which restart the stream)."""
        if not self.config.enabled or chunk.n_samples == 0:
            return None
        layout = (float(chunk.sfreq), chunk.channel_names, chunk.channel_types)
        if layout != self._layout:
            self._build(*layout)
            self._layout = layout
        if self._expected is None or chunk.first_sample != self._expected:
            self.reset()
            self._origin = chunk.first_sample
        x = chunk.data[self._row]
        if not np.isfinite(x).all():
            self.reset()
            return None
        self._expected = chunk.end_sample
        return x
