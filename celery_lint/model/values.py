"""Values the linter can know without running anything: literals, durations, call arguments.

:data:`UNKNOWN` stands for a value that is not a literal; rules stay silent on it. The
project index stores values as JSON, where :data:`UNKNOWN_VALUE` plays that part.
"""

from __future__ import annotations

import ast
import datetime
import operator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import libcst as cst


class _Unknown:
    """A value that is not a literal the linter can evaluate. Rules stay silent on it."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()



_BINARY = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
}


@dataclass(frozen=True)
class Folded:
    """A name's value folded elsewhere: a constant of another module (``from shop.limits
    import SOFT``), read with :func:`ast_value`. A ``datetime.timedelta`` is not a literal
    for :func:`literal_value`, only for :func:`timedelta_seconds`."""

    value: Any


class Constants(Protocol):
    """What a name is bound to where it is read (``FileContext.constant`` answers)."""

    def constant(self, name: str) -> cst.BaseExpression | Folded | None: ...


#: The names of the file being read: set by the per-file context for its traversal, so that
#: every rule folds module constants the same way (``SOFT = HARD = 300`` then
#: ``soft_time_limit=SOFT``) without each passing them along.
CONSTANTS: ContextVar[Constants | None] = ContextVar("celery_lint_constants", default=None)


_KEYWORD_VALUES = {"True": True, "False": False, "None": None}


def literal_value(node: cst.BaseExpression | None, depth: int = 0) -> Any:
    """Evaluate a literal the way Python would, or return UNKNOWN.

    Handles constants, strings (implicit concatenation too), ``None``/``True``/``False``,
    unary minus, simple arithmetic on numbers (``2 * 24 * 3600``) and tuples, lists,
    sets and dicts of literals, and, while a file is read, the names of its module
    constants (:data:`CONSTANTS`): a name bound at module level to such a value (the
    binding in force where it is read, as Python runs the module top-down), unless the
    function reading it binds the name itself. Never executes anything.
    """
    if node is None or depth > 50:
        return UNKNOWN
    if isinstance(node, cst.Integer):
        return node.evaluated_value
    if isinstance(node, cst.Float):
        return node.evaluated_value
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return UNKNOWN if value is None else value
    if isinstance(node, cst.Name):
        if node.value in _KEYWORD_VALUES:
            return _KEYWORD_VALUES[node.value]
        names = CONSTANTS.get()
        bound = names.constant(node.value) if names is not None else None
        if isinstance(bound, Folded):
            return UNKNOWN if isinstance(bound.value, datetime.timedelta) else bound.value
        return UNKNOWN if bound is None else literal_value(bound, depth + 1)
    if isinstance(node, cst.UnaryOperation):
        inner = literal_value(node.expression, depth + 1)
        if isinstance(node.operator, cst.Minus) and _is_number(inner):
            return -inner
        if isinstance(node.operator, cst.Plus) and _is_number(inner):
            return inner
        if isinstance(node.operator, cst.Not) and inner is not UNKNOWN:
            return not inner
        return UNKNOWN
    if isinstance(node, cst.BinaryOperation):
        op = _BINARY.get(type(node.operator))
        left = literal_value(node.left, depth + 1)
        right = literal_value(node.right, depth + 1)
        if op is None or not (_is_number(left) and _is_number(right)):
            return UNKNOWN
        if op is operator.pow and abs(right) > 64:
            return UNKNOWN
        try:
            return op(left, right)
        except (ArithmeticError, ValueError):
            return UNKNOWN
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        items = []
        for element in node.elements:
            if not isinstance(element, cst.Element):
                return UNKNOWN
            value = literal_value(element.value, depth + 1)
            if value is UNKNOWN:
                return UNKNOWN
            items.append(value)
        return tuple(items) if not isinstance(node, cst.Set) else frozenset(items)
    return UNKNOWN


#: ``datetime.timedelta``'s parameters in positional order, with their length in seconds.
TIMEDELTA_UNITS = (
    ("days", 86400.0),
    ("seconds", 1.0),
    ("microseconds", 1e-6),
    ("milliseconds", 1e-3),
    ("minutes", 60.0),
    ("hours", 3600.0),
    ("weeks", 604800.0),
)
_TIMEDELTA_FACTORS = dict(TIMEDELTA_UNITS)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def string_value(node: cst.BaseExpression | None) -> str | None:
    value = literal_value(node)
    return value if isinstance(value, str) else None


def keyword_args(call: cst.Call) -> dict[str, cst.Arg]:
    return {arg.keyword.value: arg for arg in call.args if arg.keyword is not None}


def positional_args(call: cst.Call) -> list[cst.Arg]:
    return [arg for arg in call.args if arg.keyword is None and not arg.star]


def has_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, None for anything else."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


#: JSON stand-in for a value that is not a literal (the project index's :data:`UNKNOWN`).
UNKNOWN_VALUE = {"__unknown__": True}


def is_unknown(value: Any) -> bool:
    """Is ``value`` the index's JSON stand-in for a non-literal?"""
    return isinstance(value, dict) and value.get("__unknown__") is True


def ast_literal(node: ast.AST | None) -> Any:
    """An ``ast`` node's literal value as JSON (:data:`UNKNOWN_VALUE` when not a literal)."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN_VALUE
    return jsonable(value)


def ast_value(
    node: ast.AST | None,
    name_value: Callable[[str], Any],
    qualname: Callable[[ast.AST], str | None],
    depth: int = 0,
) -> Any:
    """:func:`literal_value` on an ``ast`` node, for a module read without libcst (the
    constants of another module): numbers, strings, ``None``/``True``/``False``, unary and
    binary arithmetic on numbers, tuples, lists and dicts of such, names through
    ``name_value`` (UNKNOWN when not a constant), and ``datetime.timedelta(...)`` calls
    with literal arguments (a ``datetime.timedelta``). UNKNOWN for anything else."""
    if node is None or depth > 50:
        return UNKNOWN
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, (str, int, float, bool, type(None))) else UNKNOWN
    if isinstance(node, ast.Name):
        return name_value(node.id)
    if isinstance(node, ast.UnaryOp):
        inner = ast_value(node.operand, name_value, qualname, depth + 1)
        if isinstance(node.op, ast.USub) and _is_number(inner):
            return -inner
        if isinstance(node.op, ast.UAdd) and _is_number(inner):
            return inner
        return UNKNOWN
    if isinstance(node, ast.BinOp):
        op = _AST_BINARY.get(type(node.op))
        left = ast_value(node.left, name_value, qualname, depth + 1)
        right = ast_value(node.right, name_value, qualname, depth + 1)
        if op is None or not (_is_number(left) and _is_number(right)) or (op is operator.pow and abs(right) > 64):
            return UNKNOWN
        try:
            return op(left, right)
        except (ArithmeticError, ValueError):
            return UNKNOWN
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [ast_value(e, name_value, qualname, depth + 1) for e in node.elts]
        return UNKNOWN if any(i is UNKNOWN for i in items) else tuple(items)
    if isinstance(node, ast.Call) and qualname(node.func) == "datetime.timedelta":
        total = 0.0
        for index, arg in enumerate(node.args):
            value = ast_value(arg, name_value, qualname, depth + 1)
            if isinstance(arg, ast.Starred) or index >= len(TIMEDELTA_UNITS) or not _is_number(value):
                return UNKNOWN
            total += value * TIMEDELTA_UNITS[index][1]
        for keyword in node.keywords:
            value = ast_value(keyword.value, name_value, qualname, depth + 1)
            factor = _TIMEDELTA_FACTORS.get(keyword.arg or "")
            if factor is None or not _is_number(value):
                return UNKNOWN
            total += value * factor
        try:
            return datetime.timedelta(seconds=total)
        except OverflowError:
            return UNKNOWN
    return UNKNOWN


_AST_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def jsonable(value: Any) -> Any:
    """A literal as JSON: sequences become lists, anything else opaque :data:`UNKNOWN_VALUE`."""
    if isinstance(value, (tuple, list, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return UNKNOWN_VALUE
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return UNKNOWN_VALUE


# ---------------------------------------------------------------------------
# durations (``qualname``: what a name refers to through the file's imports)


def timedelta_seconds(
    node: cst.BaseExpression | None, qualname: Callable[[cst.BaseExpression], str | None], depth: int = 0
) -> Any:
    """Seconds in a literal ``datetime.timedelta(...)`` call, or in a module constant bound
    to one (here or in another module: ``RETRY_DELAY = timedelta(minutes=5)``), or UNKNOWN."""
    if isinstance(node, cst.Name) and depth < 20:
        names = CONSTANTS.get()
        bound = names.constant(node.value) if names is not None else None
        if isinstance(bound, Folded):
            return bound.value.total_seconds() if isinstance(bound.value, datetime.timedelta) else UNKNOWN
        return timedelta_seconds(bound, qualname, depth + 1) if bound is not None else UNKNOWN
    if not isinstance(node, cst.Call) or qualname(node.func) != "datetime.timedelta":
        return UNKNOWN
    total = 0.0
    for index, arg in enumerate(node.args):
        if arg.star:
            return UNKNOWN
        if arg.keyword is not None:
            unit = arg.keyword.value
        elif index < len(TIMEDELTA_UNITS):
            unit = TIMEDELTA_UNITS[index][0]
        else:
            return UNKNOWN
        factor = _TIMEDELTA_FACTORS.get(unit)
        value = literal_value(arg.value)
        if factor is None or not _is_number(value):
            return UNKNOWN
        total += value * factor
    return total


def seconds_value(node: cst.BaseExpression | None, qualname: Callable[[cst.BaseExpression], str | None]) -> Any:
    """A duration in seconds the way Celery reads ``countdown``/``default_retry_delay``.

    A number or constant arithmetic (``2 * 3600``), or ``timedelta(...).total_seconds()``;
    UNKNOWN for anything else.
    """
    value = literal_value(node)
    if _is_number(value):
        return value
    if (
        isinstance(node, cst.Call)
        and not node.args
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "total_seconds"
    ):
        return timedelta_seconds(node.func.value, qualname)
    return UNKNOWN


def eta_offset_seconds(node: cst.BaseExpression | None, qualname: Callable[[cst.BaseExpression], str | None]) -> Any:
    """For ``eta=<now> + timedelta(...)`` (either order): the offset in seconds, or UNKNOWN."""
    if not isinstance(node, cst.BinaryOperation) or not isinstance(node.operator, cst.Add):
        return UNKNOWN
    for offset in (node.right, node.left):
        seconds = timedelta_seconds(offset, qualname)
        if seconds is not UNKNOWN:
            return seconds
    return UNKNOWN
