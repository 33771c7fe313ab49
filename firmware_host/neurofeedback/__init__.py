"""Neurofeedback mode: daytime band-power training with adaptive thresholds and artefact gates."""
