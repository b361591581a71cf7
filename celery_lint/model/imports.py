"""What a module imports, read from its text without parsing it (issue 18: the import graph
CLY108 walks from what a worker loads).

Finding the word ``import`` and matching the statement around it costs about 0.15 s for
all of saleor's 4,300 files, where parsing each with ``ast`` would cost three seconds; the
index reads a module this way only when the walk from what a worker loads reaches it
(``index.ImportGraph``), and keeps the answer in its cache. The scan
errs one way only, the safe one for "no worker imports this module": a statement inside a
string or under ``if TYPE_CHECKING:`` counts as an import (an extra edge can only silence
CLY108), and an import the text cannot show (``importlib.import_module(name)``) is
recorded as ``*``, which makes every module reachable from it unknown.

Each import is one string:

- ``a.b.c``: an absolute module name (``from a.b import c`` gives ``a.b`` and ``a.b.c``,
  which the graph keeps only when such a module exists);
- ``a.b.*``: every submodule of ``a.b`` (``from a.b import *``, which may load the
  submodules its ``__all__`` names);
- ``*.signals``: any module whose name ends so (``import_module(f"{app}.signals")``);
- ``*``: any module at all.
"""

from __future__ import annotations

import ast
import re
import sys
from typing import Any

from .source import resolve_relative
from .values import UNKNOWN_VALUE, ast_literal

#: One import statement starting at a line's first non-blank character: ``from X import
#: (a, b)`` (parentheses across lines), ``from X import a, b \`` (continued), ``import a.b
#: as c, d``. Group 1: the source; group 2: the names; group 3: the modules.
_STATEMENT = re.compile(
    rb"[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]*(\([^)]*\)|(?:[^\n#;\\]|\\\r?\n)*)"
    rb"|import[ \t]+((?:[^\n#;\\]|\\\r?\n)+))"
)
#: Calls that import a module named at run time.
_DYNAMIC_WORDS = (b"import_module", b"__import__", b"import_string", b"autodiscover_modules")
_DYNAMIC = re.compile(rb"\b(import_module|__import__|import_string|autodiscover_modules)\(\s*")
#: The argument of such a call: a plain string, an f-string with a literal tail, anything else.
_LITERAL_ARGUMENT = re.compile(rb"""(['"])([\w.]+)\1\s*[,)]""")
_FSTRING_TAIL = re.compile(rb"""f(['"])[^'"\n]*\}(\.?[\w.]*)\1\s*[,)]""")
_STDLIB = frozenset(sys.stdlib_module_names)
_SPLIT = re.compile(r"[\s,()\\]+")


def scan_imports(data: bytes, module: str | None, is_package: bool) -> list[str]:
    """The modules the text ``data`` of module ``module`` can import, sorted and unique
    (standard-library modules left out: they never import project code)."""
    found: set[str] = set()
    find = data.find
    position = 0
    while True:
        at = find(b"import", position)
        if at < 0:
            break
        start = data.rfind(b"\n", 0, at) + 1
        match = _STATEMENT.match(data, start)
        if match is None or match.end() <= at:
            # after `;` or a compound statement's `:` on the same line (`try: import x`)
            cut = max(data.rfind(b";", start, at), data.rfind(b":", start, at))
            match = _STATEMENT.match(data, cut + 1) if cut >= 0 else None
        if match is None or match.end() <= at:
            position = at + 6
            continue
        position = match.end()
        source, names, modules = match.group(1), match.group(2), match.group(3)
        if modules is not None:
            for part in modules.decode("ascii", "replace").split(","):
                name = part.strip(" \t\\\r\n()").split(" as ")[0].strip()
                if _is_dotted(name):
                    found.add(name)
            continue
        text = source.decode("ascii", "replace")
        level = len(text) - len(text.lstrip("."))
        base = resolve_relative(text[level:], level, module, is_package)
        if base.startswith(".") or (base and not _is_dotted(base)):
            continue  # a relative import above the top package: Python fails too
        for part in names.decode("ascii", "replace").split(","):
            words = _SPLIT.split(part.strip(" \t\r\n()\\"))
            name = words[0] if words else ""
            if name == "*":
                found.add(f"{base}.*" if base else "*")
            elif name.isidentifier() and base:
                found.add(f"{base}.{name}")
        if base:
            found.add(base)
    if any(word in data for word in _DYNAMIC_WORDS):
        for match in _DYNAMIC.finditer(data):
            _argument(data, match.end(), found, match.group(1) == b"autodiscover_modules")
    return sorted(n for n in found if n.split(".", 1)[0] not in _STDLIB)


def _argument(data: bytes, at: int, found: set[str], submodule: bool) -> None:
    """The module a dynamic import at ``at`` (after its parenthesis) names; ``submodule``:
    Django's ``autodiscover_modules("jobs")``, which imports ``<app>.jobs`` of every app."""
    literal = _LITERAL_ARGUMENT.match(data, at)
    if literal is not None:
        name = literal.group(2).decode("ascii")
        if submodule:
            found.add(f"*.{name}")
        else:
            found.add(name if not name.startswith(".") else "*")  # relative: its package is not known here
        return
    tail = _FSTRING_TAIL.match(data, at)
    if tail is not None and tail.group(2).startswith(b".") and not submodule:
        found.add("*" + tail.group(2).decode("ascii"))
        return
    found.add("*")


def _is_dotted(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def discovery_record(call: ast.Call) -> dict[str, Any]:
    """What an ``autodiscover_tasks(packages, related_name)`` call names (see
    ``ModuleFacts.discovery``): ``packages`` is a list of literal names, ``"installed_apps"``
    (no argument: Celery asks its Django fixup; or ``settings.INSTALLED_APPS``, bare or in a
    ``lambda``), or None when it cannot be read; ``related_name`` a string, None (the
    packages themselves), or ``{"unknown": True}``."""
    arguments: dict[str, ast.AST] = {}
    for position, argument in zip(("packages", "related_name"), call.args):
        arguments[position] = argument
    for keyword in call.keywords:
        if keyword.arg in ("packages", "related_name"):
            arguments[keyword.arg] = keyword.value
        elif keyword.arg is None:
            return {"kind": "autodiscover", "packages": None, "related_name": {"unknown": True}, "line": call.lineno}
    packages: Any = "installed_apps"
    given = arguments.get("packages")
    if isinstance(given, ast.Lambda) and not given.args.args:
        given = given.body
    if given is not None and not (isinstance(given, ast.Constant) and given.value is None):
        dotted = ast.unparse(given) if isinstance(given, (ast.Name, ast.Attribute)) else ""
        if dotted == "INSTALLED_APPS" or dotted.endswith(".INSTALLED_APPS"):
            packages = "installed_apps"
        else:
            value = ast_literal(given)
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            packages = value if ok else None
    related: Any = "tasks"
    if "related_name" in arguments:
        value = ast_literal(arguments["related_name"])
        related = value if value is None or isinstance(value, str) else {"unknown": True}
    return {"kind": "autodiscover", "packages": packages, "related_name": related, "line": call.lineno}


#: ``INSTALLED_APPS = [...]`` at a module's top level (Django settings).
INSTALLED_APPS_NEEDLE = b"INSTALLED_APPS"


def installed_apps(tree: ast.Module) -> list[str] | Any | None:
    """The apps a settings module's top-level ``INSTALLED_APPS`` assignments list: the
    strings, in order; ``UNKNOWN_VALUE`` when some part is not a literal (a computed list,
    ``+= get_apps()``); None when the module does not set it. Every assignment adds to
    the list (``=`` in one branch and ``+=`` in another, or two settings classes: more
    apps can only silence CLY108); names of literal lists defined above
    (``DJANGO_APPS + LOCAL_APPS``) are followed; a class body's or an ``if``/``try``
    branch's assignment counts as the module's."""
    apps: list[str] | None = None
    unknown = False
    lists: dict[str, list[str] | None] = {"INSTALLED_APPS": []}
    statements: list[ast.stmt] = list(tree.body)
    for node in statements:  # grows while walked: class bodies and branches, in order
        if isinstance(node, ast.ClassDef):
            statements.extend(node.body)
        elif isinstance(node, (ast.If, ast.Try)):
            statements.extend(node.body)
            statements.extend(getattr(node, "orelse", []))
            for handler in getattr(node, "handlers", []):
                statements.extend(handler.body)
    for node in statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "INSTALLED_APPS":
            computed = _function_apps(node)  # a settings class's `@property def INSTALLED_APPS`
            if computed is None:
                unknown = True
            else:
                apps = [*(apps or []), *(s for s in computed if s not in (apps or []))]
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            added = _appended(node.value)  # `INSTALLED_APPS.append("channels")`
            if added is None:
                unknown = True
            else:
                apps = [*(apps or []), *(s for s in added if s not in (apps or []))] if added or apps is not None else apps
            continue
        targets: list[ast.AST] = []
        value: ast.AST | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets, value = [node.target], node.value
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if value is None or not names:
            continue
        strings = _strings(value, lists)
        for name in names:
            if name != "INSTALLED_APPS":
                lists[name] = strings
        if "INSTALLED_APPS" not in names:
            continue
        if strings is None:
            unknown = True
        else:
            apps = [*(apps or []), *(s for s in strings if s not in (apps or []))]
    if unknown:
        return UNKNOWN_VALUE
    return apps


def _appended(call: ast.Call) -> list[str] | None:
    """What a statement ``INSTALLED_APPS.append(...)``/``insert``/``extend`` adds (empty for
    any other call, or for ``remove``: fewer apps cannot add a module); None when it adds
    something not written there."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "INSTALLED_APPS"):
        return []
    if func.attr in ("append", "insert"):
        value = call.args[-1] if call.args else None
        return [value.value] if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
    if func.attr == "extend":
        return _strings(call.args[0], {}) if call.args else []
    return [] if func.attr in ("remove", "pop", "index", "count") else None


def _function_apps(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str] | None:
    """Every app a function computing ``INSTALLED_APPS`` can add, as readthedocs.org's
    settings class does (a literal list, then ``apps.append("x")`` under conditions): the
    strings of its literal lists and of its ``append``/``insert`` calls, whatever the
    conditions (more apps can only silence CLY108). None when it can add something that is
    not written there: ``extend``/``+``/``+=`` of a value that is not a literal list, or a
    returned call."""
    found: list[str] = []
    for node in ast.walk(function):
        if isinstance(node, (ast.List, ast.Tuple)):
            found.extend(e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in ("append", "insert"):
                found.extend(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
            elif method == "extend" and not all(isinstance(a, (ast.List, ast.Tuple)) for a in node.args):
                return None
        elif isinstance(node, ast.AugAssign) and not isinstance(node.value, (ast.List, ast.Tuple)):
            return None
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            if any(isinstance(side, ast.Call) for side in (node.left, node.right)):
                return None
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            return None
    return [s for s in found if _is_dotted(s)]


def _strings(node: ast.AST, lists: dict[str, list[str] | None]) -> list[str] | None:
    """The strings of a literal list/tuple, of a name bound to one above, or of ``+``
    between such (None: not literal)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        out = []
        for element in node.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                out.append(element.value)
            elif isinstance(element, ast.Starred):
                inner = _strings(element.value, lists)
                if inner is None:
                    return None
                out.extend(inner)
            else:
                return None
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _strings(node.left, lists), _strings(node.right, lists)
        if left is None or right is None:
            return None
        return left + right
    if isinstance(node, ast.Name):
        return lists.get(node.id)
    return None
