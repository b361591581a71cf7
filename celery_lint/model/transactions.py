"""CLY601's reading of transactions: the calls made directly inside
``with transaction.atomic()``, an ``@atomic`` function, or a model's ``save()``/``delete()``.

A file that only a transaction word brought in is asked, before libcst parses it,
whether one of those calls can reach a dispatch (``CallGraph.reach``): its transaction
regions are cut out of its text as a small module (:func:`transaction_snippet`) and read
without the parser where they stand alone (:func:`snippet_calls`), with :mod:`ast`
otherwise (:func:`transaction_calls`).
"""

from __future__ import annotations

import ast
import re

from .source import DEFINITIONS, bind_imports, statements
from .summaries import _IMPORT, _TOP_DEF, LOCAL, LazyImports, _Reader

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
