"""The public API: lint a source string or paths, as the command line would.

    from celery_lint import lint_source, lint_paths
    findings = lint_source(code, "proj/tasks.py")
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..config import Settings, load_settings
from ..engine import Engine, Finding
from ..engine.suppression import visible
from ..run.files import discover
from ..run.runner import lint_files


def lint_source(source: str, path: str = "<stdin>.py", settings: Settings | None = None) -> list[Finding]:
    """Lint one source string; ``# noqa`` comments are honoured."""
    settings = settings or Settings(project_root=Path.cwd())
    return visible(Engine(settings).lint_text(source, path))


def lint_paths(paths: Iterable[str | Path], settings: Settings | None = None) -> list[Finding]:
    """Lint files and directories; ``# noqa`` is honoured."""
    path_list = [str(p) for p in paths]
    if settings is None:
        start = Path(path_list[0]) if path_list else Path.cwd()
        settings = load_settings(start if start.is_dir() else start.parent)
    return lint_files(discover(path_list, settings), settings).findings
