"""Real-time sleep staging: causal stager Stage, model files, batch staging, YASA expert.

Datasets, metrics, training and evaluation are lab code (:mod:`somnoloop_lab.staging`).

See README.md in this folder for the design choices and the measured figures.
"""
