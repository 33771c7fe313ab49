"""Errors the CLI turns into one clear line and exit code 2."""


class UsageError(ValueError):
    """The user asked for something that cannot be done; the message says what is allowed."""
