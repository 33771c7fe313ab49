"""Actuator lab code: latency benchmark of the serial drivers against their simulators."""
