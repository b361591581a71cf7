"""Linting many files: cache lookups here, misses in a pool of worker processes.

Output order does not depend on scheduling: results come back in the order the files
were discovered, and findings are sorted afterwards.
"""

from __future__ import annotations

import difflib
import io
import os
import signal
import sys
import threading
import time
import tokenize
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .cache import Cache, content_hash
from ..config.settings import Settings
from ..config.stamp import current_stat, snapshot
from ..engine.core import Engine, FileResult, Finding, SourceError, decode_source
from .files import not_a_file, write_atomically
from ..model.graph_store import GraphStore
from ..model.project import ProjectIndex
from .noqa import UNUSED_NOQA, stale_noqa, unused_noqa, visible, without_codes

#: Below this many files to lint, worker start-up costs more than it saves.
MIN_FILES_FOR_POOL = 16


@dataclass
class Linted:
    findings: list[Finding]
    digest: str | None
    deps: list[str]
    #: Fix mode: the findings the fixes resolved, and the unified diff of the change.
    fixed: list[Finding] = field(default_factory=list)
    diff: str = ""
    #: The file's stat taken before it was read, when the cache may trust it (``snapshot``).
    stat: list[int] | None = None
    #: Call graph entries the walks of this file made or grew (``GraphStore.drain``).
    graph: dict[str, Any] | None = None


@dataclass(frozen=True)
class FixMode:
    """``--fix``/``--diff``: which fixes to apply, and whether to write the files."""

    unsafe: bool = False
    write: bool = True

    def wants(self, finding: Finding) -> bool:
        return finding.fix is not None and (self.unsafe or finding.fix["applicability"] == "safe")


_ENGINE: Engine | None = None
_FIX_MODE: FixMode | None = None
_KEEP_STAT = True


def _init_worker(
    settings: Settings,
    fix_mode: FixMode | None = None,
    index: ProjectIndex | None = None,
    parent: int | None = None,
    keep_stat: bool = True,
    graph_store: GraphStore | None = None,
) -> None:
    global _ENGINE, _FIX_MODE, _KEEP_STAT
    end_with_parent(parent if parent is not None else os.getppid())
    _ENGINE = Engine(settings, index=index)
    _ENGINE.graph.store = graph_store
    _FIX_MODE = fix_mode
    _KEEP_STAT = keep_stat


_PR_SET_PDEATHSIG = 1


def end_with_parent(parent: int) -> None:
    """Make this worker process end when ``parent`` does, however it ends (a SIGKILL
    included: a killed run's workers went on fixing files for 25 s).

    On Linux the kernel sends SIGKILL when the parent goes (``PR_SET_PDEATHSIG``); a
    watcher thread checks ``os.getppid()`` twice a second everywhere (and covers the
    parent having gone before the first check). Files are written atomically, so a
    worker ended mid-fix leaves the old file or the new one, never a part."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="celery-lint-parent-watch", daemon=True).start()


def fix_source(engine: Engine, data: bytes, path: str, mode: FixMode) -> tuple[bytes | None, Linted]:
    """Fix one file's bytes: the new bytes (None when nothing changed) and what was done.

    The file's encoding, BOM and line endings are kept (libcst keeps the newlines).
    """
    try:
        text = decode_source(data)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SourceError:
        result = engine.lint_bytes(data, path)
        return None, Linted(_shown(engine, result), None, [])
    outcome = engine.fix_text(text, path, unsafe=mode.unsafe)
    remaining = _shown(engine, outcome.result)
    stale = [f for f in remaining if f.code == UNUSED_NOQA]
    if stale:  # CLY901's fix: drop the codes that suppress nothing (no finding can change)
        lines = outcome.text.splitlines(keepends=True)
        for finding, codes in zip(stale, stale_noqa(outcome.result, _judged(engine, path)).values()):
            lines[finding.line - 1] = without_codes(lines[finding.line - 1], codes)
        outcome.text = "".join(lines)
        outcome.applied.extend(stale)
        remaining = [f for f in remaining if f.code != UNUSED_NOQA]
    if outcome.text == text:
        return None, Linted(remaining, None, [], outcome.applied)
    new = outcome.text.encode("utf-8" if encoding == "utf-8-sig" else encoding)
    header = path.replace(os.sep, "/").lstrip("/")  # `a/shop/x.py`, as git writes it (git apply strips `a/`)
    if data.startswith(b"\xef\xbb\xbf") and not new.startswith(b"\xef\xbb\xbf"):
        new = b"\xef\xbb\xbf" + new
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True), outcome.text.splitlines(keepends=True), f"a/{header}", f"b/{header}"
        )
    )
    return new, Linted(remaining, None, [], outcome.applied, diff)


def fix_one(engine: Engine, path: str, mode: FixMode) -> Linted:
    missing = not_a_file(engine, path)
    if missing is not None:
        return Linted(missing.findings, None, [])
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return lint_one(engine, path)
    new, linted = fix_source(engine, data, path, mode)
    if new is not None and mode.write:
        try:
            write_atomically(path, new)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            error = Finding("CLY000", "file-not-parsed", f"cannot write the fixed file: {reason}", path, 1, 1, 1, 1)
            return Linted([error, *lint_one(engine, path).findings], None, [])
    return linted


def lint_one(engine: Engine, path: str, keep_stat: bool = True) -> Linted:
    """Lint one file as the CLI shows it: noqa applied, CLY901 added when selected.
    ``keep_stat``: take the stat a result cache keeps (two ``stat`` calls; not without one)."""
    missing = not_a_file(engine, path)
    if missing is not None:
        return Linted(missing.findings, None, [])
    digest = None
    before = snapshot(path) if keep_stat else None  # before the read: an edit during the run shows as a new stat
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        digest = content_hash(data) if keep_stat else None
    except OSError:
        result = engine.lint_path(path)  # reports the read error as CLY000
    else:
        result = engine.lint_bytes(data, path)
    stat = before if before is not None and current_stat(path) == before else None
    deps = sorted(engine.apps.touched) if keep_stat else []
    return Linted(_shown(engine, result), digest, deps, stat=stat)


def _shown(engine: Engine, result: FileResult) -> list[Finding]:
    findings = visible(result)
    ignored = engine.settings.ignored_codes_for(result.path)
    if any(r.code == UNUSED_NOQA for r in engine.rules) and not any(UNUSED_NOQA.startswith(c) for c in ignored):
        findings.extend(unused_noqa(result, _judged(engine, result.path)))
    return findings


def _judged(engine: Engine, path: str) -> list[str]:
    """The codes whose `noqa` comments can be judged in ``path``: those of the rules run
    there (a `noqa` for a rule the test-code policy or `per-file-ignores` turns off is left alone)."""
    off = engine.ignored_for(path)
    return [r.code for r in engine.rules if not any(r.code.startswith(c) for c in off)]


def _lint_in_worker(path: str) -> Linted:
    assert _ENGINE is not None
    return _linted(_ENGINE, path, _FIX_MODE, _KEEP_STAT)


def _linted(engine: Engine, path: str, fix_mode: FixMode | None, keep_stat: bool) -> Linted:
    """One file linted (or fixed), with the call graph entries its walks made."""
    linted = fix_one(engine, path, fix_mode) if fix_mode is not None else lint_one(engine, path, keep_stat)
    if engine.graph.store is not None:
        linted.graph = engine.graph.store.drain()
    return linted


@dataclass
class RunResult:
    findings: list[Finding]
    checked: int
    fixed: list[Finding] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)


def lint_files(
    paths: Iterable[str],
    settings: Settings,
    *,
    jobs: int = 1,
    cache: Cache | None = None,
    fix_mode: FixMode | None = None,
    index: ProjectIndex | None = None,
    graph_store: GraphStore | None = None,
) -> RunResult:
    """Findings of every file (sorted), the number of files checked, and in fix mode what changed.

    In fix mode a cached result is used only when it has nothing to fix; the files that
    are fixed are not cached (they changed, or would have under ``--diff``).
    ``graph_store``: the call graph's entries between runs; what the files linted added
    is merged into it (the caller saves it).
    """
    engine = Engine(settings, index=index)
    engine.graph.store = graph_store
    ordered = list(paths)
    results: dict[str, list[Finding]] = {}
    todo: list[str] = []
    for path in ordered:
        cached = cache.by_stat(path) if cache is not None else None
        if cached is not None and fix_mode is not None and any(fix_mode.wants(f) for f in cached):
            cached = None
        if cached is not None:
            results[path] = cached
            continue
        if cache is not None and cache.has(path) and os.path.isfile(path):
            # stat changed but the content may not have: hash it (only files with an entry)
            before = snapshot(path)
            try:
                with open(path, "rb") as handle:
                    digest = content_hash(handle.read())
            except OSError:
                digest = None
            stat = before if before is not None and current_stat(path) == before else None
            cached = cache.by_content(path, digest, stat) if digest else None
            if cached is not None and fix_mode is not None and any(fix_mode.wants(f) for f in cached):
                cached = None
            if cached is not None:
                results[path] = cached
                continue
        todo.append(path)
    run = RunResult([], len(ordered))
    for path, linted in zip(todo, _run(engine, settings, todo, jobs, fix_mode, index, cache is not None)):
        results[path] = linted.findings
        if graph_store is not None and linted.graph:
            graph_store.merge(linted.graph)
        run.fixed.extend(linted.fixed)
        if linted.diff:
            run.diffs.append(linted.diff)
        if cache is not None and linted.digest is not None:
            cache.store(path, linted.digest, linted.findings, linted.deps, linted.stat)
    run.findings = [f for path in ordered for f in results[path]]
    run.findings.sort(key=Finding.sort_key)
    return run


def _run(
    engine: Engine,
    settings: Settings,
    todo: Sequence[str],
    jobs: int,
    fix_mode: FixMode | None,
    index: ProjectIndex | None,
    keep_stat: bool = True,
) -> Iterable[Linted]:
    if jobs <= 1 or len(todo) < MIN_FILES_FOR_POOL:
        return (_linted(engine, path, fix_mode, keep_stat) for path in todo)
    chunk = max(1, min(64, len(todo) // (jobs * 8)))
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        initializer=_init_worker,
        initargs=(settings, fix_mode, index, os.getpid(), keep_stat, engine.graph.store),
    )
    try:
        return list(pool.map(_lint_in_worker, todo, chunksize=chunk))
    finally:
        pool.shutdown()


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
