"""The on-device process of somnoloop: config, sources, loop, safety, recorder, CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("somnoloop")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
