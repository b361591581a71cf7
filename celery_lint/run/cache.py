"""The result cache: a warm run reads and parses nothing that did not change.

One JSON file per (celery-lint version and code, settings, enabled rules, project index)
fingerprint under ``.celery_lint_cache/`` at the project root. What an entry trusts (the
same rule for every cache; see ``config/stamp.py``):

- the file's content: its hash, and the module name its path gives (an ``__init__.py``
  added or removed renames the module and the tasks Celery names after it);
- every other file its findings depended on (app modules, helpers), by stat;
- a stat (mtime, ctime, size, inode) only when taken before the file was read and the
  file had been quiet for over two seconds before the run began (:func:`snapshot`);
  otherwise the entry is checked by content. An edit during a run, an edit whose mtime
  was restored, or one within a clock tick is therefore never mistaken for no edit.

A corrupt or unwritable cache is ignored: the run just lints.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import __version__
from ..config.stamp import code_stamp, current_stat, prepare_directory, snapshot
from ..config.settings import Settings
from ..engine.core import Finding

CACHE_DIR_NAME = ".celery_lint_cache"
_FORMAT = 2  # 2: stat snapshots (mtime, ctime, size, inode), module names


def fingerprint(settings: Settings, enabled: Sequence[str], index_digest: str = "") -> str:
    relevant = {
        f.name: repr(getattr(settings, f.name))
        for f in fields(settings)
        if f.name not in ("config_file",)
    }
    if settings.task_name_pattern is not None:
        relevant["task_name_pattern"] = settings.task_name_pattern.pattern
    payload = json.dumps([_FORMAT, __version__, code_stamp(), relevant, sorted(enabled), index_digest], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def deps_stats(deps: Sequence[str]) -> dict[str, list[int] | None]:
    """The stat of each file findings depended on, as an entry stores it: None for a file
    changed too recently to be trusted by stat (the entry is then not reused)."""
    return {dep: snapshot(dep) for dep in deps}


def deps_unchanged(stored: Any, seen: dict[str, list[int] | None] | None = None) -> bool:
    """Every file an entry's findings depended on has the stat stored (False for a
    malformed entry or a dependency that was not settled: the file is linted again).
    ``seen``: stats already taken in this run (many entries share an app module)."""
    if not isinstance(stored, dict):
        return False
    for dep, stat in stored.items():
        if stat is None:
            return False
        if seen is None:
            now = current_stat(dep)
        else:
            now = seen[dep] if dep in seen else seen.setdefault(dep, current_stat(dep))
        if now != stat:
            return False
    return True


def dump_findings(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Findings as an entry stores them (the file name is the entry's)."""
    return [{k: v for k, v in asdict(f).items() if k != "filename"} for f in findings]


def load_findings(items: Any, path: str) -> list[Finding] | None:
    """``dump_findings`` read back for ``path``; None when the entry is malformed."""
    try:
        return [Finding(filename=path, **item) for item in items]
    except (TypeError, KeyError):
        return None


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Cache:
    def __init__(self, directory: Path, key: str, module_of: Callable[[str], str | None] | None = None) -> None:
        self.directory = directory
        self.file = directory / f"{key}.json"
        #: The module name a path gives now (``ModuleNames``), compared with the stored one.
        self.module_of = module_of or (lambda path: None)
        self.entries: dict[str, dict[str, Any]] = {}
        #: dependency -> its stat now, taken once per run.
        self._seen: dict[str, list[int] | None] = {}
        self.dirty = False
        self.warning: str | None = None
        try:
            with open(self.file, encoding="utf-8") as handle:
                data = json.load(handle)
            if isinstance(data, dict) and data.get("format") == _FORMAT and isinstance(data.get("files"), dict):
                self.entries = data["files"]
        except FileNotFoundError:
            pass
        except (OSError, ValueError):
            self.entries = {}  # corrupt: start afresh, it will be rewritten

    @staticmethod
    def _key(path: str) -> str:
        return os.path.abspath(path)

    def _valid(self, entry: dict[str, Any], path: str) -> bool:
        return entry.get("module") == self.module_of(path) and deps_unchanged(entry.get("deps", {}), self._seen)

    def by_stat(self, path: str) -> list[Finding] | None:
        entry = self.entries.get(self._key(path))
        if entry is None or entry.get("stat") is None or entry.get("stat") != current_stat(path) or not self._valid(entry, path):
            return None
        return self._findings(entry, path)

    def has(self, path: str) -> bool:
        return self._key(path) in self.entries

    def by_content(self, path: str, digest: str, stat: list[int] | None) -> list[Finding] | None:
        """The entry for these bytes (``digest``), whose ``stat`` was taken before they were
        read (:func:`snapshot`): remembered for the next run when it can be trusted."""
        entry = self.entries.get(self._key(path))
        if entry is None or entry.get("hash") != digest or not self._valid(entry, path):
            return None
        if entry.get("stat") != stat:
            entry["stat"] = stat
            self.dirty = True
        return self._findings(entry, path)

    def store(
        self, path: str, digest: str, findings: Sequence[Finding], deps: Sequence[str], stat: list[int] | None
    ) -> None:
        """``stat``: the file's :func:`snapshot` taken before the bytes hashed as
        ``digest`` were read, and unchanged after (None: check by content next time)."""
        self.entries[self._key(path)] = {
            "stat": stat,
            "hash": digest,
            "module": self.module_of(path),
            "deps": deps_stats([dep for dep in deps if os.path.abspath(dep) != self._key(path)]),
            "findings": dump_findings(findings),
        }
        self.dirty = True

    @staticmethod
    def _findings(entry: dict[str, Any], path: str) -> list[Finding] | None:
        return load_findings(entry.get("findings"), path)

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            prepare_directory(self.directory)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # json.dumps, not json.dump: only the one-shot form uses the C encoder (~10x).
                handle.write(json.dumps({"format": _FORMAT, "version": __version__, "files": self.entries}))
            os.replace(tmp, self.file)
        except OSError as exc:
            self.warning = f"cache not written ({self.directory}): {exc.strerror or exc}"
