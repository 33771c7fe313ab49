"""``[report]``: the clinician's report written at the end of every night."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_host.config.fields import setting

FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class ReportConfig:
    """``[report]``: what the end-of-night report contains and where it goes."""

    enabled: bool = setting(True, doc="write the report into the session when the night ends")
    formats: tuple[str, ...] = setting(FORMATS, choices=FORMATS, doc="any of 'html', 'pdf'")
    out: str = setting("", doc="folder for the report; '' = <session>/report")
    pseudonym: str = setting("", doc="pseudonymous patient/device id printed in the header (never a name)")
    min_usable_pct: float = setting(
        80.0, min=0.0, max=100.0,
        doc="below this % of usable staging-channel time the report warns not to trust staging")
    persistent_sleep_min: float = setting(
        10.0, min=0.5, max=60.0, doc="minutes of consecutive sleep that make persistent sleep")
    min_awakening_s: float = setting(
        30.0, min=1.0, max=600.0, doc="shortest wake run inside the sleep period counted as an awakening")
