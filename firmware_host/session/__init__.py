"""Crash-safe session storage: the writer used during a run and the reader used afterwards."""

from firmware_host.session.reader import Session, SessionError
from firmware_host.session.recorder import SessionRecorder
from firmware_host.session.resume import resume_session

__all__ = ["Session", "SessionError", "SessionRecorder", "resume_session"]
