"""Reliability tooling: the fault catalogue injected into a real run, the frame audit, the soak.

``RELIABILITY.md`` beside this file maps every fault of issue 17's catalogue to its test.
"""
