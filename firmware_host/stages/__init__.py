"""Signal-conditioning stages of the chain: filtering and per-second signal quality.

Put :class:`~firmware_host.stages.quality.QualityStage` **before**
:class:`~firmware_host.stages.filtering.FilterStage` so quality sees the raw signal (mains hum
and DC rails are what it looks for, and the filters remove them).
"""
