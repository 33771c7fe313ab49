"""Errors the CLI turns into one clear line and exit code 2.

:class:`~firmware_host.errors.UsageError` is defined in device code (the runtime raises it
too) and re-exported here for the command modules.
"""

from firmware_host.errors import UsageError

__all__ = ["UsageError"]
