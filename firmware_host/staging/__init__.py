"""Real-time sleep staging: causal stager Stage, model files, datasets, evaluation.

See README.md in this folder for the design choices and the measured figures.
"""
