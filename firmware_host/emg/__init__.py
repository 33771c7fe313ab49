"""Forearm-EMG grip decoding: front end, models, post-processing, per-user calibration.

The 3DC data set and the decoder's evaluation on it are lab code (:mod:`somnoloop_lab.emg`).

Entry point for the run loop: :func:`firmware_host.emg.decoder.build_emg_decoder`.
"""
