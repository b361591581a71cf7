"""The one traversal: a depth-first walk over syntactic child fields, calling the context's
handlers and then each active rule's hooks (in reverse on leave).

``CSTVisitor`` rebuilds every node it walks and visits whitespace, comments and
punctuation; this walk does neither, and calls only the hooks the active rules define.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import libcst as cst

from ..model.context import CONTEXT_LEAVE, CONTEXT_VISIT, FileContext
from ..rules import Rule



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


class Walk:
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


def walk_for(ctx: FileContext, instances: Sequence[object]) -> tuple[Walk, dict[str, list[Hook]]]:
    """The walk for one file: the context's handlers first on visit and last on leave, each
    instance's hooks between them; and each instance's event hooks (``task_enter``, ...)."""
    visit: dict[type, list[Hook]] = defaultdict(list)
    leave: dict[type, list[Hook]] = defaultdict(list)
    events: dict[str, list[Hook]] = defaultdict(list)
    for node_type, handler in CONTEXT_VISIT.items():
        visit[node_type].append(handler.__get__(ctx))
    for instance in instances:
        plan = _plan(type(instance))  # type: ignore[arg-type]
        for node_type, names in plan.visit.items():
            visit[node_type].extend(getattr(instance, n) for n in names)
        for node_type, names in plan.leave.items():
            leave[node_type].extend(getattr(instance, n) for n in names)
        for event, names in plan.events.items():
            events[event].extend(getattr(instance, n) for n in names)
    for node_type, handler in CONTEXT_LEAVE.items():
        leave[node_type].append(handler.__get__(ctx))
    return Walk(dict(visit), dict(leave)), events

