"""Linting many files: cache lookups here, misses in a pool of worker processes.

Output order does not depend on scheduling: results come back in the order the files
were discovered, and findings are sorted afterwards.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Sequence

from .cache import Cache, content_hash
from .config import Settings
from .engine import Engine, FileResult, Finding
from .files import not_a_file
from .noqa import UNUSED_NOQA, unused_noqa, visible

#: Below this many files to lint, worker start-up costs more than it saves.
MIN_FILES_FOR_POOL = 16


@dataclass
class Linted:
    findings: list[Finding]
    digest: str | None
    deps: list[str]


_ENGINE: Engine | None = None


def _init_worker(settings: Settings) -> None:
    global _ENGINE
    _ENGINE = Engine(settings)


def lint_one(engine: Engine, path: str) -> Linted:
    """Lint one file as the CLI shows it: noqa applied, CLY901 added when selected."""
    missing = not_a_file(engine, path)
    if missing is not None:
        return Linted(missing.findings, None, [])
    digest = None
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        digest = content_hash(data)
    except OSError:
        result = engine.lint_path(path)  # reports the read error as CLY000
    else:
        result = engine.lint_bytes(data, path)
    return Linted(_shown(engine, result), digest, sorted(engine.apps.touched))


def _shown(engine: Engine, result: FileResult) -> list[Finding]:
    findings = visible(result)
    enabled = [r.code for r in engine.rules]
    if UNUSED_NOQA in enabled and not any(
        UNUSED_NOQA.startswith(c) for c in engine.settings.ignored_codes_for(result.path)
    ):
        findings.extend(unused_noqa(result, enabled))
    return findings


def _lint_in_worker(path: str) -> Linted:
    assert _ENGINE is not None
    return lint_one(_ENGINE, path)


def lint_files(
    paths: Iterable[str], settings: Settings, *, jobs: int = 1, cache: Cache | None = None
) -> tuple[list[Finding], int]:
    """Findings of every file (sorted) and the number of files checked."""
    engine = Engine(settings)
    ordered = list(paths)
    results: dict[str, list[Finding]] = {}
    todo: list[str] = []
    for path in ordered:
        cached = cache.by_stat(path) if cache is not None else None
        if cached is not None:
            results[path] = cached
            continue
        if cache is not None and cache.has(path) and os.path.isfile(path):
            # stat changed but the content may not have: hash it (only files with an entry)
            try:
                with open(path, "rb") as handle:
                    digest = content_hash(handle.read())
            except OSError:
                digest = None
            cached = cache.by_content(path, digest) if digest else None
            if cached is not None:
                results[path] = cached
                continue
        todo.append(path)
    for path, linted in zip(todo, _run(engine, settings, todo, jobs)):
        results[path] = linted.findings
        if cache is not None and linted.digest is not None:
            cache.store(path, linted.digest, linted.findings, linted.deps)
    findings = [f for path in ordered for f in results[path]]
    findings.sort(key=Finding.sort_key)
    return findings, len(ordered)


def _run(engine: Engine, settings: Settings, todo: Sequence[str], jobs: int) -> Iterable[Linted]:
    if jobs <= 1 or len(todo) < MIN_FILES_FOR_POOL:
        return (lint_one(engine, path) for path in todo)
    chunk = max(1, min(64, len(todo) // (jobs * 8)))
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(settings,))
    try:
        return list(pool.map(_lint_in_worker, todo, chunksize=chunk))
    finally:
        pool.shutdown()


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
