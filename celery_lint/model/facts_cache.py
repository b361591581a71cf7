"""The index's per-file facts cache, on disk: one JSON file per project and cache key.

Each file's facts are stored by stat, with the module name its path gives and the stat
of every other file its facts rest on (an app module that decided whether
``@app.task`` is a task). A stat is trusted only as the result cache trusts it (taken
before the read, settled before the run: ``config/stamp.snapshot``); an entry without
one is read again. A warm index costs one ``stat`` per file. The file name is keyed on
what facts depend on besides the files (celery-lint's version and own code, the source
roots). The daemon's server preloads the files its children read. Written atomically
(a temporary file, then ``os.replace``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterable

from .. import __version__
from ..config.settings import Settings
from ..config.stamp import code_stamp, current_stat, prepare_directory, snapshot
from .project import IndexedTask, ModuleFacts, has_facts

_FORMAT = 8  # 3: IndexedTask.app; 4: beat_scheduler; 5: reject_on_worker_lost, create_missing_queues; 6: track_started, result_extended; 7: snapshots, module, deps; 8: discovery, installed_apps, workers, imports (beside the facts)


#: Set by the daemon's server (``celery-lint --daemon``), None otherwise:
#: ``deferred_writes`` queues index cache writes until the client has its answer, and
#: ``on_cache_file`` is told which index cache file a run reads, so the server can
#: preload it (:func:`preload`) for the runs it forks later.
deferred_writes: list[Callable[[], None]] | None = None
on_cache_file: Callable[[str], None] | None = None
#: Index cache files preloaded by the daemon's server: path -> (stat, entries, facts).
_PRELOADED: dict[str, tuple[tuple[int, int, int], dict[str, Any], dict[str, ModuleFacts | None]]] = {}
_PRELOAD_LIMIT = 8


def _file_identity(path: str) -> tuple[int, int, int]:
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def preload(path: str) -> None:
    """Read an index cache file ahead of the runs that will need it (the daemon's server).

    A run reuses it only while the file is unchanged on disk (mtime, size, inode), so a
    preloaded copy is never staler than the file a run would read itself.
    """
    identity = _file_identity(path)
    known = _PRELOADED.get(path)
    if known is not None and known[0] == identity:
        return
    with open(path, encoding="utf-8") as handle:
        entries = json.loads(handle.read())
    if not isinstance(entries, dict):
        return
    facts = {
        rel: _facts_from_entry(entry)
        for rel, entry in entries.items()
        if isinstance(entry, dict) and isinstance(entry.get("facts"), (dict, type(None)))
    }
    _PRELOADED.pop(path, None)
    while len(_PRELOADED) >= _PRELOAD_LIMIT:
        _PRELOADED.pop(next(iter(_PRELOADED)))
    _PRELOADED[path] = (identity, entries, facts)


class FactsCache:
    """Per-file facts by stat. The file name is keyed on what facts depend on besides the
    file itself: celery-lint's version and own code (an editable install changes without
    a version bump) and the source roots (they decide module names)."""

    def __init__(self, directory: Path | None, settings: Settings) -> None:
        payload = json.dumps([_FORMAT, __version__, code_stamp(), list(settings.src)], sort_keys=True)
        key = hashlib.sha256(payload.encode()).hexdigest()[:16]
        self.file = directory / f"index-{key}.json" if directory is not None else None
        self.entries: dict[str, Any] = {}
        #: Facts already built from ``entries`` (preloaded by the daemon's server).
        self.facts: dict[str, ModuleFacts | None] = {}
        #: dependency -> its stat now, looked up once per run (many files share an app module).
        self._seen: dict[str, list[int] | None] = {}
        self.dirty = False
        if self.file is None:
            return
        name = str(self.file)
        if on_cache_file is not None:
            on_cache_file(name)
        preloaded = _PRELOADED.get(name)
        try:
            if preloaded is not None and preloaded[0] == _file_identity(name):
                # copies: put() must not change the preloaded file's picture (0.1 ms)
                self.entries, self.facts = dict(preloaded[1]), dict(preloaded[2])
                return
            with open(self.file, encoding="utf-8") as handle:
                data = json.loads(handle.read())
            if isinstance(data, dict):
                self.entries = data
        except (OSError, ValueError):
            self.entries = {}

    def get(self, path: str, rel: str, module: str | None) -> ModuleFacts | None:
        """The facts stored for ``path`` when its stat, its module name (``module``, as
        its path gives it now) and the stat of each file they rest on are unchanged."""
        entry = self.entries.get(rel)
        if not isinstance(entry, dict) or entry.get("stat") is None or entry.get("stat") != current_stat(path):
            return None
        if entry.get("module") != module or not _deps_unchanged(entry.get("deps"), self._seen):
            return None
        if rel in self.facts:
            return self.facts[rel]
        try:
            return _facts_from_entry(entry)
        except (KeyError, TypeError, AttributeError):
            return None  # an entry of the wrong shape: the file is read again

    def put(self, rel: str, stat: list[int] | None, module: str | None, facts: ModuleFacts | None, deps: Iterable[str]) -> None:
        """``stat``: the file's :func:`snapshot` taken before it was read (None: read it
        again next time); ``deps``: the other files the facts rest on."""
        if self.file is None:
            return
        # A file without facts (most of them) is stored as null, which reads back as empty
        # facts: asdict on each of readthedocs.org's 953 files cost its cold index 0.06 s.
        self.entries[rel] = {
            "stat": stat,
            "module": module,
            "deps": {dep: snapshot(dep) for dep in sorted(deps)},
            "facts": asdict(facts) if has_facts(facts) else None,
        }
        self.facts.pop(rel, None)
        self.dirty = True

    def imports(self, rel: str) -> list[str] | None:
        """What the file at ``rel`` imports, when it was stored with its entry (an entry
        :meth:`get` or :meth:`put` has vouched for in this run)."""
        entry = self.entries.get(rel)
        found = entry.get("imports") if isinstance(entry, dict) else None
        return found if isinstance(found, list) and all(isinstance(n, str) for n in found) else None

    def put_imports(self, rel: str, imports: list[str]) -> None:
        """Keep what the file imports with its entry: read only for the modules the import
        graph reaches (``index.ImportGraph``), under the entry's stat."""
        entry = self.entries.get(rel)
        if self.file is None or not isinstance(entry, dict):
            return
        # a copy: the daemon's preloaded entries are shared with later runs
        self.entries[rel] = {**entry, "imports": imports}
        self.dirty = True

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        if deferred_writes is not None:
            deferred_writes.append(self._write)
        else:
            self._write()

    def _write(self) -> None:
        assert self.file is not None
        try:
            prepare_directory(self.file.parent)  # with its .gitignore, whichever writer comes first
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".index-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # json.dumps, not json.dump: only the one-shot form uses the C encoder
                # (saleor's index: 0.33 -> 0.03 s).
                handle.write(json.dumps(self.entries))
            os.replace(tmp, self.file)
        except OSError:
            pass  # an unwritable cache only costs time


def _deps_unchanged(stored: Any, seen: dict[str, list[int] | None]) -> bool:
    if not isinstance(stored, dict):
        return False
    for dep, stat in stored.items():
        if dep not in seen:
            seen[dep] = current_stat(dep)
        if stat is None or seen[dep] != stat:
            return False
    return True


def _facts_from_entry(entry: dict[str, Any]) -> ModuleFacts | None:
    data = entry["facts"]
    if data is None:
        return ModuleFacts()
    return ModuleFacts(
        module=data.get("module"),
        tasks=[IndexedTask(**t) for t in data.get("tasks", [])],
        settings=data.get("settings", {}),
        classes=data.get("classes", {}),
        config_modules=data.get("config_modules", []),
        awaited=data.get("awaited", []),
        discovery=data.get("discovery", []),
        installed_apps=data.get("installed_apps"),
        workers=data.get("workers", []),
    )
