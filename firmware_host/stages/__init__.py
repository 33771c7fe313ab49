"""Signal-conditioning stages of the chain: filtering and per-second signal quality.

Put :class:`~firmware_host.stages.quality.QualityStage` **before**
:class:`~firmware_host.stages.filtering.FilterStage` so quality sees the raw signal (mains hum
and DC rails are what it looks for, and the filters remove them).
"""

# Load the config tree first: schema.py imports FilterConfig/QualityConfig from here, and the
# config modules import firmware_host.config.fields; loading firmware_host.config first makes
# either import order work (no partially initialised module).
import firmware_host.config  # noqa: F401  (isort: skip)
from firmware_host.stages.filtering import FilterConfig, FilterStage
from firmware_host.stages.quality import QualityConfig, QualityStage

__all__ = ["FilterConfig", "FilterStage", "QualityConfig", "QualityStage"]
