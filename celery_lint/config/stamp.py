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
