"""The call graph on disk: what walks through helpers learned of each module, kept with
the rest of the index cache (``.celery_lint_cache/graph-<key>.json``).

A walk through helpers (``model/callgraph.py``) reads a module lazily: the names it
defines, the imports a walk looks up, whether a function's text can hold a sink's call,
and the calls of the functions it reaches. Each of those answers depends on the module's
text and its module name only (relative imports), so it is stored per file under the same
freshness rule as every other cache (``config/stamp.py``): the file's stat taken before it
was read, trusted only when settled before the run, and the module name the path gives
now. A run that re-lints a file after an edit then reads the helpers it walks through
from here instead of skimming them again; whatever an entry does not hold yet is read
from the file and added.

Entries are plain JSON (:class:`RecordedSummary` makes and reads them)::

    {"stat": [mtime_ns, ctime_ns, size, ino], "module": "shop.mail",
     "defs": ["notify", ...], "imports": {"send_mail": "django.core.mail.send_mail", "x": null},
     "mentions": {"notify|delay,apply_async": true}, "functions": {"notify": [...] or null}}

Worker processes hand what they added back to the main process with each file's result
(:meth:`GraphStore.drain`), which merges and writes the file once, atomically. The file
name is keyed on celery-lint's version and code (which decide how a module is read).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .. import __version__
from ..config.stamp import code_stamp, current_stat, prepare_directory
from .summaries import CallSite, FunctionSummary, ImportLookup, ModuleSummary, read_module

_FORMAT = 1
#: What one entry holds besides its stat and module name.
_PARTS = ("imports", "mentions", "functions")


class GraphStore:
    """Per-file call graph entries, read from disk when a walk first needs one.

    ``write=False`` (flake8, whose files are linted in processes of its own): entries are
    read and grown in memory, never written."""

    def __init__(self, directory: Path | None, *, write: bool = True) -> None:
        if directory is not None:
            payload = json.dumps([_FORMAT, __version__, code_stamp()])
            key = hashlib.sha256(payload.encode()).hexdigest()[:16]
            self.file: Path | None = directory / f"graph-{key}.json"
        else:
            self.file = None
        self.write = write and self.file is not None
        self._entries: dict[str, dict[str, Any]] | None = None
        #: Files whose entry was made or grew since the last :meth:`drain`.
        self._changed: set[str] = set()
        self.dirty = False

    def __getstate__(self) -> dict[str, Any]:
        # handed to worker processes: they read the file themselves, when they need it
        return {"file": self.file, "write": self.write, "_entries": None, "_changed": set(), "dirty": False}

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            self._entries = {}
            if self.file is not None:
                try:
                    with open(self.file, encoding="utf-8") as handle:
                        data = json.loads(handle.read())
                    if isinstance(data, dict):
                        self._entries = {k: v for k, v in data.items() if _well_formed(v)}
                except (OSError, ValueError):
                    pass  # a missing or corrupt file: every module is read again
        return self._entries

    def entry(self, path: str, module: str | None) -> dict[str, Any] | None:
        """The stored entry of ``path`` when its stat and module name are unchanged."""
        found = self._load().get(path)
        if found is None or found["module"] != module or found["stat"] != current_stat(path):
            return None
        return found

    def add(self, path: str, stat: list[int], module: str | None, defs: list[str]) -> dict[str, Any]:
        """A new, empty entry for a module just read (``stat``: its snapshot before the read)."""
        made: dict[str, Any] = {"stat": stat, "module": module, "defs": defs, "imports": {}, "mentions": {}, "functions": {}}
        self._load()[path] = made
        self.grew(path)
        return made

    def forget(self, path: str) -> None:
        """The file changed under an entry that was in use: it is not kept."""
        self._load().pop(path, None)
        self._changed.discard(path)

    def grew(self, path: str) -> None:
        self._changed.add(path)
        self.dirty = True

    def drain(self) -> dict[str, dict[str, Any]] | None:
        """The entries made or grown since the last call (a worker sends them back)."""
        if not self._changed or self._entries is None:
            return None
        out = {path: self._entries[path] for path in self._changed if path in self._entries}
        self._changed.clear()
        return out or None

    def merge(self, entries: dict[str, dict[str, Any]]) -> None:
        """Entries a worker made or grew: the parts of one for the same stat and module are
        joined, an entry of another stat replaces the old one."""
        mine = self._load()
        for path, theirs in entries.items():
            if not _well_formed(theirs):
                continue
            known = mine.get(path)
            if known is theirs:
                continue
            if known is not None and known["stat"] == theirs["stat"] and known["module"] == theirs["module"]:
                for part in _PARTS:
                    known[part].update(theirs[part])
            else:
                mine[path] = theirs
            self.dirty = True

    def save(self) -> None:
        """Write the entries (those of files that no longer have their stored stat are
        dropped: deleted or edited files do not accumulate)."""
        if not self.write or not self.dirty or self._entries is None:
            return
        assert self.file is not None
        kept = {path: entry for path, entry in self._entries.items() if entry["stat"] == current_stat(path)}
        try:
            prepare_directory(self.file.parent)
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".graph-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(json.dumps(kept))
                os.replace(tmp, self.file)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            pass  # an unwritable cache only costs time
        self.dirty = False


def _well_formed(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("stat"), list)
        and isinstance(entry.get("module"), (str, type(None)))
        and isinstance(entry.get("defs"), list)
        and all(isinstance(entry.get(part), dict) for part in _PARTS)
    )


class RecordedSummary:
    """A module's summary that answers from its stored entry (:mod:`.graph_store`) and
    adds to it what the module itself has to answer (read from the file when first asked)."""

    def __init__(
        self, path: str, module: str | None, entry: dict[str, Any], store: GraphStore, read: ModuleSummary | None = None
    ) -> None:
        self.path = path
        self.module = module
        self._entry = entry
        self._store = store
        self._summary = read
        self._loaded = read is not None
        self._defs = frozenset(entry["defs"])
        self._functions: dict[str, FunctionSummary | None] = {}
        self.imports = _RecordedImports(self)

    def _read(self) -> ModuleSummary | None:
        """The module read from its file, once; an entry whose file changed since it was
        stored is dropped (this run still answers from what the file says now)."""
        if not self._loaded:
            self._loaded = True
            before = current_stat(self.path)
            self._summary = read_module(self.path, self.module)
            if before != self._entry["stat"] or current_stat(self.path) != before:
                self._store.forget(self.path)
        return self._summary

    def _grow(self, part: str, key: str, value: Any) -> None:
        self._entry[part][key] = value
        self._store.grew(self.path)

    def defines(self, name: str) -> bool:
        return name in self._defs

    def mentions(self, name: str, words: tuple[str, ...], whole_module: bool) -> bool:
        if name not in self._defs:
            return False
        key = f"{'' if whole_module else name}|{','.join(words)}"
        known = self._entry["mentions"].get(key)
        if not isinstance(known, bool):
            summary = self._read()
            known = summary is None or summary.mentions(name, words, whole_module)
            self._grow("mentions", key, known)
        return known

    def function(self, name: str) -> FunctionSummary | None:
        if name in self._functions:
            return self._functions[name]
        if name not in self._defs:
            return None
        stored = self._entry["functions"].get(name, False)
        function = _decode_function(name, self.path, stored) if stored is not False else False
        if function is False:
            summary = self._read()
            function = summary.function(name) if summary is not None else None
            self._grow("functions", name, _encode_function(function))
        self._functions[name] = function
        return function


class _RecordedImports(ImportLookup):
    """A recorded module's imports, as the mapping :meth:`CallGraph._find` reads."""

    def __init__(self, owner: RecordedSummary) -> None:
        self._owner = owner

    def get(self, name: str, default: str | None = None) -> str | None:
        owner = self._owner
        stored = owner._entry["imports"]
        if name in stored and isinstance(stored[name], (str, type(None))):
            value = stored[name]
        else:
            summary = owner._read()
            value = summary.imports.get(name) if summary is not None else None
            owner._grow("imports", name, value)
        return default if value is None else value


def _encode_function(function: FunctionSummary | None) -> list[Any] | None:
    if function is None:
        return None
    calls = [
        [c.name, c.line, sorted(c.keywords), c.positional, c.star_kwargs, sorted(c.none_keywords), c.bounded, c.deferred]
        for c in function.calls
    ]
    return [function.line, calls, function.idempotency_key, [list(w) for w in function.waits]]


def _decode_function(name: str, path: str, stored: Any) -> FunctionSummary | None | bool:
    """A stored function back (None: the module has no readable function of that name);
    False for a value of the wrong shape (the function is read again)."""
    if stored is None:
        return None
    try:
        line, calls, key, waits = stored
        sites = tuple(
            CallSite(n, l, frozenset(k), p, bool(s), frozenset(none), bool(b), bool(d)) for n, l, k, p, s, none, b, d in calls
        )
        return FunctionSummary(name, path, line, sites, bool(key), tuple((w[0], w[1]) for w in waits))
    except (TypeError, ValueError, IndexError):
        return False
