"""Calls through project helpers, to any depth and across modules.

RULES.md: the rules that care about what a task does (CLY306, CLY307, CLY501, CLY603) and
CLY601 (a dispatch reached from a call inside a transaction) follow calls through the
project's own functions, bounded, and name the path:
``notify() -> send_receipt() -> django.core.mail.send_mail``.

The graph is built lazily, from the modules a query reaches: each is read once per run
with :mod:`ast` (never imported) into a :class:`ModuleSummary`, the calls each top-level
function makes, named through the module's imports and simple local bindings as the
per-file context names them (``msg = EmailMessage(...); msg.send()`` is
``django.core.mail.EmailMessage().send``). A query answers the shortest path, at most
:data:`MAX_DEPTH` functions long (``helper-depth``), from one call to a call that the
rule's *sink* accepts; answers are remembered per function and depth for the run, so the
work is bounded by the functions within that depth, however many calls lead there. Every module a query
reads joins the locator's ``touched`` set, which the findings cache stores with each
file's findings: an edit to any helper on the way re-lints the files that reach it.

Only module-level functions are nodes: methods (``self.notify()``), classes and callables
stored in variables are not followed. A call inside a ``lambda``, a nested function or
the arguments of ``on_commit(...)`` runs later, so it is marked ``deferred``.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from .apps import AppLocator
from .celery_api import CANVAS_CALLS, DISPATCH_METHODS, RESULT_WAIT_METHODS
from .needles import MAX_FILE_BYTES
from .source import DEFINITIONS, SourceError, bind_imports, decode_source, quiet_ast_parse, statements

#: How many calls deep a query follows helpers by default (``helper-depth``).
MAX_DEPTH = 4  # the deepest path reported on four real trees is 2 helpers; see README, Performance

#: An idempotency key in a string or a keyword (CLY306/CLY307 stay silent where one is shown).
IDEMPOTENCY_KEY = re.compile(r"idempotency[-_]key", re.IGNORECASE)
#: Methods that wait on a result (CLY501) and calls that make a group/chord result.
_ON_COMMIT = re.compile(r"(^|\.)on_commit$")
#: Lines as ``ast`` counts them (``str.splitlines`` also splits at form feeds).
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """``text``'s lines with their ends, as ``ast`` counts lines (``\n``, ``\r\n``, ``\r``;
    not the form feeds ``str.splitlines`` also splits at)."""
    if "\r" in text:
        return _LINES.findall(text)
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines
#: Nodes whose body runs later than the code around them.
_LATER = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef})
#: Context managers that bound everything inside them with a timeout (CLY603).
TIMEOUT_CONTEXTS = frozenset(
    {"eventlet.Timeout", "eventlet.timeout.Timeout", "gevent.Timeout", "gevent.timeout.Timeout", "func_timeout.func_timeout"}
)
#: The prefix of a call of a top-level function of the same module: ``.helper``.
LOCAL = "."


@dataclass(frozen=True)
class CallSite:
    """One call a function makes."""

    #: Dotted name through imports and bindings (calls become ``()``); ``.name`` for a
    #: top-level function of the same module.
    name: str
    line: int
    keywords: frozenset[str]
    positional: int
    #: ``**kwargs`` passed: any keyword may be there.
    star_kwargs: bool
    #: Keyword arguments whose value is the literal ``None``.
    none_keywords: frozenset[str]
    #: Inside ``with eventlet.Timeout(...)``/``gevent.Timeout``: a timeout of its own.
    bounded: bool
    #: Inside a ``lambda``, a nested function or ``on_commit(...)``'s arguments: runs later.
    deferred: bool


@dataclass(frozen=True)
class FunctionSummary:
    name: str
    path: str
    line: int
    calls: tuple[CallSite, ...]
    #: An idempotency key is visible (``idempotency_key=``, an ``Idempotency-Key`` header).
    idempotency_key: bool
    #: Lines that wait on a subtask's result, with what they do (CLY501).
    waits: tuple[tuple[int, str], ...]


class ModuleSummary:
    """One module's imports and top-level functions; a function's calls are read the
    first time a query reaches it (a query needs a few functions of most modules)."""

    def __init__(
        self,
        path: str,
        module: str | None,
        imports: dict[str, str] | LazyImports,
        defs: dict[str, ast.AST | tuple[int, int]],
        reader: _Reader | None,
        lines: list[str] | None = None,
        exact: Callable[[], ModuleSummary | None] | None = None,
        text: str | None = None,
    ) -> None:
        self.path = path
        self.module = module
        #: Module-level imports: local name -> dotted name.
        self.imports = imports
        #: Top-level functions: their node, or (first, last) line with ``lines`` the text.
        self._defs = defs
        self._lines = lines
        self._reader = reader
        #: For a skimmed module (:func:`skim`): the summary from a full parse, asked for
        #: when a function's lines do not parse alone (the skim cut in the wrong place).
        self._exact = exact
        self._text = text
        self._read: dict[str, FunctionSummary | None] = {}
        self._mentions: dict[tuple[str | None, tuple[str, ...]], bool] = {}

    def defines(self, name: str) -> bool:
        return name in self._defs

    def mentions(self, name: str, words: tuple[str, ...], whole_module: bool) -> bool:
        """Can function ``name`` make a call that holds one of ``words``? Its text (or the
        module's, for names its imports bring) is searched; True when the text is not at
        hand (a module read from a tree)."""
        if name not in self._defs:
            return False
        key = (None if whole_module else name, words)
        known = self._mentions.get(key)
        if known is None:
            text = self._text if whole_module else self.text_of(name)
            known = self._mentions[key] = text is None or any(word in text for word in words)
        return known

    def text_of(self, name: str) -> str | None:
        """The lines of top-level function ``name`` (None when the module was read from a tree)."""
        found = self._defs.get(name)
        if self._lines is None or not isinstance(found, tuple):
            return None
        return "".join(self._lines[found[0] - 1 : found[1]])

    def function(self, name: str) -> FunctionSummary | None:
        if name in self._read:
            return self._read[name]
        found = self._defs.get(name)
        summary = None
        if found is not None and self._reader is not None:
            if isinstance(found, tuple):
                # The module's tree was not kept (the collector would walk every node of
                # every module read, run after run): the function's lines are parsed again.
                first, last = found
                try:
                    node = quiet_ast_parse("".join(self._lines[first - 1 : last])).body[0]  # type: ignore[index]
                except (SyntaxError, ValueError, RecursionError, MemoryError, IndexError):
                    node = None
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                    summary = self._reader.function(node, self.path, first - 1)
                elif self._exact is not None:
                    exact = self._exact()
                    summary = exact.function(name) if exact is not None else None
            else:
                summary = self._reader.function(found, self.path)  # type: ignore[arg-type]
        self._read[name] = summary
        return summary


@dataclass(frozen=True)
class Reach:
    """What a call reaches: the functions on the way and the call at the end."""

    #: The project functions called, from the first to the one that makes the call.
    functions: tuple[str, ...]
    #: What the sink said of the last call (``django.core.mail.send_mail``).
    what: str
    #: Where that call is: ``shop/mail.py:12``.
    where: str

    def chain(self) -> str:
        """``notify() -> send_receipt() -> django.core.mail.send_mail``"""
        return " -> ".join([*(f"{f}()" for f in self.functions), self.what])


#: A sink looks at one function and answers the line and description of the first call
#: it is after, or None.
Sink = Callable[[FunctionSummary], "tuple[int, str] | None"]


class CallGraph:
    """The project's functions and the calls they make, read as queries reach them."""

    def __init__(self, locator: AppLocator, root: str | None = None, depth: int = MAX_DEPTH) -> None:
        self.locator = locator
        self.root = root
        #: How many calls deep a walk goes (the ``helper-depth`` setting).
        self.depth = depth
        self._modules: dict[str, ModuleSummary | None] = {}
        #: (file, function, depth, sink, stop, now) -> (shortest chain, files): see :meth:`_best`.
        self._answers: dict[tuple[object, ...], tuple[tuple[tuple[str, ...], int, str, str] | None, frozenset[str]]] = {}
        self._answers_through: dict[str, list[tuple[object, ...]]] = {}
        #: file -> (function, sink) -> what the sink said of the function's own calls.
        self._sink_hits: dict[str, dict[tuple[str, Sink], tuple[int, str] | None]] = {}
        #: file -> function -> (its callees in the project, deferred or not; files read)
        self._targets: dict[str, dict[str, tuple[tuple[tuple[tuple[str, str | None, str], bool], ...], frozenset[str]]]] = {}
        #: (dotted name, importer) -> (file, module, function) or None, and the files read.
        self._resolved: dict[tuple[str, str], tuple[tuple[str, str | None, str] | None, tuple[str, ...]]] = {}
        #: The file being linted, whose text may differ from the disk (stdin, the API).
        self._current: tuple[str, str | None, Callable[[], ast.Module | str]] | None = None

    def set_current(self, path: str, module: str | None, tree: Callable[[], ast.Module | str]) -> None:
        """The file being linted: its summary comes from ``tree()`` (its ``ast``, or its text
        to skim, as linted), called only when a query reaches one of its functions."""
        path = os.path.abspath(path)
        self._current = (path, module, tree)
        self._modules.pop(path, None)
        for key in self._answers_through.pop(path, ()):
            self._answers.pop(key, None)
        self._sink_hits.pop(path, None)
        self._targets.pop(path, None)

    # -- queries ------------------------------------------------------------------

    def reach_local(
        self, name: str, sink: Sink, stop: Callable[[FunctionSummary], bool] | None = None, *, now: bool = False
    ) -> Reach | None:
        """From a call of ``name``, a top-level function of the file being linted.

        ``now``: follow only calls made when the function runs, not those deferred to a
        ``lambda``, a nested function or ``on_commit(...)`` (CLY601)."""
        if self._current is None:
            return None
        path, module, _ = self._current
        return self._query((path, module, name), sink, stop, now)

    def reach(
        self,
        qualified: str,
        importer: str,
        importer_module: str | None,
        sink: Sink,
        stop: Callable[[FunctionSummary], bool] | None = None,
        *,
        now: bool = False,
    ) -> Reach | None:
        """From a call of ``qualified`` (``shop.notify.send_receipt``), a function imported
        by the file ``importer``."""
        target = self._resolve(qualified, importer, importer_module)
        return self._query(target, sink, stop, now) if target is not None else None

    def reaches_from(self, names: Iterable[str], sink: Sink, *, now: bool = False) -> Reach | None:
        """From any of these calls of the file being linted (names as :class:`CallSite`
        has them: ``.helper`` for its own functions)."""
        if self._current is None:
            return None
        path, module, _ = self._current
        here = ModuleSummary(path, module, {}, {}, None)
        for name in dict.fromkeys(names):
            target = self._callee(name, here)
            if target is not None:
                found = self._query(target, sink, None, now)
                if found is not None:
                    return found
        return None

    def _query(
        self, start: tuple[str, str | None, str], sink: Sink, stop: Callable[[FunctionSummary], bool] | None, now: bool
    ) -> Reach | None:
        """The shortest path from ``start`` to a call the sink accepts, at most
        :attr:`depth` functions long (:meth:`_best`); its files join ``touched``."""
        hit, files = self._best(start, self.depth, sink, stop, now)
        self.locator.touched.update(files)
        if hit is None:
            return None
        chain, line, what, path = hit
        return Reach(chain, what, f"{self._display(path)}:{line}")

    def _best(
        self,
        target: tuple[str, str | None, str],
        depth: int,
        sink: Sink,
        stop: Callable[[FunctionSummary], bool] | None,
        now: bool,
    ) -> tuple[tuple[tuple[str, ...], int, str, str] | None, frozenset[str]]:
        """The shortest chain of at most ``depth`` functions from ``target`` to one whose
        own call the sink accepts (the first callee, in call order, among equally short
        ones: the path a breadth-first walk finds first), and every file the answer rests on.

        Remembered for the run per function and depth, so every file and every call that
        reaches the same helper shares one answer: the work is bounded by the functions
        within ``depth`` calls, however many calls lead there. An answer that rests on the
        file being linted is forgotten when the next file is linted (its text may differ
        from the disk's)."""
        path, module, name = target
        key = (path, name, depth, sink, stop, now)
        known = self._answers.get(key)
        if known is not None:
            return known
        summary = self._module(path, module)
        function = None
        words = SINK_WORDS.get(sink)
        if summary is not None and (depth > 1 or words is None or summary.mentions(name, *words)):
            # at the last step only the function's own calls count: one whose text cannot
            # hold the sink's call is not read
            function = summary.function(name)
        files: set[str] = {path}
        hit: tuple[tuple[str, ...], int, str, str] | None = None
        if function is not None and not (stop is not None and stop(function)):
            judged = self._sink_hits.setdefault(path, {})
            if (name, sink) not in judged:  # a function is met at every depth: judge it once
                judged[(name, sink)] = sink(function)
            found = judged[(name, sink)]
            if found is not None:
                hit = ((name,), found[0], found[1], path)
            elif depth > 1:
                assert summary is not None
                targets, read = self._targets_of(summary, function)
                files.update(read)
                best: tuple[tuple[str, ...], int, str, str] | None = None
                for callee, deferred in targets:
                    if now and deferred:
                        continue
                    sub, sub_files = self._best(callee, depth - 1, sink, stop, now)
                    files.update(sub_files)
                    if sub is not None and (best is None or len(sub[0]) < len(best[0])):
                        best = sub
                if best is not None:
                    hit = ((name, *best[0]), best[1], best[2], best[3])
        answer = (hit, frozenset(files))
        self._answers[key] = answer
        for file in answer[1]:
            self._answers_through.setdefault(file, []).append(key)
        return answer

    def _targets_of(
        self, summary: ModuleSummary, function: FunctionSummary
    ) -> tuple[tuple[tuple[tuple[str, str | None, str], bool], ...], frozenset[str]]:
        """The project functions a function calls (each call resolved once per run, not
        once per walk through it), whether each call is deferred, and the files read."""
        of_module = self._targets.setdefault(summary.path, {})
        known = of_module.get(function.name)
        if known is None:
            read: set[str] = set()
            targets = []
            for call in function.calls:
                target = self._callee(call.name, summary, read)
                if target is not None:
                    targets.append((target, call.deferred))
            known = of_module[function.name] = (tuple(targets), frozenset(read))
        return known

    def _callee(self, name: str, summary: ModuleSummary, read: set[str] | None = None) -> tuple[str, str | None, str] | None:
        if name.startswith(LOCAL):
            local = name[len(LOCAL) :]
            return (summary.path, summary.module, local) if local.isidentifier() else None
        if name.endswith(")"):
            return None
        return self._resolve(name, summary.path, summary.module, read)

    def _resolve(
        self, qualified: str, importer: str, importer_module: str | None, read: set[str] | None = None
    ) -> tuple[str, str | None, str] | None:
        """The (file, module, function) a dotted name imported into ``importer`` names,
        through one level of re-export (``from .impl import helper`` in a package)."""
        key = (qualified, importer)
        known = self._resolved.get(key)
        if known is None:
            known = self._resolved[key] = self._find(qualified, importer, importer_module, 0)
        target, files = known
        self.locator.touched.update(files)  # the answer depends on these files
        if read is not None:
            read.update(files)
        return target

    def _find(
        self, qualified: str, importer: str, importer_module: str | None, hops: int
    ) -> tuple[tuple[str, str | None, str] | None, tuple[str, ...]]:
        module, _, name = qualified.rpartition(".")
        if not module or module == "celery" or module.startswith("celery.") or "(" in module:
            return None, ()
        path = self.locator._module_file(module, importer, importer_module)
        if path is None:
            return None, ()
        summary = self._module(path, module)
        if summary is None:
            return None, (path,)
        if not summary.defines(name) and hops < 2 and name in summary.imports:
            target, read = self._find(summary.imports[name], path, module, hops + 1)
            return target, (path, *read)
        return (path, module, name), (path,)

    def _display(self, path: str) -> str:
        if self.root:
            try:
                return os.path.relpath(path, self.root).replace(os.sep, "/")
            except ValueError:
                pass
        return path

    # -- modules ------------------------------------------------------------------

    def _module(self, path: str, module: str | None) -> ModuleSummary | None:
        """A module's summary, read once per graph (one run: the engine is made per run)."""
        self.locator.touched.add(path)
        if path in self._modules:
            return self._modules[path]
        current = self._current
        try:
            if current is not None and current[0] == path:
                source = current[2]()
                if isinstance(source, str):
                    summary = skim(source, path, current[1])
                else:
                    summary = summarise(source, path, current[1])
            else:
                if os.path.getsize(path) > MAX_FILE_BYTES:
                    raise ValueError(f"{path} is over the size limit")
                with open(path, "rb") as handle:
                    text = decode_source(handle.read())
                summary = skim(text, path, module)
        except (OSError, SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
            summary = None
        self._modules[path] = summary
        return summary


def summarise(tree: ast.Module, path: str, module: str | None, lines: list[str] | None = None) -> ModuleSummary:
    """One module's imports and functions. With ``lines`` (its text), the summary keeps
    each function's line range instead of the tree."""
    imports: dict[str, str] = {}
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in statements(tree.body, skip=DEFINITIONS):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bind_imports(node, imports, module, path)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node)
    names = {f.name for f in functions}
    reader = _Reader(imports, names, module, path)
    for node in tree.body:  # module-level `session = requests.Session()`, once every import is known
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            value = reader.dotted(node.value)
            for target in node.targets:
                if isinstance(target, ast.Name) and value:
                    reader.module_bindings[target.id] = value
    if lines is None:
        return ModuleSummary(path, module, imports, {f.name: f for f in functions}, reader)
    spans: dict[str, ast.AST | tuple[int, int]] = {f.name: (f.lineno, f.end_lineno or f.lineno) for f in functions}
    return ModuleSummary(path, module, imports, spans, reader, lines, text="".join(lines))


class LazyImports:
    """A module's import statements (text, in source order), read when a name is first
    looked up: a walk asks for a few names of each module it skims, and reading every
    import statement of every module was a third of a skim. A name takes the value of the
    last statement that binds it, as in the module. Used as a read-only mapping. A
    statement that does not parse alone asks ``exact`` (the whole module's imports), or
    raises ``SyntaxError`` without it."""

    def __init__(
        self, statements: list[str], module: str | None, path: str, exact: Callable[[], dict[str, str]] | None = None
    ) -> None:
        self._statements = statements
        self._nodes: dict[int, list[ast.stmt]] = {}
        self._module = module
        self._path = path
        self._exact = exact
        self._names: dict[str, str | None] = {}
        self._words: dict[str, list[int]] | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        known = self._names.get(name, "")
        if known == "":
            known = self._names[name] = self._lookup(name)
        return default if known is None else known

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def _lookup(self, name: str) -> str | None:
        if self._words is None:  # word -> the statements holding it (one that binds a name holds it)
            self._words = {}
            for index, statement in enumerate(self._statements):
                for word in set(_WORD.findall(statement)):
                    self._words.setdefault(word, []).append(index)
        bound: dict[str, str] = {}
        for index in self._words.get(name, ()):
            statement = self._statements[index]
            nodes = self._nodes.get(index)
            if nodes is None:
                try:
                    nodes = self._nodes[index] = import_nodes(statement)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    # the text did not cut as the parser would: ask the whole module
                    if self._exact is None:
                        raise SyntaxError(f"{self._path}: an import statement does not stand alone") from None
                    return self._exact().get(name)
            for node in nodes:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    bind_imports(node, bound, self._module, self._path)
        return bound.get(name)


#: After a line break: a line that ends a top-level function's span (not indented, blank,
#: a comment or a signature's closing bracket). Patterns that start with a literal line
#: break let the regex engine jump from line to line instead of trying every character.
_SPAN_END = re.compile(r"\n(?=[^\s#)\]}])")
_BINDING = re.compile(r"\n([A-Za-z_]\w*[ \t]*=[ \t]*[A-Za-z_][\w.]*\(.*\)[ \t]*)(?=\n|$)")


def skim(text: str, path: str, module: str | None) -> ModuleSummary:
    """A module's summary without parsing it all: imports, module-level ``x = call(...)``
    bindings and the line spans of top-level functions are found in the text; only the
    statements found are parsed, and each function when a query first reaches it. A
    module reached through helpers is skimmed in a sixth of a full parse's time, and no
    tree stays in memory. Where the text does not cut cleanly (a statement that does not
    parse alone) the module is parsed whole (``exact``)."""
    lines = split_lines(text)
    marked = "\n" + text
    exact_summary: list[ModuleSummary | None] = []

    def exact() -> ModuleSummary | None:
        if not exact_summary:
            try:
                exact_summary.append(summarise(quiet_ast_parse(text), path, module, lines))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                exact_summary.append(None)
        return exact_summary[0]

    spans: dict[str, ast.AST | tuple[int, int]] = {}
    start: int | None = None
    name = ""
    number, offset = 1, 1
    for edge in _SPAN_END.finditer(marked):  # lines at the left margin, in order
        number += marked.count("\n", offset, edge.start() + 1)
        offset = edge.start() + 1
        if start is not None:
            spans[name] = (start, number - 1)  # the last definition is the one bound
            start = None
        found = _TOP_DEF_AT.match(marked, offset)
        if found:
            start, name = number, found.group(1)
    if start is not None:
        spans[name] = (start, len(lines))

    def exact_imports() -> dict[str, str]:
        summary = exact()
        return summary.imports if summary is not None else {}  # type: ignore[return-value]

    statements = []
    ordered = sorted(spans.values())  # type: ignore[type-var]
    at, line, offset = 0, 1, 0
    for match in _IMPORT.finditer(marked):
        line += marked.count("\n", offset, match.start() + 1)
        offset = match.start() + 1
        while at < len(ordered) and ordered[at][1] < line:  # type: ignore[index]
            at += 1
        if at < len(ordered) and ordered[at][0] <= line:  # type: ignore[index]
            continue  # inside a function: binds only there (its reader sees it)
        statements.append(match.group(1))
    imports = LazyImports(statements, module, path, exact_imports)
    reader = _Reader(imports, set(spans), module, path)
    for binding in _BINDING.finditer(marked):
        try:
            node = quiet_ast_parse(binding.group(1)).body[0]
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            value = reader.dotted(node.value)
            for target in node.targets:
                if isinstance(target, ast.Name) and value:
                    reader.module_bindings[target.id] = value
    return ModuleSummary(path, module, imports, spans, reader, lines, exact, text)


_FROM = re.compile(r"from\s+(\.*)([\w.]*)\s+import\s+(.*)", re.DOTALL)
_ALIAS = re.compile(r"\s*([\w.]+|\*)(?:\s+as\s+(\w+))?\s*")
_COMMENT = re.compile(r"#[^\n]*")


def import_nodes(statement: str) -> list[ast.stmt]:
    """An import statement found in a module's text as ``ast`` nodes, read without the
    parser (a skimmed module's imports: about a tenth of the time); parsed when it is not
    of the plain forms (a backslash, a semicolon)."""
    if "\\" not in statement and ";" not in statement:
        match = _FROM.fullmatch(statement)
        text = match.group(3) if match else statement[len("import") :] if statement.startswith("import") else None
        if text is not None:
            text = _COMMENT.sub("", text).strip()
            if match and text.startswith("(") and text.endswith(")"):
                text = text[1:-1]
            aliases = []
            for part in text.split(","):
                if not part.strip() and match:
                    continue  # a trailing comma in parentheses
                found = _ALIAS.fullmatch(part)
                if found is None or (not match and found.group(1) == "*"):
                    aliases = None
                    break
                aliases.append(ast.alias(found.group(1), found.group(2)))
            if aliases:
                if match:
                    return [ast.ImportFrom(match.group(2) or None, aliases, len(match.group(1)))]
                return [ast.Import(aliases)]
    return quiet_ast_parse(statement).body


class _Reader:
    """Reads one function's calls (fresh state per function)."""

    def __init__(
        self, imports: dict[str, str] | LazyImports, functions: set[str], module: str | None = None, path: str = ""
    ) -> None:
        self.imports = imports
        self.functions = functions
        #: The module read, for its functions' own relative imports.
        self.module = module
        self.path = path
        self.module_bindings: dict[str, str] = {}
        self.local: dict[str, str] = {}

    def dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in self.local:
                return self.local[node.id] or None
            if node.id in self.imports:
                return self.imports[node.id]
            if node.id in self.module_bindings:
                return self.module_bindings[node.id]
            if node.id in self.functions:
                return LOCAL + node.id
            return None
        if isinstance(node, ast.Attribute):  # `.send_receipt.delay`: a task of this module
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            base = self.dotted(node.func)
            return f"{base}()" if base else None
        return None

    def function(self, func: ast.FunctionDef | ast.AsyncFunctionDef, path: str, offset: int = 0) -> FunctionSummary:
        """``offset``: lines before ``func``'s text (it was parsed alone)."""
        self.offset = offset
        self.local = {}
        for arg in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]:
            self.local[arg.arg] = ""  # a parameter shadows a module name
        self.calls: list[CallSite] = []
        self.waits: list[tuple[int, str]] = []
        self.results: set[str] = set()
        self.key = False
        self._read(func.body)
        return FunctionSummary(func.name, path, func.lineno + offset, tuple(self.calls), self.key, tuple(self.waits))

    def _read(self, body: list[ast.stmt]) -> None:
        """Every node of the body in source order (an explicit stack: a third of the time of
        recursion; children found through a per-type table of the fields that can hold
        nodes: a third of ``ast.iter_child_nodes``' time), with whether it runs later
        (``deferred``) or under a timeout (``bounded``)."""
        stack: list[tuple[ast.AST, bool, bool, bool]] = [(node, False, False, False) for node in reversed(body)]
        push = stack.append
        pop = stack.pop
        fields_of = _NODE_FIELDS
        while stack:
            node, deferred, bounded, bind = pop()
            if bind:  # after an assignment's value: its targets
                self._bind(node)  # type: ignore[arg-type]
                continue
            kind = type(node)
            if kind is ast.Call:
                name = self._call(node, deferred=deferred, bounded=bounded)  # type: ignore[arg-type]
                on_commit = deferred or bool(_ON_COMMIT.search(name or _attr(node.func)))  # type: ignore[attr-defined]
                for child in reversed([*node.args, *node.keywords]):  # type: ignore[attr-defined]
                    push((child, on_commit, bounded, False))
                push((node.func, deferred, bounded, False))  # type: ignore[attr-defined]
                continue
            if kind is ast.Name:
                continue
            if kind is ast.Constant:
                value = node.value  # type: ignore[attr-defined]
                if isinstance(value, str) and IDEMPOTENCY_KEY.search(value):
                    self.key = True
                continue
            if kind in _LATER:
                deferred = True
            elif kind is ast.Import or kind is ast.ImportFrom:
                local: dict[str, str] = {}
                bind_imports(node, local, self.module, self.path)  # type: ignore[arg-type]
                self.local.update(local)
            elif kind is ast.With or kind is ast.AsyncWith:
                bounded = self._with(node, bounded)  # type: ignore[arg-type]
            elif kind is ast.Assign:
                push((node, deferred, bounded, True))
                push((node.value, deferred, bounded, False))  # type: ignore[attr-defined]
                continue
            fields = fields_of.get(kind)
            if fields is None:
                fields = fields_of[kind] = _node_fields(kind)
            children: list[ast.AST] = []
            for field in fields:
                value = getattr(node, field, None)
                if type(value) is list:
                    children.extend(value)
                elif value is not None:
                    children.append(value)
            for child in reversed(children):
                if isinstance(child, ast.AST):
                    push((child, deferred, bounded, False))

    def _with(self, node: ast.With | ast.AsyncWith, bounded: bool) -> bool:
        for item in node.items:
            if isinstance(item.context_expr, ast.Call):
                if self.dotted(item.context_expr.func) in TIMEOUT_CONTEXTS:
                    bounded = True
                if isinstance(item.optional_vars, ast.Name):
                    self.local[item.optional_vars.id] = self.dotted(item.context_expr) or ""
        return bounded

    def _bind(self, node: ast.Assign) -> None:
        value = self.dotted(node.value) if isinstance(node.value, ast.Call) else None
        is_result = self._is_result(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.local[target.id] = value or ""
                if is_result:
                    self.results.add(target.id)

    def _call(self, node: ast.Call, *, deferred: bool, bounded: bool) -> str | None:
        """Records the call (and a wait on a result); its dotted name."""
        keywords = frozenset(k.arg for k in node.keywords if k.arg)
        if "idempotency_key" in keywords:
            self.key = True
        name = self.dotted(node.func)
        if name:
            none = frozenset(
                k.arg for k in node.keywords if k.arg and isinstance(k.value, ast.Constant) and k.value.value is None
            )
            star = any(k.arg is None for k in node.keywords)
            positional = sum(1 for a in node.args if not isinstance(a, ast.Starred))
            self.calls.append(CallSite(name, node.lineno + self.offset, keywords, positional, star, none, bounded, deferred))
        if deferred:
            return name
        if name in ("celery.result.allow_join_result",):
            self.waits.append((node.lineno + self.offset, "celery.result.allow_join_result()"))
            return name
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in RESULT_WAIT_METHODS:
            sync = next((k.value for k in node.keywords if k.arg == "disable_sync_subtasks"), None)
            if func.attr == "get" and isinstance(sync, ast.Constant) and sync.value is False:
                self.waits.append((node.lineno + self.offset, f"{name or '.get'}(disable_sync_subtasks=False)"))
            elif (isinstance(func.value, ast.Name) and func.value.id in self.results) or self._is_result(func.value):
                self.waits.append((node.lineno + self.offset, f"{name or '.' + func.attr}()"))
        return name

    def _is_result(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in DISPATCH_METHODS:
            return True
        if isinstance(func, ast.Call):  # group(...)() / chord(...)(callback)
            return _attr(func.func).rpartition(".")[2] in CANVAS_CALLS
        return False


#: Node type -> the fields that can hold child nodes, in ``_fields`` order (what
#: ``ast.iter_child_nodes`` visits, without its generators and the fields that never hold
#: a call: contexts and operators).
_NODE_FIELDS: dict[type, tuple[str, ...]] = {}
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "kind"})


def _node_fields(kind: type) -> tuple[str, ...]:
    return tuple(field for field in getattr(kind, "_fields", ()) if field not in _LEAF_FIELDS)


def _attr(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


# -- transactions (CLY601's prefilter) -------------------------------------------------

_ATOMIC = "django.db.transaction.atomic"


#: A line that starts a transaction region: ``with ...atomic...:``, ``@...atomic...``, or a
#: ``save``/``delete`` method.
_REGION_HEAD = re.compile(r"([ \t]*)(?:(?:async[ \t]+)?with\b.*atomic|@.*atomic|(?:async[ \t]+)?def[ \t]+(?:save|delete)[ \t]*\()")
#: A ``save``/``delete`` method's head (a region: see ``_REGION_HEAD``).
_METHOD_REGION = re.compile(r"def[ \t]+(?:save|delete)[ \t]*\(")
#: What each region is re-indented under in a snippet.
_REGION_DEF = "def _region():\n"
_METHOD_HEAD = re.compile(r"[ \t]*(?:async[ \t]+)?def\b")
#: ``atomic`` where it may start a region the cut missed (not ``atomic = False``, a
#: migration's flag, nor ``in_atomic_block``).
_ATOMIC_WORD = re.compile(r"atomic\b(?!\s*=[^=])")
#: An import statement, parenthesised or backslash continuation included; at any depth
#: (those under ``if``/``try`` at module level count; :func:`skim` leaves out those inside
#: a function, which bind only there).
#: Matched against ``"\n" + text`` (see ``_SPAN_END``); group 1 is the statement.
_IMPORT = re.compile(r"\n[ \t]*(from[ \t]+[\w.]+[ \t]+import[ \t]*(?:\([^)]*\)|(?:\\\r?\n|[^\n])*)|import[ \t](?:\\\r?\n|[^\n])*)")
_TOP_DEF = re.compile(r"\n(?:async[ \t]+)?def[ \t]+(\w+)")
_TOP_DEF_AT = re.compile(r"(?:async[ \t]+)?def[ \t]+(\w+)")


def _occurrences(text: str, word: str) -> list[int]:
    found = []
    at = text.find(word)
    while at >= 0:
        found.append(at)
        at = text.find(word, at + len(word))
    return found


def transaction_snippet(text: str) -> tuple[list[str], str, set[str], int] | None:
    """The parts of a module that :func:`transaction_calls` reads, as a small module:
    its top-level imports and each transaction region (re-indented under a function), and
    the names of its top-level functions, and how many regions it holds (the import
    statements and the regions' text apart: see :func:`snippet_calls`). Reading that is a
    fraction of parsing the file;
    None when a line mentions ``atomic`` outside what was cut out (``with (\n
    transaction.atomic(),\n):``): then the whole file is read."""
    lines = text.split("\n")

    def line_of(offset: int) -> int:  # asked for a few offsets: `atomic` and method heads
        return text.count("\n", 0, offset)

    atomic = _occurrences(text, "atomic")
    heads = sorted({line_of(o) for o in atomic} | {line_of(m.start()) for m in _METHOD_REGION.finditer(text)})
    blocks: list[str] = []
    covered: list[tuple[int, int]] = []
    for index in heads:  # only the lines holding a head's word are matched (str.find is C)
        head = _REGION_HEAD.match(lines[index])
        if head is None or (covered and index < covered[-1][1]):
            continue  # not a head, or inside the region before it
        indent = len(head.group(1).expandtabs())
        end = index
        while end < len(lines) and not lines[end].split("#", 1)[0].rstrip().endswith(":"):
            end += 1  # the header: decorators, a signature over several lines
        end += 1
        while end < len(lines):  # the body: deeper than the header
            line = lines[end]
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and len(line) - len(line.lstrip()) <= indent:
                break
            end += 1
        block = [line[indent:] if line[:indent].strip() == "" else line.lstrip() for line in lines[index:end]]
        blocks.append(_REGION_DEF + "\n".join("    " + line for line in block) + "\n    pass\n")
        covered.append((index, end))
    uncovered = []
    for offset in atomic:
        if _ATOMIC_WORD.match(text, offset) is None or (offset and (text[offset - 1].isalnum() or text[offset - 1] == "_")):
            continue  # `in_atomic_block`, `atomic = False`
        number = line_of(offset)
        if not any(first <= number < last for first, last in covered) and not lines[number].lstrip().startswith("#"):
            uncovered.append(number)
    if not blocks and not uncovered:
        return [], "", set(), 0  # no transaction here: nothing more to read
    imports: list[str] = []
    import_spans: list[tuple[int, int]] = []
    line, offset = 0, 0
    marked = "\n" + text  # offsets one past the text's
    for match in _IMPORT.finditer(marked):
        line += marked.count("\n", offset, match.start(1))
        offset = match.start(1)
        imports.append(match.group(1))
        import_spans.append((line - 1, line + match.group(1).count("\n")))
    if any(not any(first <= number < last for first, last in import_spans) for number in uncovered):
        return None  # `atomic` where the cut did not look: read the whole file
    if not blocks:
        return [], "", set(), 0
    return imports, "\n".join(blocks), set(_TOP_DEF.findall("\n" + text)), len(blocks)


_WORD = re.compile(r"[A-Za-z_]\w*")
#: A call's dotted name in text: ``name(`` or ``a.b.c(`` not itself after a dot or a word.
_CALL_TEXT = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*)[ \t]*\(")
_SPACES = re.compile(r"[ \t]+")
#: A dotted name ending in ``atomic`` on a region's first line (``transaction.atomic``).
_ATOMIC_NAME = re.compile(r"(?<![\w.])((?:[A-Za-z_]\w*[ \t]*\.[ \t]*)*atomic)\b")


def snippet_calls(snippet: tuple[list[str], str, set[str], int], path: str, module: str | None) -> list[str]:
    """:func:`transaction_calls` of a :func:`transaction_snippet`, read from its text
    without the parser: its import statements through :func:`import_nodes`, and in its
    regions every ``name(...)``/``a.b(...)`` whose first name an import or a top-level
    function binds (a superset of what the parse finds: calls in strings, comments and
    nested functions count too, which can only make the prefilter parse a file it need
    not). Raises ``SyntaxError`` when the cut may have lost a call (a region ending inside
    brackets, a triple-quoted string or after a backslash): then the file is read whole."""
    regions = snippet[1]
    if (
        (regions.count('"""') % 2)
        or (regions.count("'''") % 2)
        or "\\\n" in regions
        or any(regions.count(o) != regions.count(c) for o, c in ("()", "[]", "{}"))
    ):
        raise SyntaxError("the transaction regions do not stand alone")
    imports = LazyImports(snippet[0], module, path)
    functions = snippet[2]

    def named(dotted: str) -> str | None:
        head, dot, rest = _SPACES.sub("", dotted).partition(".")
        bound = imports.get(head)
        if bound is not None:
            return bound + dot + rest
        return LOCAL + head + dot + rest if head in functions else None

    found = []
    for block in regions.split(_REGION_DEF)[1:]:
        head = block.partition("\n")[0]
        if not _METHOD_HEAD.match(head) and not any(
            named(name) == _ATOMIC for name in _ATOMIC_NAME.findall(head)
        ):
            continue  # `@traced_atomic_transaction()`: not Django's atomic (as the parse judges)
        for match in _CALL_TEXT.finditer(block):
            name = named(match.group(1))
            if name is not None:
                found.append(name)
    return found


def transaction_calls(
    tree: ast.Module, path: str, module: str | None, functions: set[str] | None = None, known: dict[str, str] | None = None
) -> list[str]:
    """Dotted names (as :class:`CallSite` names them) of the calls made directly inside
    ``with transaction.atomic()``, a function decorated ``@atomic``, or a ``save()``/
    ``delete()`` method of a class with a base: a superset of what CLY601 follows.

    With :meth:`CallGraph.reach`, the engine asks whether a file that only a transaction
    word brought in can reach a dispatch, before parsing it with libcst. ``functions``
    and ``known`` (imports) for a snippet: the module's, found in its text."""
    imports: dict[str, str] = dict(known or {})
    defined: set[str] = set()
    for node in statements(tree.body, skip=DEFINITIONS):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bind_imports(node, imports, module, path)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
    reader = _Reader(imports, defined if functions is None else functions, module, path)
    found: list[str] = []

    def is_atomic(expr: ast.AST) -> bool:
        return reader.dotted(expr.func if isinstance(expr, ast.Call) else expr) == _ATOMIC

    def region_calls(body: list[ast.stmt]) -> None:
        stack: list[ast.AST] = list(body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue  # runs later
            if isinstance(node, ast.Call):
                name = reader.dotted(node.func)
                if name:
                    found.append(name)
            stack.extend(ast.iter_child_nodes(node))

    for node in statements(tree.body):  # statements only: regions are statements
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(is_atomic(i.context_expr) for i in node.items):
            region_calls(node.body)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(is_atomic(d) for d in node.decorator_list):
            region_calls(node.body)
        elif isinstance(node, ast.ClassDef) and node.bases:
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in ("save", "delete"):
                    region_calls(item.body)
        elif functions is not None and isinstance(node, ast.FunctionDef) and node.name in ("save", "delete"):
            region_calls(node.body)  # a snippet: the method stands alone
    return found


# -- sinks ------------------------------------------------------------------------


def waits_sink(function: FunctionSummary) -> tuple[int, str] | None:
    """CLY501: the function waits on a subtask's result."""
    return function.waits[0] if function.waits else None


def dispatch_sink(function: FunctionSummary) -> tuple[int, str] | None:
    """CLY601: the function sends a task now (not in ``on_commit``, not in a lambda)."""
    for call in function.calls:
        if call.deferred:
            continue
        head, _, method = call.name.rpartition(".")
        if method in DISPATCH_METHODS and head:
            return call.line, call.name.lstrip(LOCAL)
    return None


_HTTP = r"(?:get|post|put|patch|delete|head|options|request)"
#: Network calls that wait forever without a timeout (CLY603): dotted call name -> index
#: of a positional ``timeout`` argument (None: keyword only).
BLOCKING_CALLS = [
    (re.compile(rf"requests\.{_HTTP}"), None),
    (re.compile(rf"requests\.(?:\w+\.)*Session\(\)\.{_HTTP}"), None),
    (re.compile(rf"requests\.session\(\)\.{_HTTP}"), None),
    (re.compile(r"urllib\.request\.urlopen"), 2),
    (re.compile(r"socket\.create_connection"), 1),
    (re.compile(r"smtplib\.SMTP(?:_SSL)?"), 3),
]
#: httpx has a 5-second default: only an explicit ``timeout=None`` blocks.
HTTPX_CALLS = re.compile(rf"httpx\.(?:{_HTTP}|(?:Async)?Client)")


def blocking_without_timeout(name: str, keywords: Iterable[str], positional: int, star_kwargs: bool, timeout_none: bool) -> str | None:
    """How a call of ``name`` can block forever (CLY603), or None."""
    if HTTPX_CALLS.fullmatch(name):
        return f"`{name}(timeout=None)`" if timeout_none else None
    for pattern, position in BLOCKING_CALLS:
        if pattern.fullmatch(name):
            has_positional = position is not None and positional > position
            if "timeout" in keywords or has_positional or star_kwargs:
                return None
            return f"`{name}` without `timeout=`"
    return None


def blocking_sink(function: FunctionSummary) -> tuple[int, str] | None:
    """The first call of a project function that can block forever (CLY603): its name."""
    for call in function.calls:
        if call.bounded:
            continue
        found = blocking_without_timeout(
            call.name, call.keywords, call.positional, call.star_kwargs, "timeout" in call.none_keywords
        )
        if found:
            return call.line, call.name
    return None


#: What a sink's call must show in the text: words of which one is in the function's own
#: text (False) or in its module's (True: the name comes through an import). A sink not
#: listed prunes nothing (CLY306's patterns are the user's).
SINK_WORDS: dict[Sink, tuple[tuple[str, ...], bool]] = {
    dispatch_sink: (tuple(sorted(DISPATCH_METHODS)), False),
    waits_sink: (tuple(sorted(DISPATCH_METHODS | CANVAS_CALLS | {"allow_join_result", "disable_sync_subtasks"})), False),
    blocking_sink: (("requests", "urlopen", "create_connection", "smtplib", "httpx"), True),
}


def has_idempotency_key(function: FunctionSummary) -> bool:
    return function.idempotency_key
