"""Lab evaluation of the live spindle and slow-oscillation detectors (``somnoloop events-eval``)."""
