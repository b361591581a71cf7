"""Fixes: what a rule proposes (:class:`Fix`) and the node builders that keep the user's style.

A rule reports ``self.report(node, message, fix=Fix(...))``. A :class:`Fix` is one or more
node replacements (an original node of the parsed module -> a new node built from it)
plus, optionally, imports the new code needs. libcst keeps every comment and all the
whitespace outside the replaced nodes, and the new nodes are built with
``with_changes`` from the originals, so the user's formatting survives.

Applying them is the engine's (``celery_lint/engine/fixes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import libcst as cst

SAFE = "safe"
UNSAFE = "unsafe"
#: Rounds of lint -> fix per file before giving up on convergence.
MAX_ROUNDS = 8

Replacement = Union[cst.CSTNode, cst.RemovalSentinel, cst.FlattenSentinel]


@dataclass(frozen=True)
class Edit:
    """Replace ``node`` (a node of the parsed module, by identity) with ``replacement``."""

    node: cst.CSTNode
    replacement: Replacement


@dataclass(frozen=True)
class Fix:
    applicability: str
    message: str
    edits: tuple[Edit, ...]
    #: ``(module, name)`` pairs the new code needs imported: ``from module import name``.
    imports: tuple[tuple[str, str], ...] = field(default=())

    def describe(self) -> dict[str, str]:
        return {"applicability": self.applicability, "message": self.message}


def replace(node: cst.CSTNode, replacement: Replacement, message: str, applicability: str = SAFE, **kw: object) -> Fix:
    """A fix made of one replacement."""
    return Fix(applicability, message, (Edit(node, replacement),), **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# node builders that keep the surrounding style


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        keyword=cst.Name(name),
        value=value,
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def add_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """``call`` with ``arg`` appended, in the call's own layout (one line, or one per line)."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[arg])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # A trailing comma: the call is laid out one argument per line. The new argument
        # takes the old trailing comma (and the closing layout); the old last argument
        # gets the separator the others use.
        if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
            separator = args[-2].comma
        else:
            separator = cst.Comma(whitespace_after=call.whitespace_before_args)
        args[-1] = last.with_changes(comma=separator)
        args.append(arg.with_changes(comma=last.comma))
    else:
        # No trailing comma: the space before `)` moves behind the new argument; a call
        # whose arguments start on their own line gets the new one on its own line too.
        if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
            separator = args[-2].comma  # the separator the other arguments use
        elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
            separator = cst.Comma(whitespace_after=call.whitespace_before_args)
        else:
            separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(arg.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


def with_keyword(expr: cst.BaseExpression, name: str, value: cst.BaseExpression) -> cst.Call:
    """A decorator or call expression with ``name=value`` added: ``@task`` -> ``@task(name=...)``."""
    if isinstance(expr, cst.Call):
        return add_arg(expr, keyword_arg(name, value))
    return cst.Call(func=expr, args=[keyword_arg(name, value)])


def without_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    """``call`` without ``arg`` (by identity), keeping the others' commas right."""
    args = list(call.args)
    index = next(i for i, a in enumerate(args) if a is arg)
    removed = args.pop(index)
    if args and index == len(args):  # removed the last one: the new last takes its comma
        args[-1] = args[-1].with_changes(comma=removed.comma)
    return call.with_changes(args=args)


def string(value: str) -> cst.SimpleString:
    """A string literal in the project's usual double quotes."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return cst.SimpleString(f'"{escaped}"')


def requote(original: cst.SimpleString, value: str) -> cst.SimpleString:
    """A string literal for ``value`` using ``original``'s prefix and quote character."""
    prefix = original.prefix
    quote = original.quote
    if len(quote) == 1 and (quote in value or "\\" in value or "\n" in value):
        return string(value)
    return cst.SimpleString(f"{prefix}{quote}{value}{quote}")
