"""Slow, obviously correct reference implementations the numba kernels are checked against."""
