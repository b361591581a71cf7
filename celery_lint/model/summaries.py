"""Reading a module for the call graph: its imports, its top-level functions and the
calls each makes (``model/callgraph.py`` walks them; ``model/graph_store.py`` keeps them
between runs).

A module is read with :mod:`ast`, never imported. :func:`skim` reads one without parsing
it all (imports and function spans found in the text, each function parsed when a walk
first reaches it); :func:`summarise` reads a tree already parsed. A function's calls are
named through the module's imports and simple local bindings as the per-file context
names them (``msg = EmailMessage(...); msg.send()`` is ``django.core.mail.EmailMessage().send``).
A call inside a ``lambda``, a nested function or the arguments of ``on_commit(...)`` runs
later, so it is marked ``deferred``.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from typing import Callable

from .celery_api import CANVAS_CALLS, DISPATCH_METHODS, RESULT_WAIT_METHODS
from .needles import MAX_FILE_BYTES
from .source import DEFINITIONS, SourceError, bind_imports, decode_source, quiet_ast_parse, statements

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


def read_module(path: str, module: str | None) -> ModuleSummary | None:
    """A module on disk, skimmed; None when it cannot be read or parsed."""
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return None
        with open(path, "rb") as handle:
            text = decode_source(handle.read())
        return skim(text, path, module)
    except (OSError, SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None


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


class ImportLookup:
    """A module's imports as the read-only mapping the walks use: ``get`` answers a
    name (None: not imported); ``in`` and ``[]`` follow from it."""

    def get(self, name: str, default: str | None = None) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value


class LazyImports(ImportLookup):
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


#: An import statement, parenthesised or backslash continuation included; at any depth
#: (those under ``if``/``try`` at module level count; :func:`skim` leaves out those inside
#: a function, which bind only there).
#: Matched against ``"\n" + text`` (see ``_SPAN_END``); group 1 is the statement.
_IMPORT = re.compile(r"\n[ \t]*(from[ \t]+[\w.]+[ \t]+import[ \t]*(?:\([^)]*\)|(?:\\\r?\n|[^\n])*)|import[ \t](?:\\\r?\n|[^\n])*)")
_TOP_DEF = re.compile(r"\n(?:async[ \t]+)?def[ \t]+(\w+)")
_TOP_DEF_AT = re.compile(r"(?:async[ \t]+)?def[ \t]+(\w+)")


_WORD = re.compile(r"[A-Za-z_]\w*")
