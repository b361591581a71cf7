"""Blank the parts of a file no rule can read, before libcst parses it.

libcst's parse costs about 20x ``ast.parse`` per byte, and a file that passes the
prefilter (one ``.delay(`` in a 2,000-line ``views.py``) is mostly code no rule reads.
``slim_source`` uses CPython's ``ast`` (cheap; flake8 hands us its tree for free) to find
top-level functions and classes, and methods of top-level classes, that cannot matter,
and replaces their lines with empty lines. Every kept line keeps its number and its
text, so findings keep their exact positions; fixes and ``context_of`` always parse the
full text.

A definition is kept when any of these holds (everything else is blanked):

- its text contains a keep word: every prefilter needle (``ALL_NEEDLES`` but CLY107's)
  plus the words rules read around them (``Celery``, ``.task`` but not ``.tasks``, ``shared_task``,
  ``Task``, ``atomic``, ``on_commit``, ...);
- it mentions a name bound at module level by an assignment or an import whose text has
  a keep word (a decorator alias ``retrying = shared_task(acks_late=True)``, a renamed
  import ``from celery import shared_task as st``);
- for a top-level function or class: kept code mentions its name (a helper a task
  calls, a base class), repeated until nothing more is kept. Not for a method of a plain
  class: no rule follows a call into a method (same-file helpers are resolved among
  top-level functions), and names like ``save`` are mentioned by almost any kept code;
- for a method: its class's header (decorators, bases, keywords) has a keep word or such
  a name, as for a ``Task`` subclass; then the whole class is kept.

Module-level statements other than definitions (imports, assignments, ``if``/``try``
blocks, schedules, settings) are always kept. A class whose every method is blanked gets
``pass`` on the first blanked line. When ``ast`` cannot read the file (syntax newer than
the running Python), or lines do not split the way the tokenizer splits them, the full
text is used. ``tests/test_slim.py`` checks that every rule example and fixture gives the
same findings slimmed and in full; ``bench/slim_check.py TREE`` does the same on a tree.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Union

from ..model.needles import ALL_NEEDLES, MODELS_NEEDLES

#: Words that keep a definition besides the needles: what rules read near a needle.
#: (Not ``noqa``: a definition without a keep word holds no finding for a ``# noqa`` to
#: suppress, slimmed or not, so CLY901 judges its comments the same either way.)
#: Task definitions spell ``.task`` or ``shared_task``; a ``@task`` imported from Celery
#: is a special name (see ``_special_names``).
EXTRA_KEEP_WORDS = (
    "Celery",
    ".task",
    "shared_task",
    "Task",
    "atomic",
    "on_commit",
    "retry",
    "routes",
    "ROUTES",
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Lines as CPython's tokenizer counts them (``str.splitlines`` also splits on form
#: feeds and other separators, which would shift every later line).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")

_Def = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


#: CLY107's needle (``tasks``) is left out: it reports module-level imports only, and
#: those are always kept.
KEEP_NEEDLES = tuple(n for n in ALL_NEEDLES if n not in MODELS_NEEDLES)


#: The keep words (``KEEP_NEEDLES`` and ``EXTRA_KEEP_WORDS``), longest first.
KEEP = re.compile(
    "|".join(
        # `.task` (`@app.task`), not `.tasks` (a module path: `proj.tasks.send`), which kept
        # 30 definitions (35 kB) of readthedocs.org that mention a task module and nothing else
        r"\.task(?!s(?!\w))" if w == ".task" else re.escape(w)
        for w in sorted({*KEEP_NEEDLES, *EXTRA_KEEP_WORDS}, key=lambda w: (-len(w), w))
    )
)


class _Candidate:
    __slots__ = ("node", "start", "end", "text", "_names")

    def __init__(self, node: _Def, start: int, end: int, text: str) -> None:
        self.node = node
        self.start = start
        self.end = end
        self.text = text
        self._names: set[str] | None = None

    @property
    def names(self) -> set[str]:
        if self._names is None:
            self._names = set(_IDENTIFIER.findall(self.text))
        return self._names


def slim_source(text: str, tree: ast.Module | None = None) -> str:
    """``text`` with the definitions no rule can read blanked (see the module docstring).

    Returns ``text`` itself when nothing can be blanked or ``ast`` cannot read it.
    """
    return slim(text, tree)[0]


def slim(text: str, tree: ast.Module | None = None) -> tuple[str, list[ast.stmt] | None]:
    """``slim_source``, and the top-level ``ast`` statements of the text it returns (in
    order, with their line numbers; None when ``ast`` cannot read the text). The engine
    uses them to compute positions without generating code for the whole module."""
    if tree is None:
        try:
            with warnings.catch_warnings():  # SyntaxWarnings about the user's code
                warnings.simplefilter("ignore")
                tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return text, None
    lines = _LINE.findall(text)
    if not lines or (tree.body and getattr(tree.body[-1], "end_lineno", 0) > len(lines)):
        return text, None  # the tokenizer counted lines differently: do not guess
    special = _special_names(tree, lines)
    kept: list[str] = []
    candidates: list[_Candidate] = []
    blanked_methods: list[_Candidate] = []

    def consider(body: list[ast.stmt], in_class: bool) -> None:
        for node in body:
            if not isinstance(node, _DEFS):
                kept.append(_segment(lines, node.lineno - 1, node.end_lineno or node.lineno))
                continue
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            end = node.end_lineno or node.lineno
            candidate = _Candidate(node, start, end, _segment(lines, start, end))
            if not KEEP.search(candidate.text) and not (candidate.names & special):
                if in_class:
                    # A method of a plain class: kept for its own keep words only. No
                    # rule follows a call into a method (same-file helpers are resolved
                    # among top-level functions), and a name like `save` or `get` is
                    # mentioned by almost any kept code: pulling such methods in kept
                    # 5-7% more of readthedocs.org and saleor, for no finding.
                    blanked_methods.append(candidate)
                    continue
                candidates.append(candidate)
            elif isinstance(node, ast.ClassDef) and not in_class and not _header_matters(node, lines, start, special):
                # A plain class (a model, a view) with a method that matters: keep its
                # header and its statements, and look at each method on its own.
                header_end = max(node.body[0].lineno - 1, node.lineno) if node.body else end
                kept.append(_segment(lines, start, header_end))
                consider(node.body, True)
            else:
                kept.append(candidate.text)

    consider(tree.body, False)
    if candidates:
        mentioned = set(_IDENTIFIER.findall("".join(kept)))
        changed = True
        while changed:
            changed = False
            remaining = []
            for candidate in candidates:
                if candidate.node.name in mentioned:
                    mentioned |= candidate.names
                    changed = True
                else:
                    remaining.append(candidate)
            candidates = remaining
    candidates += blanked_methods
    if not candidates:
        return text, tree.body
    blanked = {id(c.node) for c in candidates}
    for candidate in candidates:
        for number in range(candidate.start, candidate.end):
            line = lines[number]
            lines[number] = line[len(line.rstrip("\r\n")) :]
    for node in tree.body:  # a class left without statements needs one
        if isinstance(node, ast.ClassDef) and node.body and all(id(m) in blanked for m in node.body):
            first = node.body[0]
            start = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", ()))]) - 1
            lines[start] = " " * first.col_offset + "pass" + lines[start]
    return "".join(lines), [node for node in tree.body if id(node) not in blanked]


def _segment(lines: list[str], start: int, end: int) -> str:
    return "".join(lines[start:end])


def _special_names(tree: ast.Module, lines: list[str]) -> set[str]:
    """Names that keep any definition mentioning them: names bound at module level by an
    assignment or import whose text has a keep word (decorator aliases, renamed imports)."""
    names: set[str] = set()

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                if not KEEP.search(_segment(lines, node.lineno - 1, node.end_lineno or node.lineno)):
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                if KEEP.search(_segment(lines, node.lineno - 1, node.end_lineno or node.lineno)):
                    names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for part in ("body", "orelse", "finalbody"):
                    walk(getattr(node, part, None) or [])
                for handler in getattr(node, "handlers", ()):
                    walk(handler.body)

    walk(tree.body)
    return names


def _header_matters(node: ast.ClassDef, lines: list[str], start: int, special: set[str]) -> bool:
    """The class's decorators, bases and keywords mention a keep word or a special name."""
    header_end = node.body[0].lineno - 1 if node.body else (node.end_lineno or node.lineno)
    header = _segment(lines, start, max(header_end, node.lineno))
    # Not the class's own name: `class TestRetryTask(TestCase)` is a plain class.
    header = re.sub(rf"\bclass\s+{node.name}\b", "class", header, count=1)
    return KEEP.search(header) is not None or bool(set(_IDENTIFIER.findall(header)) & special)
