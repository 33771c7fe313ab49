"""The ``[spindles]`` and ``[slow_oscillations]`` config sections load and validate."""

from __future__ import annotations

import pytest

from firmware_host.config import ConfigError, parse_config


def test_sections_load_with_defaults_and_overrides() -> None:
    cfg = parse_config({"spindles": {"window_s": 0.3}, "slow_oscillations": {"method": "delay"}})
    assert cfg.spindles.window_s == 0.3
    assert cfg.spindles.min_criteria == 2
    assert cfg.slow_oscillations.method == "delay"
    assert cfg.slow_oscillations.target_phase_deg == 0.0


@pytest.mark.parametrize(("data", "match"), [
    ({"spindles": {"min_criteria": 4}}, "spindles.min_criteria"),
    ({"slow_oscillations": {"method": "pll"}}, "slow_oscillations.method"),
    ({"slow_oscillations": {"target_phase_deg": 200.0}}, "slow_oscillations.target_phase_deg"),
])
def test_bad_values_name_the_key(data: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_config(data)
