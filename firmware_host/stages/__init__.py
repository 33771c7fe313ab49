"""The ``Stage`` protocol (``base``) and the signal-conditioning stages: quality windows and display filters.

Put :class:`~firmware_host.stages.quality.QualityStage` **before**
:class:`~firmware_host.stages.filtering.FilterStage` so quality sees the raw signal (mains hum
and DC rails are what it looks for, and the filters remove them).
"""
