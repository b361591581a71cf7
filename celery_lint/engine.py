"""One engine for every front door: prefilter -> parse once -> one traversal -> findings.

Cost model (libcst): parsing is ~8x ``ast.parse``; ``PositionProvider`` ~2x the parse;
``CSTVisitor`` rebuilds every node it walks. So the engine

* skips the parse when no enabled rule's needle occurs in the text (:meth:`Engine.active_rules`);
* parses a slimmed copy (``slim.py``: definitions no rule can read blanked, found with
  CPython's ``ast``), with libcst's per-node validation off while its parser runs;
* walks the tree itself, over syntactic child fields only (whitespace, comments and
  punctuation are never visited), calling only the hooks the active rules define;
* computes positions only when something was reported, with a codegen pass over just the
  top-level statements holding reported nodes, recording just those nodes (and the
  statements their positions are hoisted from).
"""

from __future__ import annotations

import ast
import dataclasses
import gc
import io
import os
import re
import tokenize
from contextlib import contextmanager
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import libcst as cst
from libcst._position import CodePosition, CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState

from .apps import AppLocator
from .config import Settings, relative_posix
from .context import _LEAVE as _CONTEXT_LEAVE
from .context import _VISIT as _CONTEXT_VISIT
from .context import FileContext, quiet_ast_parse
from .rules import ALL_RULES, FILE_NOT_PARSED, Rule
from .prefilter import MAX_FILE_BYTES, NEEDLE_GUARDS, WORD_START_NEEDLES, TextPattern
from .slim import slim
from .rules.base import Report
from .fixes import MAX_ROUNDS, SAFE, Fix, apply_fixes

if TYPE_CHECKING:
    from .index import ProjectIndex


@dataclass(frozen=True)
class Finding:
    """One reported problem. Lines and columns are 1-based; ``end_*`` is exclusive."""

    code: str
    name: str
    message: str
    filename: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.filename, self.line, self.column, self.code)


# ---------------------------------------------------------------------------
# rule selection


def _specificity(code: str, selectors: Iterable[str]) -> int:
    """Length of the longest selector that is a prefix of ``code`` (-1: none)."""
    return max((len(s) for s in selectors if code.startswith(s)), default=-1)


def is_enabled(rule: type[Rule], settings: Settings) -> bool:
    """ruff-style selection: the most specific of select/extend-select/ignore wins.

    Without ``select``, rules that are on by default count as selected. An off-by-default
    rule is only turned on by a selector more specific than the bare ``CLY`` prefix
    (``CLY3``, ``CLY304``), so ``--select CLY`` means "the default rules" everywhere,
    flake8 included.
    """
    selectors = tuple(settings.select or ()) + tuple(settings.extend_select)
    chosen = _specificity(rule.code, selectors)
    if settings.select is None and rule.default_enabled:
        chosen = max(chosen, 0)
    if not rule.default_enabled and chosen <= len("CLY"):
        chosen = -1
    ignored = _specificity(rule.code, settings.ignore)
    return chosen >= 0 and chosen > ignored


def enabled_rules(settings: Settings) -> tuple[type[Rule], ...]:
    return tuple(rule for rule in ALL_RULES if is_enabled(rule, settings))


# ---------------------------------------------------------------------------
# traversal


_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "equal",
        "dot",
        "colon",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "trailing_whitespace",
        "indent",
        "default_indent",
        "default_newline",
        "encoding",
        "has_trailing_newline",
        "asynchronous",
        "star",
        "operator",
        "newline",
    }
)
# Fields in source order where dataclass order differs and order matters (names bound
# by decorators and bases are evaluated before the body).
_FIELD_ORDER = {
    cst.FunctionDef: ("decorators", "name", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "bases", "keywords", "body"),
}
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(node_type: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(node_type)
    if fields is None:
        names = [f.name for f in dataclasses.fields(node_type)]
        ordered = _FIELD_ORDER.get(node_type)
        if ordered:
            names = [*ordered, *(n for n in names if n not in ordered)]
        fields = tuple(n for n in names if n not in _SKIPPED_FIELDS and not n.startswith("whitespace"))
        _CHILD_FIELDS[node_type] = fields
    return fields


Hook = Callable[[Any], Any]

# isinstance() against libcst's ABCs is slow; classify each value type once:
# 1 = a node, 2 = a sequence (of nodes), 0 = anything else.
_KIND: dict[type, int] = {}


def _kind(value_type: type) -> int:
    kind = 1 if issubclass(value_type, cst.CSTNode) else 2 if value_type in (list, tuple) else 0
    _KIND[value_type] = kind
    return kind


class _Walk:
    """Depth-first walk calling context handlers, then rule hooks (reverse on leave)."""

    def __init__(self, visit: dict[type, list[Hook]], leave: dict[type, list[Hook]]) -> None:
        self.visit = visit
        self.leave = leave
        #: id(node) -> index in ``Module.body`` of the statement holding it (-1: none),
        #: so positions can be computed for that statement alone.
        self.tops: dict[int, int] = {}
        self.top = -1

    def run_module(self, module: cst.Module) -> None:
        for hook in self.visit.get(cst.Module, ()):
            hook(module)
        for line in module.header:
            self.run(line)
        for number, statement in enumerate(module.body):
            self.top = number
            self.run(statement)
        self.top = -1
        for line in module.footer:
            self.run(line)
        for hook in self.leave.get(cst.Module, ()):
            hook(module)

    def run(self, node: cst.CSTNode) -> None:
        self.tops[id(node)] = self.top
        node_type = type(node)
        hooks = self.visit.get(node_type)
        if hooks:
            for hook in hooks:
                hook(node)
        for name in _child_fields(node_type):
            value = getattr(node, name)
            kind = _KIND.get(type(value))
            if kind is None:
                kind = _kind(type(value))
            if kind == 1:
                self.run(value)
            elif kind == 2:
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        self.run(item)
        hooks = self.leave.get(node_type)
        if hooks:
            for hook in hooks:
                hook(node)


_EVENTS = ("task_enter", "task_leave", "dispatch", "module_leave")


@dataclass(frozen=True)
class _HookPlan:
    """Which hook methods each rule class defines, by node type and event (computed once)."""

    visit: dict[type, tuple[str, ...]]
    leave: dict[type, tuple[str, ...]]
    events: dict[str, tuple[str, ...]]


_PLANS: dict[type[Rule], _HookPlan] = {}


def _plan(rule: type[Rule]) -> _HookPlan:
    plan = _PLANS.get(rule)
    if plan is None:
        visit: dict[type, list[str]] = defaultdict(list)
        leave: dict[type, list[str]] = defaultdict(list)
        for attr in dir(rule):
            prefix, _, type_name = attr.partition("_")
            if prefix in ("visit", "leave") and type_name and type_name[0].isupper():
                node_type = getattr(cst, type_name, None)
                if not (isinstance(node_type, type) and issubclass(node_type, cst.CSTNode)):
                    raise TypeError(f"{rule.__name__}.{attr}: libcst has no node type {type_name}")
                (visit if prefix == "visit" else leave)[node_type].append(attr)
        events = {e: (e,) for e in _EVENTS if callable(getattr(rule, e, None))}
        plan = _HookPlan(
            {k: tuple(v) for k, v in visit.items()}, {k: tuple(v) for k, v in leave.items()}, events
        )
        _PLANS[rule] = plan
    return plan


# ---------------------------------------------------------------------------
# positions


class _Recorder:
    """Stands in for a metadata provider: holds the ranges codegen records."""

    def __init__(self, wanted: set[cst.CSTNode]) -> None:
        self.wanted = wanted
        self.remaining = len(wanted)
        self._computed: dict[cst.CSTNode, CodeRange] = {}


class _AllRecorded(Exception):
    """Raised to stop codegen once every wanted node has its range."""


# Every node type libcst hoists a compound node's start or end position from.
_HOIST_BASES = (
    cst.BaseSuite,
    cst.BaseStatement,
    cst.BaseSmallStatement,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Else,
    cst.Finally,
    cst.ImportAlias,
    cst.ImportStar,
    cst.RightParen,
)
# isinstance() against libcst's ABC bases is slow; decide once per concrete type.
_IS_HOIST_TYPE: dict[type, bool] = {}


def _is_hoist_type(node_type: type) -> bool:
    known = _IS_HOIST_TYPE.get(node_type)
    if known is None:
        known = _IS_HOIST_TYPE[node_type] = issubclass(node_type, _HOIST_BASES)
    return known


class _FilteredPositionState(PositionProvidingCodegenState):
    """PositionProvider's codegen state, recording only wanted nodes and hoist sources.

    libcst hoists compound statements' start/end positions from children
    (``record_syntactic_position(end_node=...)``), so those child types are recorded
    too. Codegen stops as soon as every wanted node has its range.
    """

    __slots__ = ()

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        start = CodePosition(self.line, self.column)
        try:
            yield
        finally:
            recorder = self.provider
            wanted = node in recorder.wanted
            if wanted or _is_hoist_type(type(node)):
                end = CodePosition(self.line, self.column)
                computed = recorder._computed
                if start_node is not None and start_node in computed:
                    start = computed[start_node].start
                if end_node is not None and end_node in computed:
                    end = computed[end_node].end
                if wanted and node not in computed:
                    recorder.remaining -= 1
                computed[node] = CodeRange(start, end)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append(CodePosition(self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._stack.pop()
        recorder = self.provider
        if node in recorder._computed:
            if recorder.remaining == 0:
                raise _AllRecorded
            return
        wanted = node in recorder.wanted
        if wanted or _is_hoist_type(type(node)):
            recorder._computed[node] = CodeRange(start, CodePosition(self.line, self.column))
            if wanted:
                recorder.remaining -= 1
                if recorder.remaining == 0:
                    raise _AllRecorded


def positions_of(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    located: tuple[dict[int, int], list[ast.stmt], str] | None = None,
) -> dict[cst.CSTNode, CodeRange]:
    """Syntactic ranges (as ``PositionProvider`` gives them) of just ``nodes``.

    ``located``: which top-level statement holds each node (``_Walk.tops``), the
    ``ast`` top-level statements of the parsed text, and that text. With them, code is
    generated only for the statements holding ``nodes``, each starting at its line as
    ``ast`` gives it, and checked against the text; any doubt falls back to the whole
    module.
    """
    wanted = set(nodes)
    if located is not None:
        ranges = _positions_by_statement(module, wanted, *located)
        if ranges is not None:
            return ranges
    return _positions_in_module(module, wanted)


def _positions_in_module(module: cst.Module, wanted: set[cst.CSTNode]) -> dict[cst.CSTNode, CodeRange]:
    recorder = _Recorder(wanted)
    state = _FilteredPositionState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        provider=recorder,  # type: ignore[arg-type]
    )
    try:
        module._codegen(state)
    except _AllRecorded:
        pass
    return {node: recorder._computed[node] for node in recorder.wanted if node in recorder._computed}


def _statement_lines(body: Sequence[cst.BaseStatement], statements: list[ast.stmt]) -> list[int] | None:
    """The line of each libcst top-level statement's first token, from ``ast``.

    A libcst ``SimpleStatementLine`` holds one ``ast`` statement per small statement
    (``a = 1; b = 2``); a compound statement is one ``ast`` statement, which starts at its
    first decorator. None when the two do not line up.
    """
    lines: list[int] = []
    position = 0
    for statement in body:
        if position >= len(statements):
            return None
        node = statements[position]
        if isinstance(statement, cst.SimpleStatementLine):
            lines.append(node.lineno)
            position += len(statement.body)
        else:
            decorators = getattr(node, "decorator_list", None)
            lines.append(min([node.lineno, *(d.lineno for d in decorators)]) if decorators else node.lineno)
            position += 1
    return lines if position == len(statements) else None


def _positions_by_statement(
    module: cst.Module, wanted: set[cst.CSTNode], tops: dict[int, int], statements: list[ast.stmt], text: str
) -> dict[cst.CSTNode, CodeRange] | None:
    groups: dict[int, set[cst.CSTNode]] = {}
    for node in wanted:
        top = tops.get(id(node), -1)
        if top < 0:
            return None  # the module itself, its header or footer
        groups.setdefault(top, set()).add(node)
    first_lines = _statement_lines(module.body, statements)
    if first_lines is None:
        return None
    offsets = [0]
    for match in _LINE_END.finditer(text):
        offsets.append(match.end())
    ranges: dict[cst.CSTNode, CodeRange] = {}
    for top, group in sorted(groups.items()):
        statement = module.body[top]
        line = first_lines[top] - len(statement.leading_lines)
        if not 1 <= line <= len(offsets):
            return None
        recorder = _Recorder(group)
        state = _FilteredPositionState(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
            provider=recorder,  # type: ignore[arg-type]
        )
        state.line = line
        try:
            statement._codegen(state)
        except _AllRecorded:
            pass
        generated = "".join(state.tokens)
        start = offsets[line - 1]
        if text[start : start + len(generated)] != generated:
            return None  # not where ast says: do not guess
        ranges.update((node, recorder._computed[node]) for node in group if node in recorder._computed)
    return ranges


_LINE_END = re.compile(r"\r\n|\r|\n")


# ---------------------------------------------------------------------------
# parsing


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while one file is parsed and linted.

    libcst builds a Python object per node (about 100,000 for a 2,000-line file), and
    each allocation burst triggers collections; a full collection walks every object the
    process holds (in flake8: its own and the other plugins'), so the same parse took
    0.52 to 0.89 s over readthedocs.org's 53 parsed files depending on when collections
    fell, and 0.45-0.51 s with the collector paused. libcst trees hold no reference
    cycles, so reference counting frees them; the cycles a file's analysis leaves
    (about 25,000 objects for readthedocs.org's 2,300-line projects/models.py) are
    collected after the file, once the collector is back on. It is switched back on only
    if it was on.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def _may_be_pathological(text: str, lines: Sequence[str]) -> bool:
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


def _syntax_error(text: str, exc: cst.ParserSyntaxError) -> SourceError:
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
# the engine


@dataclass
class _Capture:
    """What fixing needs from a lint: the module, the fixes by finding, the names bound."""

    module: cst.Module | None = None
    ctx: FileContext | None = None
    pairs: list[tuple[Finding, Fix]] = dataclasses.field(default_factory=list)
    bound_names: dict[str, str] = dataclasses.field(default_factory=dict)


def _compiles(text: str) -> bool:
    try:
        quiet_ast_parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@dataclass
class FixOutcome:
    """A file after ``--fix``: the new text, the findings fixed, the findings left."""

    text: str
    applied: list[Finding]
    result: FileResult


@dataclass
class FileResult:
    """Findings of one file, plus what is needed to honour ``# noqa`` on them."""

    path: str
    findings: list[Finding]
    lines: list[str]
    parsed: bool


_WORD_START_NEEDLE_KEYS = frozenset(WORD_START_NEEDLES)


class Engine:
    """Lints sources with one Settings. Safe to reuse for any number of files."""

    def __init__(
        self,
        settings: Settings,
        rules: Sequence[type[Rule]] | None = None,
        index: ProjectIndex | None = None,
        *,
        slim: bool = True,
    ) -> None:
        self.settings = settings
        #: Lint a slimmed copy of each file (``slim.py``): same findings, less to parse.
        self.slim = slim
        #: The project index (None: per-file knowledge only; project rules stay silent).
        self.index = index
        self.rules = tuple(rules) if rules is not None else enabled_rules(settings)
        self.file_rules = tuple(r for r in self.rules if r is not FILE_NOT_PARSED)
        self.reports_unparsed = FILE_NOT_PARSED in self.rules
        #: Each rule's needles; a rule may add some from the project index (CLY107).
        self._rule_needles = {r: r.needles_for(index) for r in self.file_rules}
        self._needles = sorted({n for needles in self._rule_needles.values() for n in needles})
        #: needle -> the positions (in ``file_rules``) of the rules it can switch on
        self._needle_rules: dict[str, list[int]] = defaultdict(list)
        for position, rule in enumerate(self.file_rules):
            for needle in set(self._rule_needles[rule]):
                self._needle_rules[needle].append(position)
        #: Rules limited to some paths (CLY107: models modules); their needles are looked
        #: for only in files on those paths.
        self._path_rules = tuple(r for r in self.file_rules if r.path_pattern is not None)
        self._searches: dict[tuple[bool, ...], tuple[tuple[str | None, tuple[str, ...]], ...]] = {}
        self.apps = AppLocator(settings.src_roots())

    # -- selection -------------------------------------------------------------

    def active_rules(self, text: str, path: str) -> tuple[type[Rule], ...]:
        """The rules that can possibly report in this file: the prefilter."""
        posix = relative_posix(path, self.settings.project_root)
        key = tuple(rule.applies_to_path(posix) for rule in self._path_rules)
        search = self._searches.get(key)
        if search is None:
            search = self._searches[key] = self._search_plan(key)
        present: set[str] = set()
        for guard, needles in search:
            if guard is None or guard in text:
                present.update(n for n in needles if n in text)
        for needle in present & _WORD_START_NEEDLE_KEYS:
            if WORD_START_NEEDLES[needle].search(text) is None:
                present.discard(needle)
        if not present:
            return ()
        # Only the rules a present needle names are looked at further (in rule order):
        # most files that get this far hold one common needle, not 45 rules' worth.
        candidates = sorted({position for needle in present for position in self._needle_rules[needle]})
        ignored = self.settings.ignored_codes_for(path)
        patterns: dict[TextPattern, bool] = {}

        def matches(pattern: TextPattern | None) -> bool:
            if pattern is None:
                return True
            if pattern not in patterns:
                patterns[pattern] = pattern.matches(text)
            return patterns[pattern]

        rules = self.file_rules
        return tuple(
            rules[position]
            for position in candidates
            if not any(rules[position].code.startswith(c) for c in ignored)
            and rules[position].applies_to_path(posix)
            and matches(rules[position].text_pattern)
        )

    def _search_plan(self, applies: tuple[bool, ...]) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        """The needles to look for in a file, given which path-limited rules apply to it,
        grouped under a :data:`NEEDLE_GUARDS` substring they share: a file without the
        guard (most files) cannot hold any of them, so one search answers for the group.
        The prefilter is a substring search per needle over every file: 4.8 MB times 34
        needles on readthedocs.org, about a tenth of the plugin's time in flake8."""
        skipped = {rule for rule, applies_here in zip(self._path_rules, applies) if not applies_here}
        needles = sorted({n for rule in self.file_rules if rule not in skipped for n in self._rule_needles[rule]})
        groups: dict[str | None, list[str]] = {}
        for needle in needles:
            guard = next((g for g in NEEDLE_GUARDS if g in needle), None)
            groups.setdefault(guard, []).append(needle)
        plan = [(None, tuple(groups.pop(None, ())))]
        for guard, members in groups.items():
            if len(members) == 1:
                plan[0] = (None, (*plan[0][1], *members))  # a guard of one is the needle again
            else:
                plan.append((guard, tuple(members)))
        return tuple(plan)

    # -- entry points ------------------------------------------------------------

    def lint_path(self, path: str) -> FileResult:
        try:
            if os.path.getsize(path) > MAX_FILE_BYTES:
                raise SourceError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not linted")
            with open(path, "rb") as handle:
                data = handle.read()
        except SourceError as exc:
            return self._unparsed(path, exc, [])
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return self._unparsed(path, SourceError(f"cannot read file: {reason}"), [])
        return self.lint_bytes(data, path)

    def lint_bytes(self, data: bytes, path: str) -> FileResult:
        try:
            text = decode_source(data)
        except SourceError as exc:
            return self._unparsed(path, exc, [])
        return self.lint_text(text, path)

    def lint_text(self, text: str, path: str, tree: ast.Module | None = None) -> FileResult:
        """Findings of ``text``; ``tree``: its ``ast`` when the caller has it (flake8)."""
        return self._analyse(text, path, None, tree)

    def fix_text(self, text: str, path: str, *, unsafe: bool = False) -> FixOutcome:
        """Lint ``text`` and apply its fixes (safe ones; unsafe too with ``unsafe``).

        Rounds of lint -> apply until nothing more applies; fixes for findings that a
        ``# noqa`` suppresses are not applied. ``result`` holds the findings of the fixed
        text (what is left), ``applied`` the findings the fixes resolved.
        """
        from .noqa import visible

        applied: list[Finding] = []
        current = text
        result = None
        for _ in range(MAX_ROUNDS):
            capture = _Capture()
            result = self._analyse(current, path, capture)
            if capture.module is None or not capture.pairs:
                break
            shown = {id(f) for f in visible(result)}
            wanted = [
                (finding, fix)
                for finding, fix in capture.pairs
                if id(finding) in shown and (fix.applicability == SAFE or unsafe)
            ]
            if not wanted:
                break
            by_fix: dict[int, list[Finding]] = {}
            for finding, fix in wanted:  # one fix may resolve several findings
                by_fix.setdefault(id(fix), []).append(finding)
            unique = list({id(fix): fix for _, fix in wanted}.values())
            new_module, chosen = apply_fixes(capture.module, unique, capture.bound_names)
            new_text = new_module.code if chosen else current
            if new_text == current or not _compiles(new_text):
                break
            applied.extend(finding for fix in chosen for finding in by_fix[id(fix)])
            current = new_text
        else:
            result = self._analyse(current, path, None)
        assert result is not None
        return FixOutcome(current, applied, result)

    def context_of(self, text: str, path: str) -> FileContext | None:
        """The shared facts of a file (tasks, settings) without running any rule.

        For files CPython's ``ast`` cannot read but libcst can (newer syntax than the
        running Python): the project index falls back to this. None when unparsable.
        """
        try:
            if _may_be_pathological(text, text.splitlines()):
                return None
            module = parse_module(text)
            capture = _Capture()
            self.lint_module(module, path, (), capture)
        except Exception:  # noqa: BLE001 - the index just goes without this file
            return None
        return capture.ctx

    def _analyse(self, text: str, path: str, capture: _Capture | None, tree: ast.Module | None = None) -> FileResult:
        self.apps.touched = set()
        lines = text.splitlines()
        rules = self.active_rules(text, path)
        if not rules:
            return FileResult(path, [], lines, parsed=False)
        with _collector_paused():
            return self._parse_and_lint(text, path, capture, tree, lines, rules)

    def _parse_and_lint(
        self,
        text: str,
        path: str,
        capture: _Capture | None,
        tree: ast.Module | None,
        lines: list[str],
        rules: tuple[type[Rule], ...],
    ) -> FileResult:
        try:
            if _may_be_pathological(text, lines):
                tree = check_parser_safety(text, tree)
            # Fixes rewrite the module: they need all of it.
            if capture is not None or not self.slim:
                source, statements = text, (tree.body if tree is not None else None)
            else:
                source, statements = slim(text, tree)
            try:
                module = parse_module(source)
            except cst.ParserSyntaxError:
                if source is text:
                    raise
                source, statements = text, None
                module = parse_module(text)  # never report what slimming caused
        except SourceError as exc:
            return self._unparsed(path, exc, lines)
        except cst.ParserSyntaxError as exc:
            return self._unparsed(path, _syntax_error(text, exc), lines)
        except RecursionError:
            return self._unparsed(path, SourceError("code is nested too deeply for the parser"), lines)
        except Exception as exc:  # noqa: BLE001 - libcst raises assorted errors on odd input
            return self._unparsed(path, SourceError(f"the parser failed: {type(exc).__name__}: {exc}"), lines)
        try:
            findings = self.lint_module(module, path, rules, capture, statements=statements, source=source)
        except RecursionError:
            return self._unparsed(path, SourceError("code is nested too deeply to analyse"), lines)
        except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the run
            message = f"internal error in celery-lint, please report it: {type(exc).__name__}: {exc}"
            return self._unparsed(path, SourceError(message), lines)
        return FileResult(path, findings, lines, parsed=True)

    def lint_module(
        self,
        module: cst.Module,
        path: str,
        rules: Sequence[type[Rule]],
        capture: _Capture | None = None,
        *,
        statements: list[ast.stmt] | None = None,
        source: str | None = None,
    ) -> list[Finding]:
        """Run ``rules`` over a parsed module in one traversal.

        ``statements`` and ``source``: the ``ast`` top-level statements of the text the
        module was parsed from, and that text; with them, positions are computed for the
        statements holding findings only (``positions_of``)."""
        ctx = FileContext(path, self.settings, self.apps)
        ctx.index = self.index
        reports: list[Report] = []
        analyses = {}
        for rule in rules:
            for analysis in rule.requires:
                if analysis not in analyses:
                    analyses[analysis] = analysis(ctx, self.settings)
        ctx.analyses = analyses
        instances = [*analyses.values(), *(rule(ctx, self.settings, reports.append) for rule in rules)]

        visit: dict[type, list[Hook]] = defaultdict(list)
        leave: dict[type, list[Hook]] = defaultdict(list)
        events: dict[str, list[Hook]] = defaultdict(list)
        for node_type, handler in _CONTEXT_VISIT.items():
            visit[node_type].append(handler.__get__(ctx))
        for instance in instances:
            plan = _plan(type(instance))
            for node_type, names in plan.visit.items():
                visit[node_type].extend(getattr(instance, n) for n in names)
            for node_type, names in plan.leave.items():
                leave[node_type].extend(getattr(instance, n) for n in names)
            for event, names in plan.events.items():
                events[event].extend(getattr(instance, n) for n in names)
        for node_type, handler in _CONTEXT_LEAVE.items():
            leave[node_type].append(handler.__get__(ctx))

        def emit(event: str, payload: Any) -> None:
            for hook in events.get(event, ()):
                hook(payload)

        ctx._emit = emit
        walk = _Walk(dict(visit), dict(leave))
        walk.run_module(module)
        ctx.finish()
        for hook in events.get("module_leave", ()):
            hook()
        located = (walk.tops, statements, source) if statements is not None and source is not None else None
        findings = self._findings(module, path, reports, capture, located)
        if capture is not None:
            capture.module = module
            capture.ctx = ctx
            capture.bound_names = dict(ctx.imports)
            capture.bound_names.update({name: "" for name in ctx.module_names if name not in ctx.imports})
        return findings

    # -- helpers -------------------------------------------------------------------

    def _findings(
        self,
        module: cst.Module,
        path: str,
        reports: list[Report],
        capture: _Capture | None = None,
        located: tuple[dict[int, int], list[ast.stmt], str] | None = None,
    ) -> list[Finding]:
        if not reports:
            return []
        ranges = positions_of(module, (r.node for r in reports), located)
        findings = []
        seen: set[tuple[str, int, int, str]] = set()
        for report in reports:
            where = ranges.get(report.node)
            if where is None:  # pragma: no cover - every node of the module is generated
                continue
            finding = Finding(
                code=report.rule.code,
                name=report.rule.name,
                message=report.message,
                filename=path,
                line=where.start.line,
                column=where.start.column + 1,
                end_line=where.end.line,
                end_column=where.end.column + 1,
                fix=report.fix.describe() if report.fix is not None else None,
            )
            key = (finding.code, finding.line, finding.column, finding.message)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
                if capture is not None and report.fix is not None:
                    capture.pairs.append((finding, report.fix))
        findings.sort(key=Finding.sort_key)
        return findings

    def _unparsed(self, path: str, error: SourceError, lines: list[str]) -> FileResult:
        if not self.reports_unparsed or any(
            FILE_NOT_PARSED.code.startswith(c) for c in self.settings.ignored_codes_for(path)
        ):
            return FileResult(path, [], lines, parsed=False)
        finding = Finding(
            code=FILE_NOT_PARSED.code,
            name=FILE_NOT_PARSED.name,
            message=f"file not linted: {error}",
            filename=path,
            line=error.line,
            column=error.column,
            end_line=error.line,
            end_column=error.column,
        )
        return FileResult(path, [finding], lines, parsed=False)




def lint_source(source: str, path: str = "<stdin>.py", settings: Settings | None = None) -> list[Finding]:
    """Lint one source string; ``# noqa`` comments are honoured."""
    settings = settings or Settings(project_root=Path.cwd())
    from .noqa import visible

    return visible(Engine(settings).lint_text(source, path))

