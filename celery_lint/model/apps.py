"""Which project modules make a Celery app: ``from saleor.celeryconf import app`` counts.

RULES.md: ``<app>.task`` is a task decorator when ``<app>`` is a ``Celery(...)`` instance
made in the file or imported from a module that makes one. A module named
``celery``/``celery_app``/``worker`` is trusted by its name; any other project module is
looked up on disk and read with :mod:`ast` (never imported), once per run.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

from .celery_api import APP_MODULE_NAMES
from .needles import MAX_FILE_BYTES
from .recognise import alias_of, is_app_class
from .source import DEFINITIONS, bind_imports, import_source, parse_file
from .values import UNKNOWN, ast_value
from .source import statements as source_statements

_MAX_HOPS = 3


class AppLocator:
    """Answers "does project module M define (or re-export) a Celery app named N?" and "is
    M.N something whose call makes an app?" (a ``Celery`` subclass, a factory function)."""

    def __init__(self, src_roots: tuple[Path, ...] = ()) -> None:
        self.src_roots = src_roots
        self._summaries: dict[str, _Summary] = {}
        #: (module, importer's directory, importer's module) -> its file (None: not in the project)
        self._files: dict[tuple[str, tuple[str, ...]], str | None] = {}
        #: (importer, its module) -> the directories its absolute imports are looked up in.
        self._bases: dict[tuple[str, str | None], tuple[str, ...]] = {}
        self._deps: dict[str, frozenset[str]] = {}
        #: (directory, top-level name) -> whether the directory holds that package or module
        self._heads: dict[tuple[str, str], bool] = {}
        self._constant_tables: dict[str, tuple[dict[str, ast.expr], dict[str, str]]] = {}
        self._binds: dict[tuple[str, str], bool] = {}
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

    def _bases_of(self, importer: str, importer_module: str | None) -> tuple[str, ...]:
        bases = self._bases.get((importer, importer_module))
        if bases is None:
            found = [str(root) for root in self.src_roots]
            if importer_module:
                # the directory holding the importer's top-level package
                # (a package's `__init__.py` sits one directory deeper than its dotted name says)
                depth = importer_module.count(".") + (os.path.basename(importer) == "__init__.py") + 1
                base = os.path.abspath(importer)
                for _ in range(depth):
                    base = os.path.dirname(base)
                found.append(base)
            bases = self._bases[(importer, importer_module)] = tuple(found)
        return bases

    def _module_file(self, module: str, importer: str, importer_module: str | None) -> str | None:
        """The file of ``module`` as ``importer`` (a module named ``importer_module``)
        would import it: under a ``src`` root or beside the importer's top-level package.
        Remembered per module and base directory (the importers of one project share it)."""
        bases = self._bases_of(importer, importer_module)
        key = (module, bases)
        if key not in self._files:
            self._files[key] = self._find_module_file(module, bases)
        return self._files[key]

    def _find_module_file(self, module: str, bases: tuple[str, ...]) -> str | None:
        relative = os.path.join(*module.split("."))
        head = module.partition(".")[0]
        for base in bases:
            if not self._holds(base, head):
                continue  # `django.db.models`: no `django` here (one stat per name and base)
            for candidate in (os.path.join(base, relative + ".py"), os.path.join(base, relative, "__init__.py")):
                if os.path.isfile(candidate):
                    return candidate
        return None

    def _holds(self, base: str, head: str) -> bool:
        key = (base, head)
        known = self._heads.get(key)
        if known is None:
            known = self._heads[key] = os.path.isdir(os.path.join(base, head)) or os.path.isfile(os.path.join(base, head + ".py"))
        return known

    def constant(self, qualified: str, importer: str, importer_module: str | None, hops: int = 0) -> Any:
        """The value of a module constant of the project (``shop.limits.SOFT``), folded with
        :func:`values.ast_value` through that module's own constants and imports (at most
        3 modules away); UNKNOWN when it is not one. The module joins ``touched``."""
        module, _, name = qualified.rpartition(".")
        if not module or hops > 3:
            return UNKNOWN
        path = self._module_file(module, importer, importer_module)
        if path is None:
            return UNKNOWN
        self.touched.add(path)
        table = self._constant_tables.get(path)
        if table is None:
            key = (path, name)
            if key not in self._binds:  # one read per module and name, not per evaluation
                self._binds[key] = _may_bind(path, name)
            if not self._binds[key]:
                return UNKNOWN  # no `NAME = ...` or import of it at the left margin: no parse
            table = self._constant_tables[path] = _constant_table(path, module)
        assignments, imports = table
        evaluating: set[str] = set()

        def name_value(local: str) -> Any:
            if local in assignments and local not in evaluating:
                evaluating.add(local)
                try:
                    return ast_value(assignments[local], name_value, qualname)
                finally:
                    evaluating.discard(local)
            if local in imports and local not in assignments:
                return self.constant(imports[local], path, module, hops + 1)  # type: ignore[arg-type]
            return UNKNOWN

        def qualname(node: ast.AST) -> str | None:
            dotted = _dotted(node, imports)
            return dotted if dotted and not dotted.endswith(")") else None

        return name_value(name) if name in assignments or name in imports else UNKNOWN

    def makes_app(self, module: str, name: str, importer: str, importer_module: str | None) -> bool:
        """Does project module M define ``name`` as something whose call makes an app: a
        subclass of ``Celery`` or a factory function returning one (Flask's ``make_celery``)?"""
        path = self._module_file(module, importer, importer_module)
        if path is None:
            return False
        summary = self._summary(path, module, 0)
        self.touched.update(self._deps.get(path, (path,)))
        return name in summary.makers

    def makes_app_here(self, path: str, module: str | None, name: str) -> bool:
        """The same question for a top-level name of the file ``path`` itself."""
        summary = self._summary(os.path.abspath(path), module or "", 0)
        self.touched.update(self._deps.get(os.path.abspath(path), ()))
        return name in summary.makers

    def _app_names(self, path: str, module: str, hops: int) -> frozenset[str]:
        return self._summary(path, module, hops).apps

    def _summary(self, path: str, module: str, hops: int) -> _Summary:
        cached = self._summaries.get(path)
        if cached is not None:
            return cached
        self._summaries[path] = _Summary(frozenset(), frozenset())  # cycles resolve to "no app"
        try:
            tree = parse_file(path)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            return self._summaries[path]
        deps: set[str] = {path}
        reader = _ModuleReader(self, path, module, hops, deps)
        summary = reader.read(tree)
        self._summaries[path] = summary
        self._deps[path] = frozenset(deps)
        return summary


class _Summary(NamedTuple):
    #: Module-level names bound to an app (made here, or imported from where one is made).
    apps: frozenset[str]
    #: Top-level names whose call makes an app: ``Celery`` subclasses and factory functions.
    makers: frozenset[str]


class _ModuleReader:
    """One project module's apps and app makers, read with ``ast`` in source order, with the
    decisions of ``recognise.py`` (the per-file context and the index make the same ones)."""

    def __init__(self, locator: AppLocator, path: str, module: str, hops: int, deps: set[str]) -> None:
        self.locator = locator
        self.path = path
        self.module = module
        self.hops = hops
        self.deps = deps
        self.imports: dict[str, str] = {}
        self.apps: set[str] = set()
        self.makers: set[str] = set()

    def read(self, tree: ast.Module) -> _Summary:
        statements = list(source_statements(tree.body, skip=DEFINITIONS))
        for node in statements:  # module-level imports count wherever they stand
            if isinstance(node, ast.Import):
                bind_imports(node, self.imports, self.module, self.path)
            elif isinstance(node, ast.ImportFrom):
                self._import_from(node)
        for node in statements:
            if isinstance(node, ast.ClassDef) and any(self._is_maker(base) for base in node.bases):
                self.makers.add(node.name)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and self._returns_app(node):
                self.makers.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if isinstance(node.value, ast.Call) and self._is_maker(node.value.func):
                    self.apps.update(names)
                elif alias_of(self._qualname(node.value)) is not None:  # `Celery = celery.Celery`
                    self.imports.update(dict.fromkeys(names, self._qualname(node.value)))
        return _Summary(frozenset(self.apps), frozenset(self.makers))

    def _import_from(self, node: ast.ImportFrom) -> None:
        source = import_source(node, self.module, self.path)
        if source is None:
            return  # a relative import that cannot be resolved from here
        for alias in node.names:
            local = alias.asname or alias.name
            self.imports[local] = f"{source}.{alias.name}" if source else alias.name
            if self.hops >= _MAX_HOPS or source == "celery" or source.startswith("celery."):
                continue
            if source.rpartition(".")[2] in APP_MODULE_NAMES:
                self.apps.add(local)  # trusted by the module's name (RULES.md)
                continue
            sub = self.locator._module_file(source, self.path, self.module)
            if sub is None:
                continue
            summary = self.locator._summary(sub, source, self.hops + 1)
            if alias.name in summary.apps:
                self.apps.add(local)  # a re-export
            if alias.name in summary.makers:
                self.makers.add(local)
            self.deps.update(self.locator._deps.get(sub, (sub,)))

    def _qualname(self, node: ast.AST) -> str | None:
        dotted = _dotted(node, self.imports)
        return dotted if dotted and not dotted.endswith("()") else None

    def _is_maker(self, func: ast.AST) -> bool:
        local = func.id if isinstance(func, ast.Name) else None
        return is_app_class(self._qualname(func)) or (local is not None and local in self.makers)

    def _returns_app(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        made: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and self._is_maker(node.value.func):
                made.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(function):
            if isinstance(node, ast.Return) and node.value is not None:
                value = node.value
                if isinstance(value, ast.Call) and self._is_maker(value.func):
                    return True
                if isinstance(value, ast.Name) and value.id in made:
                    return True
        return False


def _may_bind(path: str, name: str) -> bool:
    """Can the module bind ``name`` as a constant? A text search before any parse: most
    imported names a rule evaluates (a `base=` class, a function) are not assignments.
    Only the lines holding the name are looked at (``bytes.find``)."""
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return False
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    word = name.encode()
    binds = re.compile(
        rb"(?:" + re.escape(word) + rb"\s*(?::[^=\n]*)?=(?!=)"  # NAME = ... / NAME: int = ... at the margin
        rb"|[ \t]*(?:from|import)\b.*\b" + re.escape(word) + rb"\b"  # from x import NAME
        rb"|[ \t]+" + re.escape(word) + rb"\b[ \t]*(?:,|\)|as\b|\r?$)"  # from x import (\n    NAME,
        rb"|.*\bas[ \t]+" + re.escape(word) + rb"\b)"  # ... import X as NAME
    )
    at = data.find(word)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        line = data[start : end if end >= 0 else len(data)]
        if binds.match(line):
            return True
        at = data.find(word, (end if end >= 0 else len(data)) + 1) if end >= 0 else -1
    return False


def _constant_table(path: str, module: str) -> tuple[dict[str, ast.expr], dict[str, str]]:
    """A module's top-level ``NAME = value`` bindings (the last of each, as importers see
    it; a name also bound otherwise, by a def, a class or a loop, is left out) and imports."""
    try:
        tree = parse_file(path)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return {}, {}
    assignments: dict[str, ast.expr] = {}
    imports: dict[str, str] = {}
    other: set[str] = set()
    for node in source_statements(tree.body, skip=DEFINITIONS):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assignments[target.id] = node.value
                else:
                    other.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            assignments[node.target.id] = node.value
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bind_imports(node, imports, module, path)
        elif isinstance(node, (*DEFINITIONS, ast.For, ast.AugAssign, ast.With)):
            names = [node.name] if isinstance(node, DEFINITIONS) else [n.id for n in ast.walk(node.target if isinstance(node, (ast.For, ast.AugAssign)) else node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
            other.update(names)
    for name in other:
        assignments.pop(name, None)
    return assignments, imports


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
