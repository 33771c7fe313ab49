"""Real-time sleep staging: causal stager Stage, model files, datasets, evaluation.

See README.md in this folder for the design choices and the measured figures.
"""

# Load the config package first: its schema imports our StagerConfig, so importing
# firmware_host.staging.config before firmware_host.config would otherwise be circular.
import firmware_host.config  # noqa: F401
