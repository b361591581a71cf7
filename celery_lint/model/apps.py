"""Which project modules make a Celery app: ``from saleor.celeryconf import app`` counts.

RULES.md: ``<app>.task`` is a task decorator when ``<app>`` is a ``Celery(...)`` instance
made in the file or imported from a module that makes one. A module named
``celery``/``celery_app``/``worker`` is trusted by its name; any other project module is
looked up on disk and read with :mod:`ast` (never imported), once per run.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from .celery_api import APP_MODULE_NAMES
from .source import parse_file

_MAX_HOPS = 3


class AppLocator:
    """Answers "does project module M define (or re-export) a Celery app named N?"."""

    def __init__(self, src_roots: tuple[Path, ...] = ()) -> None:
        self.src_roots = src_roots
        self._apps: dict[str, frozenset[str]] = {}
        self._deps: dict[str, frozenset[str]] = {}
        self._calls: dict[tuple[str, str], list[str] | None] = {}
        #: Files read (directly or through re-exports) for the file being linted: its
        #: findings depend on them, so the cache must too.
        self.touched: set[str] = set()

    def defines_app(self, module: str, name: str, importer: str, importer_module: str | None) -> bool:
        path = self._module_file(module, importer, importer_module)
        if path is None:
            return False
        names = self._app_names(path, module, 0)
        self.touched.update(self._deps.get(path, (path,)))
        return name in names

    def function_calls(self, qualified: str, importer: str, importer_module: str | None) -> list[str] | None:
        """Dotted names (through that module's imports) of the calls a project function makes.

        ``qualified`` is ``module.function``; None when it is not a top-level function of a
        project module. Read with :mod:`ast`, never imported; the file joins ``touched``.
        """
        module, _, name = qualified.rpartition(".")
        if not module or module == "celery" or module.startswith("celery."):
            return None
        path = self._module_file(module, importer, importer_module)
        if path is None:
            return None
        self.touched.add(path)
        key = (path, name)
        if key not in self._calls:
            self._calls[key] = _calls_of(path, module, name)
        return self._calls[key]

    def _module_file(self, module: str, importer: str, importer_module: str | None) -> str | None:
        bases: list[Path] = list(self.src_roots)
        if importer_module:
            # the directory holding the importer's top-level package
            bases.append(Path(os.path.abspath(importer)).parents[importer_module.count(".")])
        relative = Path(*module.split("."))
        for base in bases:
            for candidate in (base / relative.with_suffix(".py"), base / relative / "__init__.py"):
                if candidate.is_file():
                    return str(candidate)
        return None

    def _app_names(self, path: str, module: str, hops: int) -> frozenset[str]:
        cached = self._apps.get(path)
        if cached is not None:
            return cached
        self._apps[path] = frozenset()  # cycles resolve to "no app"
        names: set[str] = set()
        deps: set[str] = {path}
        try:
            tree = parse_file(path)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            return frozenset()
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and _makes_app(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.ImportFrom) and hops < _MAX_HOPS:
                source = _absolute(node, module, path.endswith("__init__.py"))
                for alias in node.names:
                    if source.rpartition(".")[2] in APP_MODULE_NAMES and source != "celery":
                        names.add(alias.asname or alias.name)
                    else:
                        sub = self._module_file(source, path, module)
                        if sub is None:
                            continue
                        if alias.name in self._app_names(sub, source, hops + 1):
                            names.add(alias.asname or alias.name)
                        deps.update(self._deps.get(sub, (sub,)))
        result = frozenset(names)
        self._apps[path] = result
        self._deps[path] = frozenset(deps)
        return result


def _makes_app(value: ast.expr | None) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    return (isinstance(func, ast.Name) and func.id == "Celery") or (
        isinstance(func, ast.Attribute) and func.attr == "Celery"
    )


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
    return ".".join([*base, node.module] if node.module else base)


def _calls_of(path: str, module: str, function: str) -> list[str] | None:
    try:
        tree = parse_file(path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    imports: dict[str, str] = {}
    target = None
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                imports[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path.endswith("__init__.py"))
            for alias in node.names:
                imports[alias.asname or alias.name] = f"{source}.{alias.name}" if source else alias.name
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            target = node
    if target is None:
        return None
    calls = []
    for node in ast.walk(target):
        if isinstance(node, ast.Call):
            name = _dotted(node.func, imports)
            if name:
                calls.append(name)
    return calls


def _dotted(node: ast.AST, imports: dict[str, str]) -> str | None:
    """``requests.post`` / ``EmailMessage().send`` (calls become ``()``), through imports."""
    if isinstance(node, ast.Name):
        return imports.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, imports)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call):
        base = _dotted(node.func, imports)
        return f"{base}()" if base else None
    return None
