"""The project index: every task and the Celery configuration of the whole project.

Built once per run from the project root, before any file is linted, so the cross-file
rules see the whole project even when pre-commit passes one file. Each file's facts come
from ``extract.py`` (``ast``) through the on-disk cache of ``facts_cache.py``; this module
merges them (:class:`~celery_lint.model.project.ProjectIndex`) and adds the settings of
config modules named by ``config_from_object``.

Values that are not literals are :data:`~celery_lint.model.values.UNKNOWN_VALUE`; rules
stay silent on them.
"""

from __future__ import annotations

import ast
import dataclasses
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..config.settings import Settings, relative_posix
from ..config.stamp import current_stat, snapshot
from .apps import AppLocator
from .extract import extract
from .facts_cache import FactsCache
from .imports import scan_imports
from .needles import MAX_FILE_BYTES
from .registration import registration
from .workers import worker_commands
from .project import ModuleFacts, ProjectIndex, has_facts
from .recognise import INDEXED_SETTINGS, is_test_module, setting_name
from .source import ModuleNames, parse_file
from .values import ast_literal


def build_index(
    settings: Settings,
    paths: Iterable[str],
    cache_dir: Path | None,
    names: ModuleNames | None = None,
    worker_files: Iterable[str] = (),
) -> ProjectIndex:
    """Index ``paths`` (every Python file of the project) and ``worker_files`` (the files
    that may hold worker command lines, ``workers.is_candidate``): each file's facts from
    the cache when its stat matches, else read (Python with ``ast``); then merged."""
    cache = FactsCache(cache_dir, settings)
    locator = AppLocator(settings.src_roots())
    names = names or ModuleNames(settings.src_roots())  # shared with the result cache by the CLI
    modules: dict[str, ModuleFacts] = {}
    graph = ImportGraph(cache)
    packages: set[str] = set()
    prefixes = [relative_posix(root, settings.project_root) + "/" for root in settings.src_roots()]
    for path in paths:
        rel = relative_posix(path, settings.project_root)
        top = next((rel[len(p) :] for p in prefixes if rel.startswith(p)), rel).split("/", 1)[0]
        packages.add(top[:-3] if top.endswith(".py") else top)
        module = names(path)
        facts = _facts_of(cache, path, rel, settings, locator, module)
        if module is not None:
            graph.add(module, path, rel)
        if has_facts(facts):
            modules[rel] = facts  # type: ignore[assignment]
    for path in worker_files:
        rel = relative_posix(path, settings.project_root)
        facts = cache.get(path, rel, None) if cache.file is not None else None
        if facts is None:
            before = snapshot(path) if cache.file is not None else None
            try:
                commands = worker_commands(path)
            except Exception:  # noqa: BLE001 - one odd file must not stop the run; it shows no worker
                commands = []
            facts = ModuleFacts(workers=[dict(dataclasses.asdict(w), source=rel) for w in commands])
            if cache.file is not None:
                stat = before if before is not None and current_stat(path) == before else None
                cache.put(rel, stat, None, facts, ())
        if facts.workers:
            modules[rel] = facts
    index = _merge(settings, modules, packages, graph)  # reads the imports it needs
    cache.save()
    return index


def _facts_of(
    cache: FactsCache, path: str, rel: str, settings: Settings, locator: AppLocator, module: str | None
) -> ModuleFacts | None:
    if cache.file is None:  # no cache (--no-cache): nothing to key
        try:
            return extract(path, settings, locator, module)
        except Exception:  # noqa: BLE001 - one odd file must not stop the run; it adds no facts
            return None
    facts = cache.get(path, rel, module)
    if facts is None:
        before = snapshot(path)  # before the read: an edit during the run shows as a new stat
        locator.touched = set()
        try:
            facts = extract(path, settings, locator, module)
        except Exception:  # noqa: BLE001 - one odd file must not stop the run; it adds no facts
            facts = None
        stat = before if before is not None and current_stat(path) == before else None
        here = os.path.abspath(path)
        cache.put(rel, stat, module, facts, {dep for dep in locator.touched if os.path.abspath(dep) != here})
    return facts


class ImportGraph(Mapping[str, list[str]]):
    """Every module of the project -> what it can import (``imports.scan_imports``), read
    only for the modules a worker's imports reach (``registration``): nothing when
    discovery already decides that nothing can be told (saleor), and kept in the facts
    cache beside each entry (under its stat) for the next run."""

    def __init__(self, cache: FactsCache) -> None:
        self.cache = cache
        self.files: dict[str, tuple[str, str]] = {}
        self._read: dict[str, list[str]] = {}

    def add(self, module: str, path: str, rel: str) -> None:
        self.files.setdefault(module, (path, rel))

    def __getitem__(self, module: str) -> list[str]:
        known = self._read.get(module)
        if known is not None:
            return known
        path, rel = self.files[module]
        found = self.cache.imports(rel)
        if found is None:
            found = _read_imports(path, module)
            self.cache.put_imports(rel, found)
        self._read[module] = found
        return found

    def __contains__(self, module: object) -> bool:
        return module in self.files

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def _read_imports(path: str, module: str) -> list[str]:
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return ["*"]  # not read: it may import anything
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return ["*"]
    if b"\x00" in data:
        return []  # not Python that runs
    return scan_imports(data, module, os.path.basename(path) == "__init__.py")


def _merge(
    settings: Settings, modules: dict[str, ModuleFacts], packages: set[str], graph: Mapping[str, list[str]] | None = None
) -> ProjectIndex:
    """The project index of every file's facts, with the settings of config modules."""
    # Plain config modules named by `config_from_object("proj.celeryconfig")`: their
    # lowercase setting names (they need not mention Celery, so the needles miss them).
    loaded = {m for facts in modules.values() for m in facts.config_modules}
    for module in sorted(loaded):
        path = _module_path(module, settings)
        if path is None:
            continue
        rel = relative_posix(path, settings.project_root)
        config = _config_module_facts(path)
        if config:
            known = modules.get(rel) or ModuleFacts(module=module)
            modules[rel] = dataclasses.replace(known, settings={**known.settings, **config})
    if settings.test_code == "lenient":
        # Tasks of test modules are never deployed: not names the project serves (CLY408),
        # not duplicates of its tasks (CLY103).
        modules = {
            rel: dataclasses.replace(facts, tasks=[]) if facts.tasks and is_test_module(rel) else facts
            for rel, facts in modules.items()
        }
    # A project under `src/` without a `src` setting: its packages sit one level down.
    packages = packages | {rel.split("/")[1] for rel in modules if rel.startswith("src/") and rel.count("/") >= 2}
    index = ProjectIndex(settings.project_root, modules, settings.external_tasks, packages)
    index.worker_queues = settings.worker_queues
    index.registration = registration(
        graph or {},
        [
            (facts.module, record)
            for rel, facts in sorted(modules.items())
            if facts.module and not is_test_module(rel)
            for record in facts.discovery
        ],
        [
            (facts.module, facts.installed_apps)
            for rel, facts in sorted(modules.items())
            if facts.module and facts.installed_apps is not None and not is_test_module(rel)
        ],
        index.config,
        [w.app for w in index.workers if w.app],
    )
    return index


def _module_path(module: str, settings: Settings) -> str | None:
    relative = Path(*module.split("."))
    for base in (settings.project_root, *settings.src_roots(), settings.project_root / "src"):
        for candidate in (base / relative.with_suffix(".py"), base / relative / "__init__.py"):
            if candidate.is_file():
                return str(candidate)
    return None


def _config_module_facts(path: str) -> dict[str, list[Any]]:
    """Module-level ``task_routes = ...``-style assignments of a Celery config module."""
    try:
        tree = parse_file(path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    found: dict[str, list[Any]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    key = setting_name(target.id)
                    if key in INDEXED_SETTINGS:
                        found[key] = [ast_literal(node.value), node.lineno]
    return found


