"""The profile directory: load, validate, and derive routes — pure, no aiohttp."""

from spaprov.config.errors import ConfigError, Problem
from spaprov.config.loader import fingerprint, load_profile_directory
from spaprov.config.schema import Config, Device, Route, Site, User

__all__ = [
    "Config",
    "ConfigError",
    "Device",
    "Problem",
    "Route",
    "Site",
    "User",
    "fingerprint",
    "load_profile_directory",
]
