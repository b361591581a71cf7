"""celery-lint: a static-analysis linter for Celery code.

Public API::

    from celery_lint import lint_source, lint_paths
    findings = lint_source(code, "proj/tasks.py")
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import ConfigError, Settings, load_settings  # noqa: E402
from .engine import Engine, Finding, lint_source  # noqa: E402
from .files import lint_paths  # noqa: E402

__all__ = ["ConfigError", "Engine", "Finding", "Settings", "__version__", "lint_paths", "lint_source", "load_settings"]
