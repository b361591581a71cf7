"""Positions of just the reported nodes, as libcst's ``PositionProvider`` gives them.

``PositionProvider`` costs about twice the parse and records every node; most files have
no finding, and the rest have a few. So positions are computed only when something was
reported, with a codegen pass over just the top-level statements holding reported nodes,
recording just those nodes (and the statements their positions are hoisted from).

**libcst's private API lives here and nowhere else.** The fast path subclasses
``PositionProvidingCodegenState`` (``libcst.metadata.position_provider``) and uses
``CodePosition``/``CodeRange`` (``libcst._position``) and ``Module._codegen``: libcst
has no public way to generate code for one statement while recording positions, nor to
stop codegen early. :func:`fast_path_available` checks, once, that the pieces exist with
the shape this module relies on; when they do not (a libcst release changed them),
:func:`positions_of` falls back to the public ``MetadataWrapper`` with
``PositionProvider``: slower, same answers. ``tests/test_positions.py`` fails on a libcst
whose private pieces changed, and ``pyproject.toml`` bounds libcst to the releases tested
(CI runs the suite on the lowest and the highest).
"""

from __future__ import annotations

import ast
import re
from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

try:  # private: see the module docstring
    from libcst.metadata.position_provider import PositionProvidingCodegenState
except ImportError:  # pragma: no cover - a libcst without it: the public path
    PositionProvidingCodegenState = object  # type: ignore[assignment,misc]


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
    if fast_path_available():
        try:
            if located is not None:
                ranges = _positions_by_statement(module, wanted, *located)
                if ranges is not None:
                    return ranges
            return _positions_in_module(module, wanted)
        except (AttributeError, TypeError):  # a libcst whose private pieces changed shape
            _FAST_PATH[:] = [False]
    return public_positions(module, wanted)


def public_positions(module: cst.Module, wanted: set[cst.CSTNode]) -> dict[cst.CSTNode, CodeRange]:
    """The same ranges through libcst's public API: every node's position, then the wanted
    ones (about twice the parse's cost; ``unsafe_skip_copy`` keeps the nodes' identity)."""
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {node: ranges[node] for node in wanted if node in ranges}


_FAST_PATH: list[bool] = []


def fast_path_available() -> bool:
    """The private pieces exist (checked once per process). That they give what the
    public provider gives is ``tests/test_positions.py``'s to prove, on every libcst
    release ``pyproject.toml`` allows; at run time a piece that changed shape (an
    ``AttributeError`` or ``TypeError`` in codegen) switches this process to the public path.
    Comparing with the public provider here cost 10 ms in every worker process."""
    if not _FAST_PATH:
        state_type = PositionProvidingCodegenState
        needed = ("record_syntactic_position", "before_codegen", "after_codegen", "provider")
        _FAST_PATH.append(
            state_type is not object
            and all(hasattr(state_type, name) or name in getattr(state_type, "__dataclass_fields__", {}) for name in needed)
            and hasattr(cst.Module, "_codegen")
        )
    return _FAST_PATH[0]


class _Collect(cst.CSTVisitor):
    def __init__(self, nodes: list[cst.CSTNode]) -> None:
        super().__init__()
        self.nodes = nodes

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return True


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
