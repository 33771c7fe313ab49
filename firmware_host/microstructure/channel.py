"""The one EEG row an event detector reads, and the gap bookkeeping every detector shares."""

from __future__ import annotations

from firmware_host.chunk import Chunk
from firmware_host.errors import UsageError


def pick_channel(chunk: Chunk, name: str, section: str) -> int:
    """Row of ``chunk`` to analyse: the channel called ``name``, or the first EEG channel.

    Raises
    ------
    UsageError
        No such channel (the available names are listed) or no EEG channel at all.
    """
    if name:
        if name not in chunk.channel_names:
            raise UsageError(
                f"[{section}] channel = {name!r} is not in the source; "
                f"allowed: {list(chunk.channel_names)} (or '' for the first EEG channel)"
            )
        return chunk.channel_names.index(name)
    if "eeg" not in chunk.channel_types:
        raise UsageError(
            f"[{section}] needs an EEG channel; the source has types {list(chunk.channel_types)}"
        )
    return chunk.channel_types.index("eeg")
