"""Pure signal processing for somnoloop: numba kernels behind thin validating wrappers.

``dsp`` imports nothing else of ours, performs no I/O and touches no hardware.
"""
