"""Reading Python sources: bytes to text as Python decodes them, text to trees (CPython's
``ast`` and libcst, with the guards libcst needs), files to module names.

Shared by the project index (``ast``, and libcst for syntax newer than the running
Python) and the engine, which parses each linted file once through :func:`parse_module`.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import libcst as cst

from ..config.stamp import memo_usable, settled, stat_key
from .needles import MAX_FILE_BYTES


def quiet_ast_parse(source: str | bytes) -> ast.Module:
    """``ast.parse`` without printing SyntaxWarnings about the user's code to stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


#: path -> (stat key, tree) of files read by path (app modules, helpers, config modules)
_FILE_TREES: dict[str, tuple[tuple[int, int, int, int], ast.Module]] = {}
_FILE_TREES_LIMIT = 256


def parse_file(path: str) -> ast.Module:
    """:func:`quiet_ast_parse` of a file, remembered while its mtime, ctime, size and inode
    stay the same (callers must not change the tree). The files that resolve an app or a
    helper (``from proj.celery import app``) are read for every file that imports them, and
    the daemon's forked runs inherit what their server read. Raises what ``open`` and
    ``ast.parse`` raise."""
    st = os.stat(path)
    if st.st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path} is over the size limit")  # callers treat it as unreadable
    key = stat_key(st)
    known = _FILE_TREES.get(path) if memo_usable() else None
    if known is not None and known[0] == key:
        return known[1]
    with open(path, "rb") as handle:
        tree = quiet_ast_parse(handle.read())
    if settled(st) and memo_usable():
        if len(_FILE_TREES) >= _FILE_TREES_LIMIT:
            _FILE_TREES.pop(next(iter(_FILE_TREES)))
        _FILE_TREES[path] = (key, tree)
    return tree




class ModuleNames:
    """:func:`module_name_for` of many files, each directory's package chain looked up
    once (a cache checks every file's module name on every run: adding or removing an
    ``__init__.py`` renames modules, and with them the task names Celery generates).
    Holds answers for one run only."""

    def __init__(self, src_roots: tuple[Path, ...] = ()) -> None:
        self.src_roots = src_roots
        self._roots = sorted((str(root) for root in src_roots), key=len, reverse=True)
        self._packages: dict[str, list[str]] = {}
        self._prefixes: dict[str, str | None] = {}
        self._names: dict[str, str | None] = {}

    def __call__(self, path: str) -> str | None:
        """:func:`module_name_for`, with ``os.path`` instead of ``pathlib`` and each
        directory's dotted prefix computed once (a warm run asks for every file of the
        project twice: pathlib made that a fifth of the run)."""
        known = self._names.get(path, "")
        if known != "":
            return known
        absolute = os.path.abspath(path)
        directory, name = os.path.split(absolute)
        module: str | None = None
        if name.endswith(".py") and name != ".py":
            stem = name[:-3]
            root = next((r for r in self._roots if absolute.startswith(r + os.sep)), None)
            if root is not None:
                parts = absolute[len(root) + 1 : -3].split(os.sep)
                if parts[-1] == "__init__":
                    parts.pop()
                module = ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None
            else:
                prefix = self._prefix(directory)
                if stem == "__init__":
                    module = prefix[:-1] or None if prefix is not None else None
                elif prefix is not None and stem.isidentifier():
                    module = prefix + stem
        self._names[path] = module
        return module

    def _prefix(self, directory: str) -> str | None:
        """``"shop.billing."`` for a directory of that package, ``""`` outside any, None
        when a package name on the way is not an identifier."""
        known = self._prefixes.get(directory, "-")
        if known != "-":
            return known
        chain = _package_chain(directory, self._packages)
        prefix = "".join(f"{part}." for part in chain) if all(p.isidentifier() for p in chain) else None
        self._prefixes[directory] = prefix
        return prefix


def module_name_for(
    path: str | Path, src_roots: tuple[Path, ...] = (), packages: dict[str, list[str]] | None = None
) -> str | None:
    """The dotted module name Python (and so Celery) gives ``path``.

    A file under a configured ``src`` root gets its path relative to that root; otherwise
    walk up while the directory holds an ``__init__.py`` (or is a directory without one
    directly inside a package: an implicit namespace portion). ``pkg/__init__.py`` is
    ``pkg``.
    Returns None when the path cannot be a module name (no ``.py`` suffix, a name that is
    not an identifier).
    """
    absolute = Path(os.path.abspath(path))
    if absolute.suffix != ".py":
        return None
    parts: list[str] | None = None
    for root in sorted(src_roots, key=lambda r: len(r.parts), reverse=True):
        try:
            relative = absolute.relative_to(root)
        except ValueError:
            continue
        parts = list(relative.with_suffix("").parts)
        break
    if parts is None:
        parts = [*_package_chain(str(absolute.parent), packages), absolute.stem]
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def module_name_certain(path: str | Path, src_roots: tuple[Path, ...], project_root: Path) -> bool:
    """Is :func:`module_name_for` the name a worker imports ``path`` under, whatever its
    ``sys.path``? Yes when the file's top-level package (or the file itself) sits in the
    project root (or above it: a project root inside the package), in a ``src`` root, or
    in a ``src/`` directory of the project root (the src layout). A module in a plain directory (``scripts/jobs.py``, no ``__init__.py``) is
    ``jobs`` with ``scripts/`` on ``sys.path`` but ``scripts.jobs`` when the worker runs
    from the project root: Celery's generated name depends on how it is started."""
    absolute = os.path.abspath(path)
    roots = {str(root) for root in src_roots}
    if any(absolute.startswith(root + os.sep) for root in roots):
        return True
    directory = os.path.dirname(absolute)
    chain = _package_chain(directory, None)
    base = directory
    for _ in chain:
        base = os.path.dirname(base)
    root = str(project_root.resolve()) if isinstance(project_root, Path) else os.path.abspath(project_root)
    if not base.startswith(root + os.sep):
        return True  # the project root or above it (a root inside the package): no other reading
    return base == os.path.join(root, "src")


def _package_chain(directory: str, known: dict[str, list[str]] | None) -> list[str]:
    """The package names a directory's modules sit under (``["shop", "billing"]``).

    A directory is part of the module path when it is a package, or a namespace portion
    inside one (`readthedocs/projects/tasks/` without `__init__.py` under the package
    `readthedocs/projects/` imports as `readthedocs.projects.tasks`)."""
    if known is not None and directory in known:
        return known[directory]
    parent = os.path.dirname(directory)
    if parent != directory and (
        os.path.isfile(os.path.join(directory, "__init__.py")) or os.path.isfile(os.path.join(parent, "__init__.py"))
    ):
        chain = [*_package_chain(parent, known), os.path.basename(directory)]
    else:
        chain = []
    if known is not None:
        known[directory] = chain
    return chain


def resolve_relative(module: str, level: int, current: str | None, is_package: bool) -> str:
    """Absolute name of ``from <level dots><module> import ...`` inside ``current``."""
    if level == 0:
        return module
    if current is None:
        return "." * level + module
    package = current.split(".") if is_package else current.split(".")[:-1]
    if level - 1 > len(package):
        return "." * level + module
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def import_source(node: ast.ImportFrom, module: str | None, path: str) -> str | None:
    """The absolute module a ``from ... import`` in ``path`` (module ``module``) reads
    from; None for a relative import that cannot be resolved there."""
    name = resolve_relative(node.module or "", node.level, module, os.path.basename(path) == "__init__.py")
    return None if name.startswith(".") else name


def bind_imports(node: ast.Import | ast.ImportFrom, imports: dict[str, str], module: str | None, path: str) -> None:
    """Add what an import statement binds to ``imports`` (local name -> dotted name)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            top = alias.name.split(".")[0]
            imports[alias.asname or top] = alias.name if alias.asname else top
        return
    source = import_source(node, module, path)
    if source is None:
        return
    for alias in node.names:
        if alias.name != "*":
            imports[alias.asname or alias.name] = f"{source}.{alias.name}" if source else alias.name


# ---------------------------------------------------------------------------
# parsing


def _no_validation(self: cst.CSTNode) -> None:
    return None


def parse_module(text: str) -> cst.Module:
    """``cst.parse_module`` without re-validating every node the parser builds.

    Each libcst node's ``__post_init__`` runs ``_validate()``, about a tenth of a parse
    (readthedocs.org's ``projects/models.py``: 0.19 -> 0.17 s); the parser's output is
    valid by construction (libcst's own comment there:
    "avoid validating the tree when parsing a file"). Validation is off only while the
    parser runs, so nodes that fixes build are still validated. Not thread-safe: the
    engine lints one file at a time per process.
    """
    original = cst.CSTNode.__dict__.get("__post_init__")
    if original is None:  # a libcst that validates elsewhere
        return cst.parse_module(text)
    cst.CSTNode.__post_init__ = _no_validation  # type: ignore[method-assign]
    try:
        return cst.parse_module(text)
    finally:
        cst.CSTNode.__post_init__ = original  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# decoding


class SourceError(Exception):
    """A file that cannot be linted; the message becomes a CLY000 finding."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def decode_source(data: bytes) -> str:
    """Decode bytes as Python does (BOM, coding cookie, default UTF-8)."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceError("file contains a NUL byte; Python cannot compile it", line)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot determine the file's encoding: {exc.msg}") from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = 1
        if isinstance(exc, UnicodeDecodeError):
            line = data[: exc.start].count(b"\n") + 1
        raise SourceError(f"cannot decode the file as {encoding}: {exc}", line) from None
    return text[1:] if text.startswith("\ufeff") else text


# ---------------------------------------------------------------------------
# parser safety
#
# libcst's native parser overflows its stack (a segfault: no exception, the process
# dies) on deeply nested code, and takes seconds on nesting Python itself barely accepts
# (measured with libcst 1.9: 2,000 nested parentheses or 10,000 `and` operands crash;
# a 2,000-term `a + a + ...` takes 1.3 s). Files that could be like that are checked with
# CPython's own parser first; ordinary files skip the check.

#: libcst crashed between 6,000 and 10,000 `and`/`or` operands; CPython accepts any number.
MAX_BOOL_OPERANDS = 5_000
#: Deeper ASTs are not linted (CPython's own limit is about 3,000).
MAX_AST_DEPTH = 500
_BRACKETS = re.compile(r"[()\[\]{}]")


def may_be_pathological(text: str, lines: Sequence[str]) -> bool:
    if len(text) > 100_000 or text.count(" and ") + text.count(" or ") > 2_000:
        return True
    if any(len(line) > 2_000 for line in lines):
        return True
    depth = deepest = 0
    for bracket in _BRACKETS.findall(text):
        depth = depth + 1 if bracket in "([{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest > 150


def check_parser_safety(text: str, tree: ast.Module | None = None) -> ast.Module:
    """Raise SourceError for code libcst must not be given (see above); the ``ast`` otherwise.

    ``tree``: the text's ``ast`` when the caller has it (flake8 hands one over), so the
    text is not parsed again (about 0.03 s for a 100 KB file).
    """
    try:
        if tree is None:
            tree = quiet_ast_parse(text)
    except SyntaxError as exc:
        raise SourceError(f"syntax error at line {exc.lineno}: {exc.msg}", exc.lineno or 1, exc.offset or 1) from None
    except (RecursionError, MemoryError):
        raise SourceError("code is nested too deeply for Python's parser") from None
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_AST_DEPTH:
            line = getattr(node, "lineno", 1)
            raise SourceError(f"code is nested more than {MAX_AST_DEPTH} levels deep; not linted", line)
        if isinstance(node, ast.BoolOp) and len(node.values) > MAX_BOOL_OPERANDS:
            raise SourceError(f"a boolean expression has more than {MAX_BOOL_OPERANDS} operands; not linted", node.lineno)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree


def syntax_error(text: str, exc: cst.ParserSyntaxError) -> SourceError:
    """The error as CPython words it (libcst points at the token after the mistake)."""
    try:
        quiet_ast_parse(text)
    except SyntaxError as cpython:
        return SourceError(f"syntax error at line {cpython.lineno}: {cpython.msg}", cpython.lineno or 1, cpython.offset or 1)
    except (RecursionError, MemoryError):
        return SourceError("code is nested too deeply for Python's parser")
    # Python accepts it but libcst does not: a parser limitation, say so.
    return SourceError(
        f"libcst cannot parse this file (Python can): line {exc.raw_line}: {exc.message}", exc.raw_line, exc.raw_column + 1
    )


# ---------------------------------------------------------------------------
# statements (ast)


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def statements(body: list[ast.stmt], *, skip: tuple[type, ...] = ()) -> Iterable[ast.stmt]:
    """Every statement, nested bodies included (functions, classes, if/try/with/for/match),
    except the bodies of the ``skip`` statement types: with :data:`DEFINITIONS`, the
    statements of Python's module scope (the bodies of ``if``, ``try``, ``with``, ``for``)."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, skip):
            continue
        children: list[ast.stmt] = []
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                children.extend(block)
        for handler in getattr(node, "handlers", ()):
            children.extend(handler.body)
        for case in getattr(node, "cases", ()):
            children.extend(case.body)
        stack.extend(reversed(children))
