"""flake8 adapter: flake8 options -> Settings, engine findings -> flake8 tuples.

The plugin reads the same ``[tool.celery-lint]`` table as the CLI (from the nearest
pyproject.toml above the working directory) and its ``--celery-*`` options override it,
so both front doors report the same findings. flake8 itself handles ``--select``,
``--ignore``, ``--per-file-ignores`` and ``# noqa``. Off-by-default rules are emitted when
flake8's ``--select``/``--extend-select`` names them more specifically than ``CLY``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Iterator, Sequence

from .. import __version__
from ..run.cache import (
    CACHE_DIR_NAME,
    deps_stats,
    deps_unchanged,
    dump_findings,
    fingerprint,
    load_findings,
    prepare_directory,
)
from ..config.settings import ConfigError, Hierarchy, Settings, load_settings, settings_from_mapping
from ..config.stamp import begin_run
from ..model.graph_store import GraphStore
from ..model.source import ModuleNames
from ..engine.core import Engine, Finding
from ..engine.suppression import exempted
from ..rules import FILE_NOT_PARSED
from ..run.ignore import Selection
from ..run.project import project_index

# flake8 option -> [tool.celery-lint] key; list-valued ones are comma separated.
_OPTIONS: dict[str, tuple[str, bool, str]] = {
    "--celery-task-name-prefixes": ("task-name-prefixes", True, "accepted task name prefixes (CLY102)"),
    "--celery-task-name-pattern": ("task-name-pattern", False, "regex task names must match (CLY102)"),
    "--celery-require-queue": ("require-queue", False, "auto, always or off (CLY401)"),
    "--celery-ignore-result-mode": ("ignore-result-mode", False, "no-return, strict or off (CLY502)"),
    "--celery-result-backend": ("result-backend", False, "auto, configured or none: are task results stored (CLY402/CLY502)"),
    "--celery-helper-depth": ("helper-depth", False, "how many calls deep project functions are followed (0: none)"),
    "--celery-test-code": ("test-code", False, "lenient or strict: which rules run in test modules"),
    "--celery-bind-parameter-names": ("bind-parameter-names", True, "names accepted for the bound parameter (CLY106)"),
    "--celery-extra-task-options": ("extra-task-options", True, "task option names your Task classes read (CLY201)"),
    "--celery-non-idempotent-calls": ("non-idempotent-calls", True, "more non-idempotent call patterns (CLY306/CLY307)"),
    "--celery-external-tasks": ("external-tasks", True, "task names served by other services (globs)"),
    "--celery-worker-queues": ("worker-queues", True, "queues consumed by workers the repository does not show (CLY409)"),
    "--celery-target-version": ("target-version", False, "Celery release to check against, e.g. 5.4"),
    "--celery-src": ("src", True, "source roots for module names"),
    "--celery-visibility-timeout": ("visibility-timeout", False, "broker visibility timeout in seconds (CLY405)"),
}
#: Not a [tool.celery-lint] key: the flake8 plugin's own result cache switch.
NO_CACHE_OPTION = "--celery-no-cache"


def settings_from_flake8(options: argparse.Namespace, base: Settings) -> Settings:
    """Overlay flake8's ``--celery-*`` options (and off-rule selections) on ``base``."""
    table: dict[str, Any] = {}
    for flag, (key, is_list, _) in _OPTIONS.items():
        value = getattr(options, _dest(flag), None)
        if value in (None, [], ""):
            continue
        table[key] = list(value) if is_list else value
    overlay = settings_from_mapping(table, project_root=base.project_root, config_file=base.config_file)
    changes = {key_attr: getattr(overlay, key_attr) for key_attr in _changed_fields(table)}
    selectors = [*(getattr(options, "select", None) or ()), *(getattr(options, "extend_select", None) or ())]
    specific = tuple(s for s in selectors if s.startswith("CLY") and len(s) > 3)
    if specific:
        changes["extend_select"] = base.extend_select + specific
    return base.replace(**changes)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _changed_fields(table: dict[str, Any]) -> list[str]:
    return [key.replace("-", "_") for key in table]


def _engine_for(settings: Settings, cache: bool = True) -> Engine:
    """The engine with the project index, built once per flake8 run.

    flake8 parses options in its main process before starting worker processes, which
    inherit the engine (fork); elsewhere each worker builds it, reading the index's
    on-disk cache (one ``stat`` per file when nothing changed).
    """
    cache_dir = settings.project_root / CACHE_DIR_NAME if cache else None  # `--celery-no-cache`: no cache at all
    engine = Engine(settings, index=project_index(settings, cache_dir))
    if cache_dir is not None:
        # the CLI's call graph entries, read only: flake8's workers cannot hand theirs back
        engine.graph.store = GraphStore(cache_dir, write=False)
    return engine


_SELECTIONS: dict[int, Selection] = {}


def _selection(engine: Engine) -> Selection:
    """The file selection of the engine's settings (one per engine: its .gitignore reads
    are remembered for the run)."""
    known = _SELECTIONS.get(id(engine))
    if known is None or known.settings is not engine.settings:
        known = _SELECTIONS[id(engine)] = Selection(engine.settings)
    return known


class FindingsCache:
    """The plugin's findings for the files it parses, kept between flake8 runs.

    flake8 has no end-of-run hook for a plugin, and its workers are separate processes,
    so each entry is its own small JSON file, written when a file is linted:
    ``.celery_lint_cache/flake8-<fingerprint>/<hash of the path>.json``, holding the hash of
    the path and text it was computed for, the findings, and the stat of each other file
    they depended on (an app module read to resolve ``from proj.celery import app``). The
    fingerprint covers celery-lint's version and code, the settings, the enabled rules and
    the project index, so an entry is used only for the same path, the same text and the
    same project facts. Only files that pass the prefilter (the ones parsed) have entries;
    one entry per path is kept, and at most :data:`KEEP_FINGERPRINTS` fingerprint
    directories. Unreadable or corrupt entries are ignored; unwritable directories only
    cost time. ``--celery-no-cache`` turns it off.
    """

    KEEP_FINGERPRINTS = 4

    def __init__(self, root: Path, engine: Engine) -> None:
        index = engine.index
        key = fingerprint(engine.settings, [r.code for r in engine.rules], index.digest() if index is not None else "")
        self.base = root / CACHE_DIR_NAME
        self.directory = self.base / f"flake8-{key}"
        self.module_of = ModuleNames(engine.settings.src_roots())
        self._prepared = False

    def digest(self, path: str, text: str) -> str:
        """The key of an entry: the path, the module name it gives now (an ``__init__.py``
        added renames the module and its tasks) and the text."""
        module = self.module_of(path) or ""
        return hashlib.sha256(f"{path}\0{module}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()

    def _entry(self, path: str) -> Path:
        return self.directory / (hashlib.sha256(os.path.abspath(path).encode("utf-8", "surrogatepass")).hexdigest()[:32] + ".json")

    def get(self, path: str, digest: str) -> list[Finding] | None:
        try:
            with open(self._entry(path), encoding="utf-8") as handle:
                entry = json.loads(handle.read())
            if entry.get("hash") != digest or not deps_unchanged(entry.get("deps", {})):
                return None
            return load_findings(entry.get("findings"), path)
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    def put(self, path: str, digest: str, findings: Sequence[Finding], deps: Sequence[str]) -> None:
        entry = {"hash": digest, "deps": deps_stats(deps), "findings": dump_findings(findings)}
        try:
            if not self._prepared:
                self._prepare()
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(entry))
            os.replace(tmp, self._entry(path))
        except OSError:
            pass

    def _prepare(self) -> None:
        """Create this fingerprint's directory; drop the oldest others beyond the limit."""
        self._prepared = True
        if self.directory.is_dir():
            return
        prepare_directory(self.base)
        self.directory.mkdir(exist_ok=True)
        others = sorted(
            (d for d in self.base.glob("flake8-*") if d != self.directory and d.is_dir()),
            key=lambda d: d.stat().st_mtime,
        )
        for old in others[: max(0, len(others) - (self.KEEP_FINGERPRINTS - 1))]:
            shutil.rmtree(old, ignore_errors=True)


class CeleryLintPlugin:
    """flake8 entry point ``CLY``."""

    name = "celery-lint"
    version = __version__
    _engine: ClassVar[Engine | None] = None
    _cache: ClassVar[FindingsCache | None] = None
    #: The nearest configuration of each file (as the CLI), and an engine (with its
    #: findings cache) per configuration met: built when its first file is linted.
    _hierarchy: ClassVar[Hierarchy | None] = None
    _governed: ClassVar[dict[int, tuple[Engine, FindingsCache | None]]] = {}
    _no_cache: ClassVar[bool] = False

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        self.tree = tree if isinstance(tree, ast.Module) else None
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager: Any) -> None:
        for flag, (key, is_list, help_text) in _OPTIONS.items():
            manager.add_option(
                flag,
                default=None,
                parse_from_config=True,
                comma_separated_list=is_list,
                help=f"celery-lint: {help_text} (overrides `{key}` in [tool.celery-lint])",
            )
        manager.add_option(
            NO_CACHE_OPTION,
            action="store_true",
            default=False,
            parse_from_config=True,
            help="celery-lint: do not read or write its findings cache (.celery_lint_cache/flake8-*)",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        try:
            no_cache = getattr(options, _dest(NO_CACHE_OPTION), False)
            begin_run(caches=not no_cache)  # what the caches may trust by stat is judged against this moment
            base = load_settings(Path.cwd())
            engine = cls._engine = _engine_for(settings_from_flake8(options, base), cache=not no_cache)
            cls._cache = None if no_cache else FindingsCache(engine.settings.project_root, engine)
            cls._no_cache = no_cache
            cls._hierarchy = Hierarchy(engine.settings, lambda loaded: settings_from_flake8(options, loaded))
            cls._governed = {id(engine.settings): (engine, cls._cache)}
        except ConfigError as exc:
            from flake8.exceptions import ExecutionError

            raise ExecutionError(f"celery-lint: {exc}") from None

    @classmethod
    def _engine_of(cls, filename: str) -> tuple[Engine, FindingsCache | None]:
        """The engine of the configuration that governs ``filename`` (the nearest
        ``pyproject.toml`` with a table, as in the CLI)."""
        if cls._engine is None:  # used outside flake8's option parsing (tests, other tools)
            cls._engine = _engine_for(load_settings(Path.cwd()))
        if cls._hierarchy is None:
            return cls._engine, cls._cache
        settings = cls._hierarchy.settings_for(filename)
        known = cls._governed.get(id(settings))
        if known is None:
            engine = _engine_for(settings, cache=not cls._no_cache)
            cache = None if cls._no_cache else FindingsCache(settings.project_root, engine)
            known = cls._governed[id(settings)] = (engine, cache)
        return known

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        text = "".join(self.lines)
        try:
            engine, cache = self._engine_of(self.filename)
        except ConfigError as exc:  # a nested configuration that is broken: said at its files
            yield 1, 0, f"{FILE_NOT_PARSED.code} celery-lint configuration error: {exc}", type(self)
            return
        try:
            if _selection(engine).excluded(self.filename):
                return  # `exclude`, `extend-exclude`, .gitignore: as the CLI with --force-exclude
            if not engine.active_rules(text, self.filename):
                return  # the prefilter: nothing here can be reported (no parse, no cache)
            digest = cache.digest(self.filename, text) if cache is not None else ""
            findings = cache.get(self.filename, digest) if cache is not None else None
            if findings is None:
                result = engine.lint_text(text, self.filename, self.tree)
                findings = result.findings
                if cache is not None and os.path.isfile(self.filename):
                    cache.put(self.filename, digest, findings, sorted(engine.apps.touched))
        except Exception as exc:  # noqa: BLE001 - a plugin must never take flake8 down
            yield 1, 0, f"{FILE_NOT_PARSED.code} internal error in celery-lint: {type(exc).__name__}: {exc}", type(self)
            return
        for finding in exempted(findings, self.lines, flake8=False):  # `# celery-lint: noqa` (flake8 reads its own)
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
