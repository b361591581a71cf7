"""One file's index facts, read with CPython's ``ast`` (never imported, ~8x cheaper than libcst).

Only files that can hold a task or a setting (:data:`INDEX_NEEDLES`) are parsed; a file
with a dispatch and a wait is scanned for awaited results. What is a task, an app or a
setting is decided by ``recognise.py``, as for the per-file context; syntax newer than the
running Python falls back to the context itself (libcst).

Over 600 lines because ``_Extractor`` is one reader whose passes share its tables (imports,
apps, makers, option dicts) with the awaited-results scan; the decisions it makes are
``recognise.py``'s, the facts' shapes ``project.py``'s, their cache ``facts_cache.py``'s.
"""

from __future__ import annotations

import ast
import os
import re
from collections import deque
from typing import Any, Iterable

from ..config.settings import Settings, relative_posix
from .apps import AppLocator
from .context import FileContext
from .imports import INSTALLED_APPS_NEEDLE, discovery_record, installed_apps
from .needles import CELERY_WORD_BYTES, MAX_FILE_BYTES, TASK_DEFINITION_NEEDLES, TASK_DEFINITION_PATTERN
from .project import IndexedTask, ModuleFacts
from .recognise import (
    INDEXED_SETTINGS,
    TASK_BASE_CLASSES,
    decorator_kind,
    generated_task_name,
    is_app_class,
    ENVIRONMENT_SETTINGS,
    alias_of,
    environment_value,
    is_app_name,
    is_config_module,
    is_test_module,
    makes_app,
    project_setting,
    queue_call_name,
    sends_tasks,
    spread_options,
    task_app,
)
from .source import (
    SourceError,
    decode_source,
    may_be_pathological,
    module_name_for,
    parse_module,
    quiet_ast_parse,
    resolve_relative,
)
from .source import DEFINITIONS as _DEFINITIONS
from .source import FUNCTIONS as _FUNCTIONS
from .source import statements as _statements
from .values import UNKNOWN, UNKNOWN_VALUE, ast_literal, jsonable, literal_value

#: Bytes a file must contain to be read for the index: the per-file engine's task
#: needles (a task decorator resolves through an import from ``celery`` or an app
#: module), and the Django spelling of the settings.
INDEX_NEEDLES = tuple(n.encode() for n in TASK_DEFINITION_NEEDLES) + (b"CELERY",)
#: ...and one of: a task definition, a Django Celery setting, app configuration.
_INDEX_PATTERN = re.compile(
    TASK_DEFINITION_PATTERN.pattern.encode() + rb"|CELERY\w*\s*=|\.conf\b|Celery\(|BROKER_\w+\s*="
)
#: A dispatch and a wait in the same file: scanned for awaited results (CLY502).
_DISPATCH_PATTERN = re.compile(rb"\.(?:delay|apply_async|send_task)\(")
_WAIT_PATTERN = re.compile(rb"\.(?:get|wait|join)\(")
_WAITS = frozenset({"get", "wait", "join"})
#: A statement without one of these words can neither dispatch nor hold a dispatch's result.
_DISPATCH_WORD = re.compile(rb"(?<!\w)(?:delay|apply_async|send_task)(?!\w)")
#: Line ends as CPython's tokenizer counts them (``ast`` line numbers).
_LINE_END = re.compile(rb"\r\n|\r|\n")

def extract(path: str, settings: Settings, locator: AppLocator | None = None, module: str | None = None) -> ModuleFacts | None:
    """The index facts of one file (None when it cannot be read or parsed). ``module``:
    its module name when the caller has it (``source.ModuleNames``)."""
    src_roots = settings.src_roots()
    root = settings.project_root
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return None  # linting it reports CLY000; the index does not read it
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if b"\x00" in data:
        return ModuleFacts()
    indexable = is_config_module(path) or (any(needle in data for needle in INDEX_NEEDLES) and _INDEX_PATTERN.search(data) is not None)
    waits = _DISPATCH_PATTERN.search(data) is not None and _WAIT_PATTERN.search(data) is not None
    django_settings = INSTALLED_APPS_NEEDLE in data and not is_test_module(relative_posix(path, root))
    if not indexable and not waits and not django_settings:
        return ModuleFacts()
    rel = relative_posix(path, root)
    if module is None:
        module = module_name_for(path, src_roots)
    try:
        tree = quiet_ast_parse(data)
    except SyntaxError as error:
        newer = _parse_unparenthesized_excepts(data, error)
        if newer is None:
            if not indexable:
                # Read only for awaited results, which the libcst fallback does not
                # extract: parsing it would cost a libcst parse for nothing
                # (readthedocs.org's projects/forms.py, 0.1 s of a cold index).
                return ModuleFacts(module=module)
            return _extract_with_libcst(path, data, module, rel, settings)
        tree = newer
    except (ValueError, RecursionError, MemoryError):
        return None
    extractor = _Extractor(path, module, rel, locator or AppLocator(src_roots))
    extractor.mentions_celery = CELERY_WORD_BYTES.search(data) is not None
    facts = extractor.run(tree) if indexable else extractor.run_imports(tree)
    if waits:
        facts.awaited = sorted(extractor.awaited(tree, data))
    if django_settings:
        facts.installed_apps = installed_apps(tree)
    facts.module = module
    return facts


#: ``except A, B:`` (Python 3.14, PEP 758) on one line, without ``as``.
_UNPARENTHESIZED_EXCEPT = re.compile(rb"^([ \t]*except\*?[ \t]+)([^()\[\]{}:#'\"\\\r\n]+,[^()\[\]{}:#'\"\\\r\n]*?)([ \t]*:)")


def _parse_unparenthesized_excepts(data: bytes, error: SyntaxError) -> ast.Module | None:
    """The tree of a file whose only syntax newer than this Python's is ``except A, B:``
    (3.14), read with each such clause parenthesized on its own line (line numbers, which
    are all the index keeps, do not move). None when the error is anything else: the
    caller falls back to libcst, 8x dearer (readthedocs.org: 0.1 s of a cold index)."""
    lines = data.split(b"\n")
    number = (error.lineno or 0) - 1
    if not (0 <= number < len(lines) and _UNPARENTHESIZED_EXCEPT.match(lines[number])):
        return None
    # Every such line at once (one parse, not one per clause); a line of a string that
    # looks like one changes only that string's text (a docstring, in practice).
    lines = [_UNPARENTHESIZED_EXCEPT.sub(rb"\1(\2)\3", line, count=1) for line in lines]
    try:
        return quiet_ast_parse(b"\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # other newer syntax as well


def _extract_with_libcst(path: str, data: bytes, module: str | None, rel: str, settings: Settings) -> ModuleFacts | None:
    """Facts through the per-file engine's context, for syntax newer than this Python's ``ast``."""
    import libcst as cst  # only for this rare fallback: a cold index imports no libcst

    try:
        text = decode_source(data)
        if may_be_pathological(text, text.splitlines()):
            return None
        ctx = FileContext(path, settings, AppLocator(settings.src_roots()))
        ctx.read(parse_module(text))
    except (SourceError, cst.ParserSyntaxError, RecursionError, MemoryError, ValueError):
        return None

    def value(node: Any) -> Any:
        literal = literal_value(node)
        return UNKNOWN_VALUE if literal is UNKNOWN else jsonable(literal)

    facts = ModuleFacts(module=module)
    for task in ctx.tasks:
        params = None
        if task.func is not None and len(task.func.decorators) == 1:
            p = task.func.params
            positional = [x.name.value for x in (*p.posonly_params, *p.params)]
            params = {
                "positional": positional,
                "required": sum(1 for x in (*p.posonly_params, *p.params) if x.default is None),
                "kwonly": [x.name.value for x in p.kwonly_params],
                "required_kwonly": [x.name.value for x in p.kwonly_params if x.default is None],
                "varargs": isinstance(p.star_arg, cst.Param),
                "varkw": p.star_kwarg is not None,
            }
        explicit = "name" in task.options
        facts.tasks.append(
            IndexedTask(
                function=task.name,
                module=module,
                path=rel,
                line=_line_of(data, task.name),
                name=task.registered_name,
                explicit=explicit,
                options={k: value(a.value) for k, a in task.options.items() if k != "name"},
                opaque=task.opaque_options,
                params=params,
            )
        )
    for key in INDEXED_SETTINGS:
        if key in ctx.file_config:
            facts.settings[key] = [value(ctx.file_config[key]), 1]
    return facts


def _line_of(data: bytes, function: str) -> int:
    """Line of ``def function`` (the libcst context keeps no positions)."""
    # `[ \t]*`, not `\s*`: a `\s*` after `^` would start the match on a blank line above.
    match = re.search(rb"^[ \t]*(?:async[ \t]+)?def[ \t]+" + re.escape(function.encode()) + rb"\b", data, re.MULTILINE)
    return data[: match.start()].count(b"\n") + 1 if match else 1


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class _Extractor:
    def __init__(self, path: str, module: str | None, rel: str, locator: AppLocator) -> None:
        self.locator = locator
        self.path = path
        self.module = module
        self.rel = rel
        self.imports: dict[str, str] = {}
        self.apps: set[str] = set()
        #: Local classes deriving from ``celery.Celery``.
        self.app_classes: set[str] = set()
        #: Module-level functions and classes (a call of one may make an app: a factory).
        self.defined: set[str] = set()
        #: The file's bytes hold ``Celery`` (see ``FileContext.mentions_celery``).
        self.mentions_celery = True
        #: Names bound to dict displays (for ``**options`` on task decorators).
        self.dicts: dict[str, dict[str, Any] | None] = {}
        #: Module-level names bound to ``shared_task(...)``/``app.task(...)``: their call.
        self.aliases: dict[str, ast.Call] = {}
        self.facts = ModuleFacts()

    def run(self, tree: ast.Module) -> ModuleFacts:
        # Statements only (expressions are never descended into): everything the index
        # reads is a statement or sits directly on one, and this is ~10x cheaper than
        # ast.walk on large modules.
        statements = list(_statements(tree.body))
        module_level = {id(node) for node in _statements(tree.body, skip=_DEFINITIONS)}
        outside_functions = {id(node) for node in _statements(tree.body, skip=_FUNCTIONS)}
        self._collect_imports(statements)
        for node in statements:
            if id(node) in module_level and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defined.add(node.name)
        for node in statements:
            if isinstance(node, ast.ClassDef) and any(is_app_class(self._imported(b)) for b in node.bases):
                self.app_classes.add(node.name)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and self._assigns_app(node.value.func, id(node) in module_level):
                self.apps.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.Assign) and id(node) in module_level and isinstance(node.value, (ast.Name, ast.Attribute)):
                alias = alias_of(self._imported(node.value))
                if alias is not None:  # `Celery = celery.Celery`
                    self.imports.update({t.id: alias for t in node.targets if isinstance(t, ast.Name)})
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and id(node) in module_level:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.dicts[target.id] = spread_options(
                            (ast_literal(k) if k is not None else None, ast_literal(v)) for k, v in zip(node.value.keys, node.value.values)
                        )
        for node in tree.body:  # `retrying = shared_task(acks_late=True)`: a decorator alias
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and not node.value.args
                and all(k.arg is not None for k in node.value.keywords)
                and self._decorator_kind(node.value)
            ):
                self.aliases.update({t.id: node.value for t in node.targets if isinstance(t, ast.Name)})
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(node)
            elif isinstance(node, ast.ClassDef):
                self._class(node)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                self._call(node.value)
            elif isinstance(node, ast.Assign):
                if isinstance(node.value, ast.Call):
                    self._call(node.value)
                    if self._is_app_constructor(node.value.func) and any(isinstance(t, ast.Name) for t in node.targets):
                        self._settings_given(node.value, node.lineno)  # `app = Celery(..., broker_url=...)`
                for target in node.targets:
                    self._assign(target, node.value, node.lineno, id(node) in outside_functions)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self._assign(node.target, node.value, node.lineno, id(node) in outside_functions)
        if self.apps:  # the worker imports the module that makes its app
            self.facts.discovery.insert(0, {"kind": "app"})
        return self.facts

    def run_imports(self, tree: ast.Module) -> ModuleFacts:
        """Only the import table (a file read for its awaited results, not its facts)."""
        self._collect_imports(_statements(tree.body))
        return self.facts

    def _collect_imports(self, statements: Iterable[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.ImportFrom):
                self._import_from(node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    self.imports[alias.asname or top] = alias.name if alias.asname else top

    def awaited(self, tree: ast.Module, data: bytes | None = None) -> set[str]:
        """Tasks whose dispatch result is waited for, per function (see ModuleFacts.awaited).

        The scopes are the module (its statements' nodes, in turn) and every function.
        One breadth-first walk per top-level statement files each assignment and wait
        under the module and every function enclosing it, in the order ``ast.walk`` of
        that scope gives (a subtree's nodes keep their breadth-first order), so a later
        assignment of a name still wins within a scope; walking each function again, as
        this once did, cost readthedocs.org's index 0.5 s.

        With the file's bytes (``data``), a statement whose lines hold no dispatch word
        (``delay``, ``apply_async``, ``send_task``) is not walked: it cannot assign a
        dispatch result, nor wait on a dispatch made inline, and functions inside it have
        no result to wait for. It can only wait on a name that a dispatch assigned in an
        enclosing scope, so such statements are walked afterwards for their waits alone,
        and only when their lines mention one of those names (about 0.05 s of
        readthedocs.org's cold index, whose views and models dispatch in a few methods).
        """
        module: tuple[list[ast.Assign], list[ast.Call]] = ([], [])
        functions: dict[int, tuple[list[ast.Assign], list[ast.Call]]] = {}
        starts = _line_starts(data) if data is not None else None
        skipped: list[tuple[ast.AST, tuple[int, ...], int, int]] = []
        for statement in tree.body:
            queue: deque[tuple[ast.AST, tuple[int, ...]]] = deque([(statement, ())])
            while queue:
                node, enclosing = queue.popleft()
                if starts is not None and isinstance(node, ast.stmt):
                    begin, end = _span(starts, node)
                    if _DISPATCH_WORD.search(data, begin, end) is None:  # type: ignore[arg-type]
                        skipped.append((node, enclosing, begin, end))
                        continue
                if isinstance(node, ast.Assign):
                    if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                        module[0].append(node)
                        for scope in enclosing:
                            functions[scope][0].append(node)
                elif isinstance(node, ast.Call):
                    if isinstance(node.func, ast.Attribute) and node.func.attr in _WAITS:
                        module[1].append(node)
                        for scope in enclosing:
                            functions[scope][1].append(node)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions[id(node)] = ([], [])
                    enclosing = (*enclosing, id(node))
                queue.extend((child, enclosing) for child in ast.iter_child_nodes(node))
        found: set[str] = set()
        scopes = (module, *functions.values())
        results = [self._results(assignments) for assignments, _ in scopes]
        names = {name for scope_results in results for name in scope_results}
        if skipped and names:
            self._skipped_waits(skipped, names, data, module, functions)  # type: ignore[arg-type]
        for (_, waits), scope_results in zip(scopes, results):
            for call in waits:
                receiver = call.func.value  # type: ignore[attr-defined]
                target = self._dispatched(receiver) or (
                    scope_results.get(receiver.id) if isinstance(receiver, ast.Name) else None
                )
                if target is not None:
                    found.add(target)
        return found

    def _results(self, assignments: list[ast.Assign]) -> dict[str, str]:
        """name -> the task its last dispatch assignment in the scope sends."""
        results: dict[str, str] = {}
        for assignment in assignments:
            target = self._dispatched(assignment.value)
            if target is not None:
                results[assignment.targets[0].id] = target  # type: ignore[attr-defined]
        return results

    @staticmethod
    def _skipped_waits(
        skipped: list[tuple[ast.AST, tuple[int, ...], int, int]],
        names: set[str],
        data: bytes,
        module: tuple[list[ast.Assign], list[ast.Call]],
        functions: dict[int, tuple[list[ast.Assign], list[ast.Call]]],
    ) -> None:
        """Waits on a dispatch result's name inside statements the walk skipped, filed under
        the module and the functions enclosing each statement (the order of waits does not
        matter: they are looked up after every assignment is known)."""
        if all(name.isascii() for name in names):
            mention = re.compile(rb"(?<!\w)(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")(?!\w)")
        else:
            mention = None  # the file's encoding decides the bytes of a non-ASCII name: walk them all
        for node, enclosing, begin, end in skipped:
            if mention is not None and mention.search(data, begin, end) is None:
                continue
            for child in ast.walk(node):
                if (
                    isinstance(child, ast.Call)
                    and isinstance(child.func, ast.Attribute)
                    and child.func.attr in _WAITS
                    and isinstance(child.func.value, ast.Name)
                    and child.func.value.id in names
                ):
                    module[1].append(child)
                    for scope in enclosing:
                        functions[scope][1].append(child)

    def _dispatched(self, node: ast.AST) -> str | None:
        """The task a ``t.delay(...)``/``t.apply_async(...)``/``app.send_task("name")`` sends."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return None
        if node.func.attr == "send_task":
            receiver = node.func.value
            name = receiver.id if isinstance(receiver, ast.Name) else receiver.attr if isinstance(receiver, ast.Attribute) else None
            if not sends_tasks(self._is_app(receiver), name):
                return None
            first = node.args[0] if node.args else None
            return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
        if node.func.attr in ("delay", "apply_async"):
            target = node.func.value
            if isinstance(target, ast.Name) and target.id not in self.imports:
                return f"{self.module}.{target.id}" if self.module else None
            return self._qualname(target)
        return None

    # -- names --------------------------------------------------------------------

    def _import_from(self, node: ast.ImportFrom) -> None:
        source = resolve_relative(node.module or "", node.level, self.module, self.path.endswith("__init__.py"))
        for alias in node.names:
            self.imports[alias.asname or alias.name] = f"{source}.{alias.name}" if source else alias.name

    def _qualname(self, node: ast.AST) -> str | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head in self.imports:
            return f"{self.imports[head]}.{rest}" if rest else self.imports[head]
        return dotted

    def _imported(self, node: ast.AST) -> str | None:
        """What a name refers to through the imports (None: not imported), as
        ``FileContext.qualname`` answers for module-level names."""
        dotted = _dotted(node)
        head = dotted.partition(".")[0] if dotted else None
        return self._qualname(node) if head in self.imports else None

    def _is_app_constructor(self, func: ast.AST) -> bool:
        local = func.id if isinstance(func, ast.Name) else None
        return is_app_class(self._imported(func), local, self.app_classes)

    def _assigns_app(self, func: ast.AST, module_level: bool) -> bool:
        """``x = Celery(...)`` anywhere; ``x = make_celery(...)`` (a project factory or
        subclass, ``recognise.makes_app``) at module level, where apps are made."""
        if not module_level:
            return self._is_app_constructor(func)
        local = func.id if isinstance(func, ast.Name) else None
        qualified = self._imported(func)
        if qualified is None and (local is None or local not in self.defined or not self.mentions_celery):
            return False  # nothing this module defines or imports, or nothing here calls Celery
        return makes_app(qualified, local, self.app_classes, self.locator, self.path, self.module)

    def _is_app(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name) and node.id in self.apps:
            return True
        if isinstance(node, ast.Call) and self._is_app_constructor(node.func):
            return True
        return is_app_name(self._imported(node), self.locator, self.path, self.module)

    def _decorator_kind(self, expr: ast.AST) -> bool:
        func = expr.func if isinstance(expr, ast.Call) else expr
        attribute = func.attr if isinstance(func, ast.Attribute) else None
        receiver_is_app = attribute == "task" and self._is_app(func.value)  # type: ignore[attr-defined]
        return decorator_kind(self._imported(func), attribute, receiver_is_app) is not None

    # -- facts ----------------------------------------------------------------------

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Name) and decorator.id in self.aliases:
                alias = self.aliases[decorator.id]
                self._task(node.name, node, alias, node.lineno, app=self._task_app(alias))
                return
            if self._decorator_kind(decorator):
                call = decorator if isinstance(decorator, ast.Call) else None
                self._task(node.name, node, call, node.lineno, app=self._task_app(decorator))
                return

    def _task_app(self, expr: ast.AST) -> str | None:
        """``recognise.task_app`` for the ``X.task`` in ``X.task``/``X.task(...)``/``X.task(...)(fn)``."""
        while isinstance(expr, ast.Call):
            expr = expr.func
        if not (isinstance(expr, ast.Attribute) and expr.attr == "task"):
            return None
        receiver = expr.value
        local = receiver.id if isinstance(receiver, ast.Name) else None
        return task_app(local, self._imported(receiver), self.apps, self.rel)

    def _call(self, node: ast.Call) -> None:
        func = node.func
        # call form: app.task(fn) / shared_task(fn) / app.task(name=...)(fn)
        if len(node.args) == 1 and isinstance(node.args[0], ast.Name) and self._decorator_kind(func):
            app = self._task_app(func)
            if isinstance(func, ast.Call):
                self._task(node.args[0].id, None, func, node.lineno, app=app)
            else:
                self._task(node.args[0].id, None, node, node.lineno, skip_first=True, app=app)
            return
        if isinstance(func, ast.Attribute) and func.attr == "config_from_object" and node.args:
            target = node.args[0]
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                module = target.value.partition(":")[0]
                if module != "django.conf":  # Django's settings: read through CELERY_* names
                    self.facts.config_modules.append(module)
            elif isinstance(target, ast.Name) and target.id in self.imports:
                self.facts.config_modules.append(self.imports[target.id])  # `import celeryconfig`
            elif self.mentions_celery:
                self.facts.discovery.append({"kind": "config", "line": node.lineno})  # an object the index cannot read
            return
        if isinstance(func, ast.Attribute) and func.attr == "config_from_envvar" and self.mentions_celery:
            self.facts.discovery.append({"kind": "config", "line": node.lineno})
            return
        if isinstance(func, ast.Attribute) and func.attr == "autodiscover_tasks":
            self.facts.discovery.append(discovery_record(node))
            return
        if isinstance(func, ast.Attribute) and func.attr == "update" and self._is_app_conf(func.value):
            self._settings_given(node, node.lineno)

    def _settings_given(self, call: ast.Call, line: int) -> None:
        for keyword in call.keywords:
            if keyword.arg in INDEXED_SETTINGS:
                self.facts.settings[keyword.arg] = [self._setting_value(keyword.arg, keyword.value), line]

    def _setting_value(self, key: str, node: ast.AST) -> Any:
        """A setting's value as JSON; ``recognise.FROM_ENVIRONMENT`` for an environment lookup
        without a default (as the per-file context reads it)."""
        if key in ENVIRONMENT_SETTINGS and isinstance(node, ast.Call):
            from_environment = environment_value(
                self._imported(node.func),
                [ast_literal(a) for a in node.args],
                {k.arg: ast_literal(k.value) for k in node.keywords if k.arg is not None},
            )
            if from_environment is not None:
                return from_environment
        if key == "task_queues" and isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            names = [self._queue_name(element) for element in node.elts]
            if all(isinstance(n, str) for n in names):
                return names  # `[Queue("emails"), Queue("reports")]`: the names declared
        return ast_literal(node)

    def _queue_name(self, node: ast.AST) -> str | None:
        if not isinstance(node, ast.Call):
            return None
        local = node.func.id if isinstance(node.func, ast.Name) else None
        return queue_call_name(
            self._imported(node.func),
            local,
            [ast_literal(a) for a in node.args],
            {k.arg: ast_literal(k.value) for k in node.keywords if k.arg is not None},
        )

    def _is_app_conf(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "conf" and self._is_app(node.value)

    def _assign(self, target: ast.AST, value: ast.AST, line: int, outside_functions: bool) -> None:
        if isinstance(target, ast.Attribute) and target.attr in INDEXED_SETTINGS and self._is_app_conf(target.value):
            self.facts.settings[target.attr] = [self._setting_value(target.attr, value), line]
        elif isinstance(target, ast.Name) and outside_functions:
            key = project_setting(target.id, self.rel)
            if key is not None:
                self.facts.settings[key] = [self._setting_value(key, value), line]

    def _class(self, node: ast.ClassDef) -> None:
        attrs = [
            t.id
            for statement in node.body
            if isinstance(statement, (ast.Assign, ast.AnnAssign))
            for t in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
            if isinstance(t, ast.Name)
        ]
        # Only direct Task subclasses: a class deriving from another custom class would
        # inherit attributes this does not see (CLY201 then stays cautious).
        if node.bases and all(self._qualname(b) in TASK_BASE_CLASSES for b in node.bases):
            self.facts.classes[node.name] = attrs

    def _task(
        self,
        function: str,
        node: ast.FunctionDef | ast.AsyncFunctionDef | None,
        call: ast.Call | None,
        line: int,
        skip_first: bool = False,
        app: str | None = None,
    ) -> None:
        options: dict[str, Any] = {}
        opaque = False
        if call is not None:
            for keyword in call.keywords:
                if keyword.arg is not None:
                    options[keyword.arg] = ast_literal(keyword.value)
                    continue
                spread = self.dicts.get(keyword.value.id) if isinstance(keyword.value, ast.Name) else None
                if spread is not None:
                    options.update(spread)  # `**_LIMITS` with `_LIMITS = {...}` in this module
                else:
                    opaque = True
        explicit = "name" in options
        if explicit:
            name = options["name"] if isinstance(options["name"], str) else None
        else:
            # As the per-file engine: `**options` we cannot see is assumed not to carry `name`.
            name = generated_task_name(self.module, function)
        self.facts.tasks.append(
            IndexedTask(
                function=function,
                module=self.module,
                path=self.rel,
                line=line,
                name=name,
                explicit=explicit,
                options={k: v for k, v in options.items() if k != "name"},
                opaque=opaque,
                # Another decorator may change what the task accepts (saleor's telemetry
                # wrapper injects an argument): then the parameters are unknown.
                params=_params(node.args) if node is not None and len(node.decorator_list) == 1 else None,
                app=app,
            )
        )


def _line_starts(data: bytes) -> list[int]:
    """Byte offset of each line's start (index 0: line 1), and the end of the data."""
    return [0, *(match.end() for match in _LINE_END.finditer(data)), len(data)]


def _span(starts: list[int], node: ast.stmt) -> tuple[int, int]:
    """Byte offsets of the whole lines a statement spans (more than the statement itself
    when it shares a line: a superset is enough for a word test)."""
    last = len(starts) - 1
    # decorators sit above a definition's own first line
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    end_line = node.end_lineno or node.lineno
    return starts[min(first - 1, last)], starts[min(end_line, last)]


def _params(args: ast.arguments) -> dict[str, Any]:
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    return {
        "positional": positional,
        "required": len(positional) - len(args.defaults),
        "kwonly": [a.arg for a in args.kwonlyargs],
        "required_kwonly": [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None],
        "varargs": args.vararg is not None,
        "varkw": args.kwarg is not None,
    }
