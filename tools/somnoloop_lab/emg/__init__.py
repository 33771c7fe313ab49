"""Forearm-EMG lab code: the 3DC data set loader and the grip-decoder evaluation on it."""
