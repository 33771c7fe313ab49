"""Lab code: training, datasets, evaluation and benchmarks — never run on the device.

It lives under ``tools/somnoloop_lab/`` and installs with the distribution, but device code
(``firmware_host``, ``dsp``, ``actuators``) never imports it (``tests/dsp/test_layering.py``)
and the device runs without it and without its dependencies (scikit-learn, YASA, LightGBM,
pandas; ``tests/firmware_host/test_device_install.py``). It may import device code:
evaluation streams recordings through the very stager and decoder the device runs.

Rooms mirror the device packages they serve:

* :mod:`somnoloop_lab.staging` — sleep-staging datasets (DREAMS, EDF + hypnograms),
  agreement metrics, model training (scikit-learn), evaluation against YASA, the stager bench;
* :mod:`somnoloop_lab.emg` — the 3DC forearm-EMG data set and the grip-decoder evaluation;
* :mod:`somnoloop_lab.actuators` — serial driver ↔ simulator round-trip benchmark;
* :mod:`somnoloop_lab.bench_dsp` — the DSP-core benchmark against scipy (and YASA);
* :mod:`somnoloop_lab.cli` — the lab sub-commands of ``somnoloop`` (``stage``,
  ``stage-eval``, ``emg-eval``, ``bench``), registered only when this package imports.
"""
