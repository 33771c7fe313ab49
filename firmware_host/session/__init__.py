"""Crash-safe session storage: the writer used during a run and the reader used afterwards."""

from firmware_host.session.reader import Session, SessionError
from firmware_host.session.recorder import SessionRecorder

__all__ = ["Session", "SessionError", "SessionRecorder"]
