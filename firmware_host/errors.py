"""Errors shared by device code and the CLI."""


class UsageError(ValueError):
    """The user asked for something that cannot be done; the message says what is allowed.

    The CLI prints it as one line and exits with code 2; device code raises it for bad
    input it finds (a config that cannot run on this source, a path that cannot be used).
    """
