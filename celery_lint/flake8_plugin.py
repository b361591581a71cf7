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
from pathlib import Path
from typing import Any, ClassVar, Iterator, Sequence

from . import __version__
from .config import ConfigError, Settings, load_settings, settings_from_mapping
from .engine import Engine
from .rules import FILE_NOT_PARSED

# flake8 option -> [tool.celery-lint] key; list-valued ones are comma separated.
_OPTIONS: dict[str, tuple[str, bool, str]] = {
    "--celery-task-name-prefixes": ("task-name-prefixes", True, "accepted task name prefixes (CLY102)"),
    "--celery-task-name-pattern": ("task-name-pattern", False, "regex task names must match (CLY102)"),
    "--celery-require-queue": ("require-queue", False, "auto, always or off (CLY401)"),
    "--celery-ignore-result-mode": ("ignore-result-mode", False, "no-return, strict or off (CLY502)"),
    "--celery-bind-parameter-names": ("bind-parameter-names", True, "names accepted for the bound parameter (CLY106)"),
    "--celery-extra-task-options": ("extra-task-options", True, "task option names your Task classes read (CLY201)"),
    "--celery-non-idempotent-calls": ("non-idempotent-calls", True, "more non-idempotent call patterns (CLY306/CLY307)"),
    "--celery-external-tasks": ("external-tasks", True, "task names served by other services (globs)"),
    "--celery-target-version": ("target-version", False, "Celery release to check against, e.g. 5.4"),
    "--celery-src": ("src", True, "source roots for module names"),
    "--celery-visibility-timeout": ("visibility-timeout", False, "broker visibility timeout in seconds (CLY405)"),
}


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


def _engine_for(settings: Settings) -> Engine:
    """The engine with the project index, built once per flake8 run.

    flake8 parses options in its main process before starting worker processes, which
    inherit the engine (fork); elsewhere each worker builds it, reading the index's
    on-disk cache (one ``stat`` per file when nothing changed).
    """
    from .cache import CACHE_DIR_NAME
    from .cli import project_index

    return Engine(settings, index=project_index(settings, settings.project_root / CACHE_DIR_NAME))


class CeleryLintPlugin:
    """flake8 entry point ``CLY``."""

    name = "celery-lint"
    version = __version__
    _engine: ClassVar[Engine | None] = None

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

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        try:
            base = load_settings(Path.cwd())
            cls._engine = _engine_for(settings_from_flake8(options, base))
        except ConfigError as exc:
            from flake8.exceptions import ExecutionError

            raise ExecutionError(f"celery-lint: {exc}") from None

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        engine = type(self)._engine
        if engine is None:  # used outside flake8's option parsing (tests, other tools)
            engine = type(self)._engine = _engine_for(load_settings(Path.cwd()))
        try:
            result = engine.lint_text("".join(self.lines), self.filename, self.tree)
        except Exception as exc:  # noqa: BLE001 - a plugin must never take flake8 down
            yield 1, 0, f"{FILE_NOT_PARSED.code} internal error in celery-lint: {type(exc).__name__}: {exc}", type(self)
            return
        for finding in result.findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
