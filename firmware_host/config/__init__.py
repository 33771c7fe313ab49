"""TOML configuration loaded once into frozen, typed, validated dataclasses."""

from firmware_host.config.loader import ConfigError, load_config, parse_config
from firmware_host.config.schema import Config

__all__ = ["Config", "ConfigError", "load_config", "parse_config"]
