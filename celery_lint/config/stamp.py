"""The stamp of celery-lint's own code: every module's path, size and mtime.

Part of every cache key and of the daemon's socket name, so an upgrade, or an edit of an
editable install (which changes no version number), never reuses a cached result or a
running server. Computed once per process: it describes the code this process loaded
(the daemon's server computes it before forking the runs it serves). Imports nothing
but ``os`` (the daemon's client runs it before anything else).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_STAMP: list[list[object]] | None = None


def code_stamp() -> list[list[object]]:
    """``[relative POSIX path, size, mtime_ns]`` of each module, sorted by path."""
    global _STAMP
    if _STAMP is None:
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # celery_lint/
        modules: list[list[object]] = []
        pending = [package]
        while pending:
            directory = pending.pop()
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != "__pycache__":
                            pending.append(entry.path)
                    elif entry.name.endswith(".py"):
                        info = entry.stat()
                        relative = os.path.relpath(entry.path, package).replace(os.sep, "/")
                        modules.append([relative, info.st_size, info.st_mtime_ns])
        _STAMP = sorted(modules)
    return _STAMP


#: File times advance in clock ticks, up to two seconds on coarse file systems (FAT; one
#: second on HFS+ and ext3): two writes within one tick can leave the same stat.
GRANULARITY_NS = 2_000_000_000
_run_start_ns = time.time_ns()
_memos = True


def begin_run(*, caches: bool = True) -> None:
    """Mark the start of a run (the CLI, flake8's option parsing, each daemon request):
    what a cache may trust by stat is judged against it (:func:`snapshot`). ``caches``
    False (``--no-cache``): the in-memory memos of files read by path (``memo_usable``)
    are bypassed too, so nothing a run reports comes from an earlier read."""
    global _run_start_ns, _memos
    _run_start_ns = time.time_ns()
    _memos = caches


def end_run() -> None:
    """The run is over: the memos are usable again (for the next run in this process)."""
    global _memos
    _memos = True


def memo_usable() -> bool:
    """May the in-memory memos (parsed app modules, ``pyproject.toml`` tables, kept by a
    daemon's server for the runs it forks) be read and written in this run?"""
    return _memos


def snapshot(path: str) -> list[int] | None:
    """The stat a cache may remember a file by, or None when it must not trust one.

    ``[mtime_ns, ctime_ns, size, inode]``: the ctime moves with every write and cannot be
    set back, so an edit whose mtime is restored (``cp -p``, ``rsync -t``) still changes
    it. None for a file changed within :data:`GRANULARITY_NS` of the run's start or after
    it: the same stat could then describe two contents (git's "racily clean" entries), and
    the cache has to compare contents instead. None also when the file cannot be stat'ed.
    Take it *before* reading the file: a change during the read then shows as a
    different stat later, never as a stale entry."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if max(st.st_mtime_ns, st.st_ctime_ns) >= _run_start_ns - GRANULARITY_NS:
        return None
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


def current_stat(path: str) -> list[int] | None:
    """The same four numbers as :func:`snapshot`, however recent (to compare with a stored one)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


def settled(st: os.stat_result) -> bool:
    """The file was last changed over two seconds ago. File times advance in clock ticks
    (milliseconds), so two writes of the same size within one tick leave the same stat:
    only a file that has been quiet for longer is remembered by its stat (as git treats
    "racily clean" entries)."""
    return max(st.st_mtime_ns, st.st_ctime_ns) < time.time_ns() - 2_000_000_000


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    """What says a file is unchanged for the in-memory memos (with :func:`settled`)."""
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def prepare_directory(directory: Path) -> None:
    """Create a cache directory, with a ``.gitignore`` that keeps it out of version control
    (every cache writer calls this: the result cache, the index cache, flake8's)."""
    directory.mkdir(parents=True, exist_ok=True)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by celery-lint\n*\n")
