"""The on-device process of somnoloop, room by room (the README's Layout section has the map).

Shared types and names at this level (``chunk``, ``decision``, ``events``, ``clock``,
``vocabulary``, ``errors``); ``config`` (TOML → frozen dataclasses); ``runtime`` (a run's
life, hooks, command queue); ``sources``; ``stages``/``staging``/``emg``/``neurofeedback``/
``microstructure`` (samples → decisions); ``programme`` (decisions → commands, with
reasons); ``actuation`` and ``safety`` (commands → devices, within limits); ``session``
(recording); ``report`` (the clinician's documents); ``control``/``console``/``whatif`` (the
engineer's tools); ``service`` (the device under systemd); ``synthetic`` (the no-hardware
night); ``cli``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("somnoloop")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
