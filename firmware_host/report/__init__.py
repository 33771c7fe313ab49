"""The clinician's nightly report: AASM metrics, figures, HTML/PDF, trends and EDF+ export."""
