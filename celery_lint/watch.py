"""The daemon's file watcher: which project files changed since the server last looked.

Without it, every served run walks the project and ``stat``s each file to know whether
the project index is current (about 0.045 s of a 0.1 s run on saleor's 4,338 files).
With it, the server (``celery_lint.daemon``) keeps a :class:`~celery_lint.index.Snapshot`
of each project its runs indexed, taken after it started watching every directory of
the project with Linux's inotify, and the runs it forks re-read only the files the
kernel reported changed since (:func:`celery_lint.index.index_from_snapshot`).

When the snapshot cannot be trusted a run walks the project as before:

- a Python file appeared or went away, a directory was created, removed, renamed or
  had its permissions changed, or a ``pyvenv.cfg`` changed (the set of files may differ);
- the run's settings or cache directory differ from the snapshot's;
- the kernel's event queue overflowed, or more than :data:`MAX_CHANGED` files changed.

Where a project is not watched at all (each run walks it):

- not Linux, or ``CELERY_LINT_DAEMON_WATCH=0`` in the server's environment;
- inotify's watch limit (``/proc/sys/fs/inotify/max_user_watches``) reached, or the
  project has more than :data:`MAX_DIRECTORIES` directories;
- a directory of the project on a file system whose changes may come from elsewhere
  (NFS, SMB, FUSE, 9p, virtiofs: inotify sees only changes made through this kernel);
- a Python file of the project that is a symbolic link (inotify reports changes where
  the target lives, not under the link's name).

inotify does not report writes through a shared memory mapping, nor changes made through
another hard link of a file outside the project; no editor or VCS saves source that way.

The server takes (or refreshes) the snapshot of a project after a run indexed it, once
it has been idle for :data:`SETTLE_SECONDS`, so the next run finds it ready.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .config import Settings, load_settings
from .index import Snapshot, collect_facts, update_collected

ENV_WATCH = "CELERY_LINT_DAEMON_WATCH"
#: A project with more directories than this is walked by each run instead.
MAX_DIRECTORIES = 20000
#: More changed files than this since the snapshot: a run walks the project instead.
MAX_CHANGED = 2000
#: Projects watched at once; the least recently used one is dropped beyond this.
MAX_PROJECTS = 4
#: The server takes snapshots once it has had no request for this long...
SETTLE_SECONDS = 0.2
#: ...or, under a steady stream of requests, once one has waited this long.
MAX_DEFER_SECONDS = 2.0

# <sys/inotify.h>
IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_UNMOUNT = 0x2000
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x1000000
IN_DONT_FOLLOW = 0x2000000
IN_ISDIR = 0x40000000
_MASK = (
    IN_MODIFY
    | IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
    | IN_ONLYDIR
    | IN_DONT_FOLLOW
)
#: Events that change which names a directory holds.
_NAMES = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO
_EVENT = struct.Struct("iIII")
#: statfs f_type of file systems whose changes all go through this kernel.
LOCAL_FILE_SYSTEMS = frozenset(
    {
        0xEF53,  # ext2/3/4
        0x58465342,  # xfs
        0x9123683E,  # btrfs
        0x01021994,  # tmpfs
        0xF2F52010,  # f2fs
        0x2FC12FC1,  # zfs
        0x794C7630,  # overlayfs
        0x52654973,  # reiserfs
        0x3153464A,  # jfs
        0xCA451A4E,  # bcachefs
    }
)


class WatchUnavailable(Exception):
    """inotify cannot watch (this project): each run walks it."""


def enabled(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return sys.platform.startswith("linux") and env.get(ENV_WATCH, "").strip().lower() not in ("0", "off", "false", "no")


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def file_system_type(path: str) -> int | None:
    """``statfs(path).f_type`` (None when it cannot be read)."""
    buffer = ctypes.create_string_buffer(256)  # struct statfs is 120 bytes on 64-bit Linux
    libc = _libc()
    if libc.statfs(os.fsencode(path), buffer) != 0:
        return None
    return ctypes.c_long.from_buffer(buffer).value & 0xFFFFFFFF


@dataclass
class _Project:
    root: str
    cache_dir: Path | None
    snapshot: Snapshot | None = None
    #: Python files (and other watched names) changed since the snapshot's walk began.
    changed: set[str] = field(default_factory=set)
    #: The set of files may have changed since then: the snapshot is not used.
    structure: bool = False

    def note(self, path: str, name: str, mask: int) -> None:
        if mask & IN_ISDIR or not name:
            # a directory appeared, went, moved or changed permissions (or the event is
            # about a watched directory itself)
            if mask & (_NAMES | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED):
                self.structure = True
            return
        if name == "pyvenv.cfg":  # decides whether discovery enters a directory
            self.structure = True
        elif name.endswith(".py"):
            self.changed.add(path)
            if len(self.changed) > MAX_CHANGED:
                self.structure = True


class Watcher:
    """One inotify instance for every project the server has indexed."""

    def __init__(self) -> None:
        libc = _libc()
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise WatchUnavailable(os.strerror(ctypes.get_errno()))
        self._libc = libc
        self.fd = fd
        #: watch descriptor -> the directory it watches
        self.directories: dict[int, str] = {}
        #: project root -> its state, most recently used last
        self.projects: dict[str, _Project] = {}
        #: (project root, cache directory) to snapshot once the server is idle
        self.pending: dict[str, Path | None] = {}
        self.pending_since = 0.0
        #: Projects that cannot be watched (limits, file system, symbolic links), with
        #: the reason: not tried again by this server.
        self.unwatchable: dict[str, str] = {}

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        os.close(self.fd)

    # -- events ---------------------------------------------------------------------

    def drain(self) -> None:
        """Read every queued event (called before each fork, so a run sees them all:
        the kernel queues an event before the write that caused it returns)."""
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                self._lost()
                return
            if not data:
                return
            for wd, mask, name in _events(data):
                self._event(wd, mask, name)

    def _event(self, wd: int, mask: int, name: str) -> None:
        if mask & IN_Q_OVERFLOW:
            self._lost()
            return
        directory = self.directories.get(wd)
        if mask & IN_IGNORED:
            self.directories.pop(wd, None)
        if directory is None:
            return
        path = os.path.join(directory, name) if name else directory
        for root, project in self.projects.items():
            if path == root or path.startswith(root + os.sep):
                project.note(path, name, mask)

    def _lost(self) -> None:
        """Events were lost: no snapshot can be trusted until it is taken again."""
        for project in self.projects.values():
            project.structure = True

    # -- what a run asks -----------------------------------------------------------

    def lookup(self, settings: Settings, cache_dir: Path | None) -> tuple[Snapshot, set[str]] | None:
        project = self.projects.get(str(settings.project_root))
        if project is None or project.snapshot is None or project.structure:
            return None
        return project.snapshot, set(project.changed)

    def indexed(self, root: Path, cache_dir: Path | None) -> None:
        """A run indexed this project: snapshot it (again) when the server is idle."""
        key = str(root)
        if key not in self.unwatchable:
            if not self.pending:
                self.pending_since = time.monotonic()
            self.pending[key] = cache_dir

    def due(self, idle: bool) -> bool:
        """Snapshots are waiting and it is time to take them."""
        return bool(self.pending) and (idle or time.monotonic() - self.pending_since > MAX_DEFER_SECONDS)

    # -- snapshots ------------------------------------------------------------------

    def take_pending(self) -> None:
        while self.pending:
            root, cache_dir = next(iter(self.pending.items()))
            del self.pending[root]
            self.take(root, cache_dir)

    def take(self, root: str, cache_dir: Path | None) -> None:
        """Watch ``root`` and snapshot its index facts (in the server, between requests)."""
        self.drain()
        project = self.projects.pop(root, None) or _Project(root, cache_dir)
        self.projects[root] = project  # most recently used last
        if project.snapshot is not None and not project.structure and project.cache_dir == cache_dir:
            # the same files as before: re-read the changed ones (milliseconds, where a
            # new walk costs saleor 0.07 s that a request arriving meanwhile would wait)
            changed, project.changed = project.changed, set()
            try:
                settings = load_settings(Path(root))
                updated = update_collected(settings, cache_dir, project.snapshot, changed)
            except Exception:  # noqa: BLE001 - an odd config: take it anew below
                updated = None
            if updated is not None:
                project.snapshot = Snapshot(settings, cache_dir, updated, project.snapshot.file_set)
                return
            project.changed |= changed
        project.cache_dir = cache_dir
        project.snapshot = None
        project.changed = set()
        project.structure = False
        while len(self.projects) > MAX_PROJECTS:
            self._forget(next(iter(self.projects)))
        try:
            settings = load_settings(Path(root))
            if str(settings.project_root) != root:
                raise WatchUnavailable("the configuration now names another project root")
            symlinked, visited = self._watch_tree(root, settings)
            self._unwatch_gone(root, visited)
            if symlinked:
                raise WatchUnavailable("a Python file of the project is a symbolic link")
            from .files import discover

            collected = collect_facts(settings, discover([root], settings), cache_dir)
        except WatchUnavailable as exc:
            self.unwatchable[root] = str(exc)
            self._forget(root)
            return
        except Exception:  # noqa: BLE001 - a file gone mid-walk, an odd config: runs walk the project
            self._forget(root)
            return
        self.drain()  # events during the walk count against the snapshot
        project.snapshot = Snapshot(settings, cache_dir, collected, frozenset(collected.files))

    def _watch_tree(self, root: str, settings: Settings) -> tuple[bool, set[str]]:
        """Watch every directory discovery would enter: whether a Python file under them
        is a symbolic link, and the directories. Each directory is watched before it is
        listed, so a change after its listing is an event."""
        from .files import _skip_directory

        devices: dict[int, bool] = {}
        symlinked = False
        visited: set[str] = set()
        pending = [root]
        count = 0
        while pending:
            directory = pending.pop()
            count += 1
            if count > MAX_DIRECTORIES:
                raise WatchUnavailable(f"more than {MAX_DIRECTORIES} directories")
            device = os.stat(directory).st_dev
            if device not in devices:
                kind = file_system_type(directory)
                devices[device] = kind is not None and kind in LOCAL_FILE_SYSTEMS
            if not devices[device]:
                raise WatchUnavailable(f"{directory}: not a local file system")
            self._add(directory)
            visited.add(directory)
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not _skip_directory(directory, entry.name, settings):
                            pending.append(entry.path)
                    elif entry.name.endswith(".py") and entry.is_symlink():
                        symlinked = True
                except OSError:
                    continue
        return symlinked, visited

    def _unwatch_gone(self, root: str, visited: set[str]) -> None:
        """Drop the watches of directories under ``root`` that the walk no longer reached
        (moved away or now excluded); a moved directory keeps its watch otherwise, under
        its old name."""
        for wd, directory in list(self.directories.items()):
            if (directory == root or directory.startswith(root + os.sep)) and directory not in visited:
                self._libc.inotify_rm_watch(self.fd, wd)
                self.directories.pop(wd, None)

    def _add(self, directory: str) -> None:
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(directory), _MASK)
        if wd < 0:
            code = ctypes.get_errno()
            if code == errno.ENOSPC:
                raise WatchUnavailable("inotify's watch limit reached (fs.inotify.max_user_watches)")
            raise OSError(code, os.strerror(code), directory)
        self.directories[wd] = directory

    def _forget(self, root: str) -> None:
        """Stop watching a project's directories (those no other project holds)."""
        self.projects.pop(root, None)
        others = [r for r in self.projects]
        for wd, directory in list(self.directories.items()):
            inside = directory == root or directory.startswith(root + os.sep)
            if inside and not any(directory == r or directory.startswith(r + os.sep) for r in others):
                self._libc.inotify_rm_watch(self.fd, wd)
                self.directories.pop(wd, None)


def _events(data: bytes) -> Iterator[tuple[int, int, str]]:
    offset = 0
    while offset + _EVENT.size <= len(data):
        wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
        offset += _EVENT.size
        raw = data[offset : offset + length].split(b"\0", 1)[0]
        offset += length
        yield wd, mask, os.fsdecode(raw)


#: The server's watcher (None: not watching). Runs forked from the server inherit it,
#: with every event read just before the fork.
WATCHER: Watcher | None = None


def start() -> Watcher | None:
    """The server's watcher, or None where files are not watched."""
    global WATCHER
    if WATCHER is None and enabled():
        try:
            WATCHER = Watcher()
        except (WatchUnavailable, OSError, AttributeError):  # AttributeError: no inotify in libc
            WATCHER = None
    return WATCHER


def snapshot_for(settings: Settings, cache_dir: Path | None) -> tuple[Snapshot, set[str]] | None:
    """``celery_lint.index.snapshot_for`` in a run forked by the server."""
    return WATCHER.lookup(settings, cache_dir) if WATCHER is not None else None


def reporter(write: Callable[[str], None]) -> Callable[[Path, Path | None], None]:
    """``celery_lint.index.on_project`` in a forked run: tell the server what was indexed."""

    def report(root: Path, cache_dir: Path | None) -> None:
        write(f"{PROJECT_REPORT}\0{root}\0{cache_dir if cache_dir is not None else ''}")

    return report


#: The first field of a run's report that it indexed a project.
PROJECT_REPORT = "project"


def parse_report(line: str) -> tuple[Path, Path | None] | None:
    parts = line.split("\0")
    if len(parts) != 3 or parts[0] != PROJECT_REPORT:
        return None
    return Path(parts[1]), Path(parts[2]) if parts[2] else None
