"""Reliability tooling: the fault catalogue injected into a real run, the frame audit, the soak."""
