"""Forearm-EMG grip decoding: front end, models, post-processing, calibration, evaluation.

Entry point for the run loop: :func:`firmware_host.emg.decoder.build_emg_decoder`.
"""
