"""celery-lint: a static-analysis linter for Celery code.

Public API::

    from celery_lint import lint_source, lint_paths
    findings = lint_source(code, "proj/tasks.py")

Names are imported on first use, so that the command line can answer for files with no
Celery code without importing libcst.
"""

from __future__ import annotations

__version__ = "0.1.0"
#: celery-lint's home (also in pyproject.toml's [project.urls] and the README; a test
#: keeps them equal): SARIF's informationUri, and each rule's helpUri under it.
HOMEPAGE = "https://github.com/celery-lint/celery-lint"

_EXPORTS = {
    "ConfigError": "config",
    "Settings": "config",
    "load_settings": "config",
    "Engine": "engine",
    "Finding": "engine",
    "lint_source": "doors.api",
    "lint_paths": "doors.api",
}

__all__ = ["HOMEPAGE", "__version__", *_EXPORTS]


def __getattr__(name: str) -> object:  # no `typing` import: the daemon's client starts here
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'celery_lint' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
