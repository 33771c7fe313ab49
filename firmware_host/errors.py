"""Errors shared by device code and the command line.

:class:`UsageError` lives here, in device code, so the runtime (``runtime/build.py``) can
raise it without importing the CLI; the CLI catches it and prints one clear line (exit 2).
"""


class UsageError(ValueError):
    """The user asked for something that cannot be done; the message says what is allowed."""
