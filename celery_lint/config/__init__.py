"""Configuration, the bottom layer: ``[tool.celery-lint]`` -> one frozen :class:`Settings`.

Imports nothing else of celery-lint; every other layer may import it.
"""

from __future__ import annotations

from .settings import (
    CONFIG_DOCS,
    CONFIG_KEYS,
    DEFAULT_EXCLUDE,
    ConfigError,
    Settings,
    find_project_root,
    load_settings,
    relative_posix,
    settings_from_mapping,
)

__all__ = [
    "CONFIG_DOCS",
    "CONFIG_KEYS",
    "DEFAULT_EXCLUDE",
    "ConfigError",
    "Settings",
    "find_project_root",
    "load_settings",
    "relative_posix",
    "settings_from_mapping",
]
