"""The one EEG row a microstructure detector reads."""

from __future__ import annotations

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
