"""The project index for a run: every Python file under the project root, indexed once."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..model.index import build_index
from ..model.source import ModuleNames
from ..model.project import ProjectIndex
from .files import discover


def project_index(
    settings: Settings,
    cache_dir: Path | None,
    project_files: list[str] | None = None,
    names: ModuleNames | None = None,
    worker_files: list[str] | None = None,
) -> ProjectIndex | None:
    """The index of the whole project (not just the given paths), or None when switched off.

    ``project_files``: the project's files when the caller has already walked the root;
    ``names``: the run's module names (one lookup per file for the index and the cache);
    ``worker_files``: what that walk found that may hold worker command lines.
    """
    if not settings.project_index:
        return None
    if project_files is None:  # a nested project (a configuration of its own) is not this one
        worker_files = []
        project_files = list(discover([str(settings.project_root)], settings, projects_apart=True, others=worker_files))
    return build_index(settings, project_files, cache_dir, names, sorted(worker_files or ()))
