"""Applying many fixes to one file in one pass.

Fixes are taken in report order; one whose nodes overlap a node an earlier fix already
edits is left for the next round (the engine re-lints the fixed text and applies again,
up to :data:`~celery_lint.model.edits.MAX_ROUNDS`). The result must parse with CPython,
or the round is dropped.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import libcst as cst

from ..model.edits import Fix, Replacement


def _subtree_ids(node: cst.CSTNode) -> set[int]:
    ids: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        ids.add(id(current))
        stack.extend(current.children)
    return ids


def select_non_overlapping(fixes: Iterable[Fix]) -> list[Fix]:
    """The fixes that can be applied together: no node is edited by two of them."""
    claimed: set[int] = set()
    chosen: list[Fix] = []
    for fix in fixes:
        ids: set[int] = set()
        for edit in fix.edits:
            ids |= _subtree_ids(edit.node)
        if ids & claimed:
            continue
        claimed |= ids
        chosen.append(fix)
    return chosen


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[int, Replacement]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) not in self.replacements

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Replacement:  # type: ignore[override]
        return self.replacements.get(id(original_node), updated_node)


def apply_fixes(module: cst.Module, fixes: Sequence[Fix], bound_names: dict[str, str]) -> tuple[cst.Module, list[Fix]]:
    """Apply the non-overlapping subset of ``fixes``; return the new module and what was applied.

    ``bound_names`` maps the module's top-level names to what they import, so an import a
    fix needs is added only when missing (and the fix is skipped when the name is taken
    by something else).
    """
    usable = [f for f in fixes if all(bound_names.get(name, f"{mod}.{name}") == f"{mod}.{name}" for mod, name in f.imports)]
    chosen = select_non_overlapping(usable)
    if not chosen:
        return module, []
    replacements = {id(edit.node): edit.replacement for fix in chosen for edit in fix.edits}
    new = module.visit(_Replace(replacements))
    needed = []
    for fix in chosen:
        for mod, name in fix.imports:
            if name not in bound_names and (mod, name) not in needed:
                needed.append((mod, name))
    if needed:
        new = _add_imports(new, needed)
    return new, chosen


def _add_imports(module: cst.Module, imports: list[tuple[str, str]]) -> cst.Module:
    """Add ``from mod import name`` after the last top-level import (or the docstring)."""
    body = list(module.body)
    position = 0
    for index, statement in enumerate(body):
        if isinstance(statement, cst.SimpleStatementLine) and statement.body:
            first = statement.body[0]
            if isinstance(first, (cst.Import, cst.ImportFrom)):
                position = index + 1
                continue
            if index == 0 and isinstance(first, cst.Expr) and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString)):
                position = 1
                continue
        if position or index > 0:
            break
    new_lines = [cst.parse_statement(f"from {mod} import {name}\n") for mod, name in imports]
    return module.with_changes(body=[*body[:position], *new_lines, *body[position:]])
