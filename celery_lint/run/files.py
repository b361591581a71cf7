"""Finding the files to lint, and linting them: shared by the CLI and the public API."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from typing import Iterable, Iterator

from ..config.settings import Settings
from ..engine.core import Engine, FileResult, SourceError
from ..model.workers import is_candidate
from .ignore import Selection


def is_excluded(path: str, settings: Settings) -> bool:
    """True when ``path`` or a directory above it is excluded (``Selection.excluded``)."""
    return Selection(settings).excluded(path)


def discover(
    paths: Iterable[str],
    settings: Settings,
    follow_symlinks: bool = False,
    force_exclude: bool | None = None,
    projects_apart: bool = False,
    others: list[str] | None = None,
) -> Iterator[str]:
    """Python files under ``paths``, in a stable order, each once.

    By default directories are walked without following symlinked directories (no
    loops, no leaving the tree), and a symlinked file is linted only when its target
    lies inside the directory given. With ``follow_symlinks`` both are followed, each
    real directory visited once, so cycles still end. Explicit file paths are linted
    whatever their suffix; with ``force_exclude`` (default: the setting) paths named here
    are dropped when excluded too; with ``projects_apart`` a directory with a configuration
    of its own is not walked (the project index). Paths that do not exist are yielded as given, so they
    get CLY000. Each path is yielded as :func:`shown_path` writes it. ``others``: a list the
    walk of a directory adds the files to that may hold worker command lines
    (``workers.is_candidate``, selected as Python files are), for the project index.
    """
    seen: set[str] = set()
    selection = Selection(settings, projects_apart=projects_apart)
    force = settings.force_exclude if force_exclude is None else force_exclude
    for given in paths:
        if force and os.path.lexists(given) and selection.excluded(given):
            continue
        if os.path.isdir(given) and not follow_symlinks:
            candidates = sorted(_walk(given, os.path.realpath(given), selection, others))
        elif os.path.isdir(given):
            found: list[str] = []
            visited: set[str] = set()
            unreadable: list[OSError] = []
            for directory, dirnames, filenames in os.walk(given, followlinks=True, onerror=unreadable.append):
                real = os.path.realpath(directory)
                if real in visited:
                    dirnames[:] = []
                    continue
                visited.add(real)
                dirnames[:] = sorted(d for d in dirnames if not selection.skip_entry(os.path.join(directory, d), d, True))
                for filename in filenames:
                    if not filename.endswith(".py"):
                        if others is not None and is_candidate(filename):
                            path = os.path.join(directory, filename)
                            if not selection.skip_file(path, filename):
                                others.append(path)
                        continue
                    path = os.path.join(directory, filename)
                    if not selection.skip_file(path, filename):
                        found.append(path)
            found.extend(str(error.filename) for error in unreadable if error.filename)  # CLY000 each
            candidates = sorted(found)
        else:
            candidates = [given]
        inside = os.getcwd().rstrip(os.sep) + os.sep
        for path in candidates:
            shown = shown_path(path, inside)
            if shown not in seen:
                seen.add(shown)
                yield shown


def shown_path(path: str, inside: str | None = None) -> str:
    """A path as ruff prints it: without ``./`` (``apps/x.py``, not ``./apps/x.py``), and
    relative to the working directory when it lies inside it (an absolute argument too).
    ``inside``: the working directory with a trailing separator, when the caller has it
    (one ``getcwd`` per walk, not per file)."""
    if path.startswith("./") and "/." not in path[1:] and "//" not in path:
        return path[2:]  # what a walk of `.` yields: no normpath per file
    shown = os.path.normpath(path)
    if os.path.isabs(shown):
        if inside is None:
            inside = os.getcwd().rstrip(os.sep) + os.sep
        if shown.startswith(inside):
            shown = shown[len(inside) :]
    return shown


def _walk(top: str, root_real: str, selection: Selection, others: list[str] | None = None) -> Iterator[str]:
    """``discover``'s walk without following symlinked directories: one ``scandir`` per
    directory and no ``stat`` per file (this runs over the whole project on every run)."""
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            yield directory  # reported as CLY000 (``not_a_file``): its files are not linted
            continue
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not selection.skip_entry(entry.path, name, True):
                        pending.append(entry.path)
                    continue
                if not name.endswith(".py"):
                    if others is not None and is_candidate(name) and not entry.is_symlink() and not selection.skip_file(entry.path, name):
                        others.append(entry.path)
                    continue
                # A symlink to a file (or a dangling one: CLY000 later) counts when its
                # target is inside the tree; one to a directory is not followed.
                if entry.is_symlink() and (entry.is_dir() or not _inside(os.path.realpath(entry.path), root_real)):
                    continue
            except OSError:
                continue
            if not selection.skip_file(entry.path, name):
                yield entry.path


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def not_a_file(engine: Engine, path: str) -> FileResult | None:
    """CLY000 for a path that is a directory, does not exist or is over the size limit;
    None for a file to lint."""
    if os.path.isdir(path):
        try:
            os.scandir(path).close()
        except OSError as exc:  # met while walking the tree: say so rather than skip it
            reason = exc.strerror or str(exc)
            return engine._unparsed(path, SourceError(f"cannot read this directory ({reason}): its files are not linted"), [])
        return engine._unparsed(path, SourceError("is a directory, not a Python file"), [])
    if not os.path.lexists(path):
        return engine._unparsed(path, SourceError("no such file or directory"), [])
    try:
        return engine.oversized(path, os.path.getsize(path))  # before any read
    except OSError:
        return None  # the read reports it


def lint_file(engine: Engine, path: str) -> FileResult:
    return not_a_file(engine, path) or engine.lint_path(path)


def write_atomically(path: str, data: bytes) -> None:
    """Replace the file at ``path`` (through a symlink: its target) with ``data`` so that a
    full disk, a crash or a kill leaves the old content or the new, never a part of either:
    a temporary file in the same directory, flushed and synced, given the original's mode
    (and owner, where allowed), then renamed over it. Raises ``OSError`` with the original
    untouched and no temporary file left."""
    target = os.path.realpath(path)
    st = os.stat(target)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.", suffix=".celery-lint")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # only root may give a file away
                os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
