"""Per-file facts every rule shares, gathered in the engine's single traversal.

The context is updated *before* the rules see a node (and torn down after them), so a
rule looking at a decorator or a call can ask "is this a Celery task?" or "what does this
name import?" without any metadata provider. Python binds names before a decorator or a
call runs, so one top-down pass sees everything those questions need.

Over 600 lines because it is one class whose traversal handlers share one state (imports,
scopes, apps, tasks in progress); what needs no such state lives beside it
(``definitions``, ``values``, ``source``, ``recognise``).
"""

from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence, Union

import libcst as cst

from ..config.settings import relative_posix
from .celery_api import (
    DISPATCH_METHODS,
    ON_COMMIT_DISPATCH_METHODS,
    SIGNATURE_FUNCTIONS,
    SIGNATURE_METHODS,
)
from .definitions import ClassInfo, Dispatch, TaskDef, retry_receiver
from .edits import SAFE, Fix, replace, requote
from .project import IndexedTask, ProjectIndex, is_unknown
from .recognise import (
    ENVIRONMENT_SETTINGS,
    alias_of,
    environment_value,
    decorator_kind,
    generated_task_name,
    is_app_class,
    is_app_name,
    is_settings_module,
    makes_app,
    queue_call_name,
    results_stored,
    STATE_READER_SETTINGS,
    sends_tasks,
    setting_name,
    spread_options,
    task_app,
)
from .source import module_name_certain, module_name_for, resolve_relative
from .values import (
    CONSTANTS,
    Folded,
    UNKNOWN,
    dotted_name,
    eta_offset_seconds,
    has_star_kwargs,
    keyword_args,
    literal_value,
    positional_args,
    seconds_value,
    string_value,
    timedelta_seconds,
)

if TYPE_CHECKING:
    from ..config.settings import Settings
    from .apps import AppLocator
    from .callgraph import CallGraph, Reach, Sink
    from .summaries import FunctionSummary


_BUILTINS = frozenset(dir(builtins))

Scope = Union[cst.FunctionDef, cst.ClassDef, cst.Lambda]

EmitFn = Callable[[str, Any], None]


class FileContext:
    """The facts about one file that the rules share."""

    def __init__(self, path: str, settings: Settings, apps: AppLocator | None = None, *, mentions_celery: bool = True) -> None:
        self.path = path
        #: The file's text holds ``Celery``: without it no function here can make an app
        #: (a factory calls ``Celery`` or a subclass of it), so none is looked for.
        self.mentions_celery = mentions_celery
        self.settings = settings
        self._app_locator = apps
        self.module = module_name_for(path, settings.src_roots())
        #: Whether every worker imports this file under ``module`` (``module_name_certain``):
        #: a name is pinned (CLY101's fix) only then.
        self.module_certain = module_name_certain(path, settings.src_roots(), settings.project_root)
        self.is_package = os.path.basename(path) == "__init__.py"
        #: A settings module: its class bodies set Celery settings too (``recognise.project_setting``).
        #: The path below the project root, POSIX style.
        self.rel = relative_posix(path, settings.project_root)
        self.in_settings_module = is_settings_module(self.rel)
        #: local name -> qualified name it was imported as.
        self.imports: dict[str, str] = {}
        #: local names bound to a Celery app instance.
        self.apps: set[str] = set()
        #: local class names that subclass ``celery.Celery``.
        self.app_classes: set[str] = set()
        self.classes: dict[str, ClassInfo] = {}
        self.tasks: list[TaskDef] = []
        self.tasks_by_function: dict[str, TaskDef] = {}
        #: Module-level names bound to a configured task decorator: name -> (kind, call).
        self.decorator_aliases: dict[str, tuple[str, cst.Call]] = {}
        #: Module-level names -> the expression bound to them (None: bound otherwise, by an
        #: import, a def, unpacking), for folding constants (``values.CONSTANTS``).
        self.constants: dict[str, cst.BaseExpression | None] = {}
        #: Module-level names bound to dict displays: their entries as task options
        #: (``recognise.spread_options``; None: not usable as options).
        self.dicts: dict[str, dict[str, Any] | None] = {}
        #: Names defined at module level other than by import (defs, classes, assignments).
        self.module_names: set[str] = set()
        #: Celery settings this file sets (``app.conf.x``, ``Celery(x=...)``, ``CELERY_X``).
        #: ``setting_names``: the module-level name that set each one set that way.
        self.file_config: dict[str, cst.BaseExpression] = {}
        self.setting_names: dict[str, str] = {}
        self.scopes: list[Scope] = []
        #: Per function scope: names bound there -> what they import (None: a plain local).
        self._locals: list[dict[str, str | None]] = []
        self._dispatches: list[Dispatch] = []
        self.task_stack: list[TaskDef] = []
        self._task_by_node: dict[int, TaskDef] = {}
        self._statement_calls: set[int] = set()
        self._decorator_exprs: set[int] = set()
        self._emit: EmitFn = lambda event, payload: None
        #: Shared analyses requested by the active rules, by class.
        self.analyses: dict[type, Any] = {}
        #: The project index, when the run has one (see celery_lint.model.index).
        self.index: ProjectIndex | None = None
        #: Calls through project helpers (set by the engine; see celery_lint.model.callgraph).
        self.graph: CallGraph | None = None

    # -- queries -------------------------------------------------------------

    def qualname(self, node: cst.BaseExpression) -> str | None:
        """What a Name/Attribute chain refers to through this file's imports.

        Function scopes are honoured: a parameter or a local assignment hides a
        module-level import of the same name, and a function-level import is seen only
        inside that function.
        """
        if isinstance(node, cst.Name):
            for scope in reversed(self._locals):
                if node.value in scope:
                    return scope[node.value]
            return self.imports.get(node.value)
        if isinstance(node, cst.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr.value}" if base else None
        return None

    def reach(
        self,
        func: cst.BaseExpression,
        sink: Sink,
        stop: Callable[[FunctionSummary], bool] | None = None,
        *,
        now: bool = False,
    ) -> Reach | None:
        """What a call of ``func`` reaches through the project's functions (any depth,
        bounded; see :mod:`celery_lint.model.callgraph`): a top-level function of this
        file (``helper(...)``) or of a project module (``notify.send_receipt(...)``).
        ``now``: only through calls made at once, not deferred to ``on_commit``/a lambda."""
        if self.graph is None:
            return None
        qualified = self.qualname(func)
        if qualified is not None:
            return self.graph.reach(qualified, self.path, self.module, sink, stop, now=now)
        if isinstance(func, cst.Name) and not self._is_local(func.value) and func.value not in _BUILTINS:
            return self.graph.reach_local(func.value, sink, stop, now=now)  # defined anywhere in the module
        return None

    def is_app(self, node: cst.BaseExpression) -> bool:
        """Is ``node`` a Celery app (made here, imported from an app module, or current_app)?"""
        if isinstance(node, cst.Name) and node.value in self.apps:
            return True
        if isinstance(node, cst.Call) and self._is_app_constructor(node.func):
            return True
        return is_app_name(self.qualname(node), self._app_locator, self.path, self.module)

    def sends_tasks(self, receiver: cst.BaseExpression) -> bool:
        """Can ``receiver.send_task(...)`` be Celery's? An app, or something named like one.

        Besides what :meth:`is_app` proves, an ``app``/``celery_app``/``celery`` name or an
        ``.app`` attribute (``self.app`` in a bound task) counts; ``cache.send_task`` or
        ``client.send_task`` do not.
        """
        name = receiver.value if isinstance(receiver, cst.Name) else receiver.attr.value if isinstance(receiver, cst.Attribute) else None
        return sends_tasks(self.is_app(receiver), name)

    def _is_local(self, name: str) -> bool:
        return any(name in scope for scope in self._locals)

    def _is_app_constructor(self, func: cst.BaseExpression) -> bool:
        local = func.value if isinstance(func, cst.Name) else None
        return is_app_class(self.qualname(func), local, self.app_classes)

    def _makes_app(self, func: cst.BaseExpression) -> bool:
        """``Celery(...)``, or a project factory or subclass (``recognise.makes_app``)."""
        local = func.value if isinstance(func, cst.Name) and not self._is_local(func.value) else None
        qualified = self.qualname(func)
        if qualified is None and (local is None or local not in self.module_names or not self.mentions_celery):
            return False  # nothing this module defines or imports, or nothing here calls Celery
        return makes_app(qualified, local, self.app_classes, self._app_locator, self.path, self.module)

    def task_decorator_kind(self, expr: cst.BaseExpression) -> str | None:
        """``"shared_task"``/``"app.task"`` when ``expr`` (or the callee of it) is a task decorator."""
        if isinstance(expr, cst.Name) and expr.value in self.decorator_aliases and not self._is_local(expr.value):
            return self.decorator_aliases[expr.value][0]
        func = expr.func if isinstance(expr, cst.Call) else expr
        if isinstance(func, cst.Attribute):
            return decorator_kind(self.qualname(func), func.attr.value, func.attr.value == "task" and self.is_app(func.value))
        return decorator_kind(self.qualname(func), None, False)

    @property
    def current_task(self) -> TaskDef | None:
        """The innermost task whose body encloses the current node."""
        return self.task_stack[-1] if self.task_stack else None

    @property
    def current_function(self) -> cst.FunctionDef | cst.Lambda | None:
        for scope in reversed(self.scopes):
            if not isinstance(scope, cst.ClassDef):
                return scope
        return None

    def in_task_body(self) -> TaskDef | None:
        """The task whose own function body (not a nested def/lambda/class) holds the node."""
        task = self.current_task
        if task is not None and self.scopes and self.scopes[-1] is task.func:
            return task
        return None

    def task_retried_by(self, call: cst.Call, *, body_only: bool = False) -> TaskDef | None:
        """The current task, when ``call`` is ``self.retry(...)``/``<task>.retry(...)`` on it.

        ``body_only`` requires the call to sit in the task's own body (not in a nested
        function or class).
        """
        task = self.in_task_body() if body_only else self.current_task
        func = call.func
        if task is None or not isinstance(func, cst.Attribute) or func.attr.value != "retry":
            return None
        if isinstance(func.value, cst.Name) and func.value.value in retry_receiver(task):
            return task
        return None

    def is_django_model(self, node: cst.ClassDef) -> bool:
        """A class deriving from ``django.db.models.Model``, or, in a file that imports
        Django, from a base whose name ends in ``Model`` (``TimeStampedModel``)."""
        django_imported = any(q.startswith("django.") for q in self.imports.values())
        for base in node.bases:
            qualified = self.qualname(base.value)
            if qualified == "django.db.models.Model":
                return True
            name = qualified or dotted_name(base.value) or ""
            if django_imported and name.endswith("Model"):
                return True
        return False

    def task_for_function(self, node: cst.FunctionDef) -> TaskDef | None:
        return self._task_by_node.get(id(node))

    def is_decorator(self, node: cst.BaseExpression) -> bool:
        """Is ``node`` the expression of a decorator (``app.task(...)`` in ``@app.task(...)``)?"""
        return id(node) in self._decorator_exprs

    def is_statement_call(self, call: cst.Call) -> bool:
        return id(call) in self._statement_calls

    def timedelta_seconds(self, node: cst.BaseExpression | None) -> Any:
        """Seconds in a literal ``datetime.timedelta(...)`` call, or UNKNOWN."""
        return timedelta_seconds(node, self.qualname)

    def seconds_value(self, node: cst.BaseExpression | None) -> Any:
        """A duration in seconds the way Celery reads ``countdown``/``default_retry_delay``
        (:func:`~celery_lint.model.values.seconds_value`)."""
        return seconds_value(node, self.qualname)

    def eta_offset_seconds(self, node: cst.BaseExpression | None) -> Any:
        """For ``eta=<now> + timedelta(...)`` (either order): the offset in seconds, or UNKNOWN."""
        return eta_offset_seconds(node, self.qualname)

    def setting(self, name: str) -> Any:
        """Literal value of a Celery setting this file sets; None if unset, UNKNOWN if opaque,
        ``recognise.FROM_ENVIRONMENT`` when read from the environment without a default."""
        node = self.file_config.get(name)
        if node is None:
            return None
        if name in ENVIRONMENT_SETTINGS and isinstance(node, cst.Call):
            from_environment = environment_value(
                self.qualname(node.func),
                [literal_value(a.value) for a in positional_args(node)],
                {k: literal_value(a.value) for k, a in keyword_args(node).items()},
            )
            if from_environment is not None:
                return from_environment
        if name == "task_queues" and isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            names = [self._queue_name(element.value) for element in node.elements]
            if all(isinstance(n, str) for n in names):
                return names  # `[Queue("emails"), Queue("reports")]`: the names declared
        return literal_value(node)

    def _queue_name(self, node: cst.BaseExpression) -> str | None:
        if not isinstance(node, cst.Call):
            return None
        local = node.func.value if isinstance(node.func, cst.Name) else None
        return queue_call_name(
            self.qualname(node.func),
            local,
            [literal_value(a.value) for a in positional_args(node)],
            {k: literal_value(a.value) for k, a in keyword_args(node).items()},
        )

    def results_stored(self) -> bool:
        """Does the project store task results? (``recognise.results_stored``: this file's
        settings first, then the project index's; config ``result-backend``.)"""
        backend_set = "result_backend" in self.file_config
        backend = self.setting("result_backend")
        if not backend_set and self.index is not None:
            backend_set = "result_backend" in self.index.config
            backend = self.index.setting("result_backend")
        return results_stored(
            backend,
            backend_set=backend_set,
            ignore_result=self.project_setting("task_ignore_result"),
            mode=self.settings.result_backend,
            whole_project=self.index is not None,
        )

    def results_unread(self) -> bool:
        """Are stored results written for nothing (CLY402, CLY502)? Yes when the project
        stores them (:meth:`results_stored`) and turns on no setting that only a reader of
        the backend needs (``task_track_started``, ``result_extended``)."""
        if any(self.project_setting(name) is True for name in STATE_READER_SETTINGS):
            return False
        return self.results_stored()

    def project_setting(self, name: str) -> Any:
        """The setting as the project sets it: this file first, then the index.

        None when it is set nowhere visible, UNKNOWN when it is set to something opaque
        (or differently in two places).
        """
        here = self.setting(name)
        if here is not None or self.index is None:
            return here
        value = self.index.setting(name)
        return UNKNOWN if is_unknown(value) else value

    def task_ref(self, task: TaskDef) -> str | None:
        """``module.function`` of a task defined in this file (the index's key)."""
        return f"{self.module}.{task.name}" if self.module else None

    def indexed_task(self, expr: cst.BaseExpression | None = None, name: str | None = None) -> IndexedTask | None:
        """The project index's entry for the task ``expr`` names (a task defined here, or
        imported), or for the literal task ``name`` (when exactly one task has it)."""
        index = self.index
        if index is None:
            return None
        if name is not None:
            found = index.by_name.get(name, [])
            return found[0] if len(found) == 1 else None
        if expr is None:
            return None
        if isinstance(expr, cst.Name) and expr.value in self.tasks_by_function and not self._is_local(expr.value):
            return index.task_for_ref(self.task_ref(self.tasks_by_function[expr.value]))
        return index.task_for_ref(self.qualname(expr))

    def unknown_task_literal(self, node: cst.BaseExpression | None) -> tuple[str, Fix | None, str] | None:
        """For a string literal naming a task (``send_task("x")``, a beat entry's ``"task"``):
        why no task has that name, the safe fix when the string is the import path of
        exactly one task (its registered name), and what to do. None when the name is fine
        or unknowable."""
        name = string_value(node)
        if self.index is None or node is None or name is None:
            return None
        problem = self.index.unknown_name(name)
        if problem is None:
            return None
        message, replacement = problem
        fix = None
        if replacement is not None and isinstance(node, cst.SimpleString):
            fix = replace(node, requote(node, replacement), f"Use `{replacement}`", SAFE)
        if replacement is not None:
            action = f"use `{replacement}`"
        elif "did you mean" in message:
            action = ""
        else:
            action = "correct the name, or list it in `external-tasks` if another project defines it"
        return message, fix, action

    def dispatched_task(self, dispatch: Dispatch) -> IndexedTask | None:
        """:meth:`indexed_task` for what a dispatch sends."""
        if dispatch.task_name is not None:
            return self.indexed_task(name=dispatch.task_name)
        return self.indexed_task(dispatch.task_expr)

    # -- the traversal -------------------------------------------------------

    def read(self, module: cst.Module) -> None:
        """Gather the facts of a whole module with no rule running (the project index's
        fallback for syntax newer than this Python's ``ast``). A plain walk over
        ``children``: the engine's walk is faster, and sits above the model."""
        stack: list[tuple[cst.CSTNode, bool]] = [(module, False)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                self.leave(node)
                continue
            self.visit(node)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.children))
        self.finish()
        self.close()

    def visit(self, node: cst.CSTNode) -> None:
        handler = CONTEXT_VISIT.get(type(node))
        if handler is not None:
            handler(self, node)

    def leave(self, node: cst.CSTNode) -> None:
        handler = CONTEXT_LEAVE.get(type(node))
        if handler is not None:
            handler(self, node)

    def _bind_import(self, local: str, qualified: str) -> None:
        if self._locals:
            self._locals[-1][local] = qualified
        else:
            self.imports[local] = qualified
            self.constants[local] = None

    def constant(self, name: str) -> cst.BaseExpression | Folded | None:
        """The expression a module constant is bound to where the traversal stands, or the
        value of a constant imported from a project module (``from shop.limits import SOFT``,
        read with ``ast``: :meth:`AppLocator.constant`); None when the name is not one, or a
        function being read binds it itself."""
        if self._is_local(name):
            return None
        bound = self.constants.get(name)
        if bound is None and name in self.imports and self._app_locator is not None:
            value = self._app_locator.constant(self.imports[name], self.path, self.module)
            return None if value is UNKNOWN else Folded(value)
        return bound

    def close(self) -> None:
        """The traversal is over: names no longer fold against this file's constants."""
        if CONSTANTS.get() is self:
            CONSTANTS.set(None)

    def _visit_module(self, node: cst.Module) -> None:
        """Module-level imports count wherever they stand (RULES.md): Python binds them before
        any function body runs, so ``from django.db import transaction`` placed below the
        functions that use it (to break an import cycle) still names ``transaction`` there.
        They are bound first; the walk binds each again where it stands."""
        CONSTANTS.set(self)
        for statement in _module_scope(node.body):
            if isinstance(statement, cst.Import):
                self._visit_import(statement)
            elif isinstance(statement, cst.ImportFrom):
                self._visit_import_from(statement)

    def _visit_import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind_import(alias.asname.name.value, name)
            else:
                top = name.split(".")[0]
                self._bind_import(top, top)

    def _visit_import_from(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = dotted_name(node.module) if node.module is not None else ""
        if module is None:
            return
        absolute = resolve_relative(module, len(node.relative), self.module, self.is_package)
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            local = alias.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._bind_import(local, f"{absolute}.{alias.name.value}" if absolute else alias.name.value)

    def _visit_assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._record_assignment(target.target, node.value)

    def _visit_aug_assign(self, node: cst.AugAssign) -> None:
        if not self.scopes and isinstance(node.target, cst.Name):
            self.constants[node.target.value] = None  # `LIMIT += 1`: not a constant

    def _visit_ann_assign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._record_assignment(node.target, node.value)

    def _record_assignment(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if self._locals:
            for name in _bound_names(target):
                self._locals[-1][name] = None
        if isinstance(target, (cst.Tuple, cst.List)) and not self.scopes:
            for name in _bound_names(target):
                self.imports.pop(name, None)
                self.module_names.add(name)
                self.constants[name] = None
        if isinstance(target, cst.Name) and not self.scopes:
            self.constants[target.value] = value
        if isinstance(target, cst.Name):
            if isinstance(value, cst.Call) and self._is_app_constructor(value.func):
                self.apps.add(target.value)
                if not self.scopes:
                    self.module_names.add(target.value)
                for name, arg in keyword_args(value).items():
                    self.file_config[name] = arg.value
                    self.setting_names.pop(name, None)
            elif not self.scopes and isinstance(value, cst.Call) and self._makes_app(value.func):
                self.apps.add(target.value)  # `celery = make_celery(app)`, at module level where apps are made
                self.module_names.add(target.value)
                self.imports.pop(target.value, None)
            elif self.scopes:
                if self.in_settings_module and not self.current_function:  # class-based settings
                    self._record_setting_name(target.value, value)
            else:
                self.module_names.add(target.value)
                self.decorator_aliases.pop(target.value, None)
                self.dicts.pop(target.value, None)
                if isinstance(value, cst.Dict):
                    self.dicts[target.value] = spread_options(
                        (literal_value(e.key), literal_value(e.value)) if isinstance(e, cst.DictElement) else (None, UNKNOWN)
                        for e in value.elements
                    )
                if isinstance(value, cst.Call) and not positional_args(value) and not has_star_kwargs(value):
                    kind = self.task_decorator_kind(value)
                    if kind is not None:  # `retrying = shared_task(acks_late=True, ...)`
                        self.decorator_aliases[target.value] = (kind, value)
                self._record_setting_name(target.value, value)
                self.apps.discard(target.value)
                self.imports.pop(target.value, None)
                alias = alias_of(self.qualname(value)) if isinstance(value, (cst.Name, cst.Attribute)) else None
                if alias is not None:  # `Celery = celery.Celery`
                    self.imports[target.value] = alias
                    self.module_names.discard(target.value)
        elif isinstance(target, cst.Attribute) and self.is_app_conf(target.value):
            self.file_config[target.attr.value] = value
            self.setting_names.pop(target.attr.value, None)

    def _record_setting_name(self, name: str, value: cst.BaseExpression) -> None:
        key = setting_name(name)
        if key is not None:
            self.file_config[key] = value
            self.setting_names[key] = name

    def is_app_conf(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Attribute) and node.attr.value == "conf" and self.is_app(node.value)

    def _visit_class(self, node: cst.ClassDef) -> None:
        if not self.scopes:
            self.constants[node.name.value] = None
        bases = tuple(q for q in (self.qualname(b.value) or dotted_name(b.value) for b in node.bases) if q)
        if not self.scopes:
            attributes: dict[str, cst.BaseExpression] = {}
            body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
            for statement in body:
                if not isinstance(statement, cst.SimpleStatementLine):
                    continue
                for small in statement.body:
                    if isinstance(small, cst.Assign):
                        for target in small.targets:
                            if isinstance(target.target, cst.Name):
                                attributes[target.target.value] = small.value
                    elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value:
                        attributes[small.target.value] = small.value
            self.classes[node.name.value] = ClassInfo(node, node.name.value, bases, attributes)
            self.module_names.add(node.name.value)
            if any(is_app_class(b) for b in bases):
                self.app_classes.add(node.name.value)
        self.scopes.append(node)

    def _leave_scope(self, node: cst.CSTNode) -> None:
        if self.scopes and self.scopes[-1] is node:
            self.scopes.pop()

    def _visit_function(self, node: cst.FunctionDef) -> None:
        if not self.scopes:
            self.constants[node.name.value] = None
        if not self.scopes:
            self.module_names.add(node.name.value)
        task = None
        for index, decorator in enumerate(node.decorators):
            self._decorator_exprs.add(id(decorator.decorator))
            if task is None:
                kind = self.task_decorator_kind(decorator.decorator)
                if kind is not None:
                    expr = decorator.decorator
                    alias = self.decorator_aliases.get(expr.value) if isinstance(expr, cst.Name) else None
                    if alias is not None and not self._is_local(expr.value):
                        task = self._make_task(node.name.value, node, expr, kind, index, call=alias[1])
                        task.alias = True
                    else:
                        task = self._make_task(node.name.value, node, expr, kind, index)
        self.scopes.append(node)
        self._locals.append(dict.fromkeys(_parameter_names(node.params)))
        if task is not None:
            self._task_by_node[id(node)] = task
            self.task_stack.append(task)
            self._emit("task_enter", task)

    def _leave_function(self, node: cst.FunctionDef) -> None:
        task = self._task_by_node.get(id(node))
        if task is not None and self.task_stack and self.task_stack[-1] is task:
            self._emit("task_leave", task)
            self.task_stack.pop()
        self._leave_function_scope(node)

    def _leave_function_scope(self, node: cst.FunctionDef | cst.Lambda) -> None:
        if self.scopes and self.scopes[-1] is node:
            self.scopes.pop()
            self._locals.pop()

    def _make_task(
        self,
        name: str,
        func: cst.FunctionDef | None,
        decorator_expr: cst.BaseExpression,
        kind: str,
        index: int,
        call: cst.Call | None = None,
    ) -> TaskDef:
        if call is None and isinstance(decorator_expr, cst.Call):
            call = decorator_expr
        options = keyword_args(call) if call is not None else {}
        spread: dict[str, Any] = {}
        opaque = False
        for arg in call.args if call is not None else ():
            if arg.star != "**":
                continue
            known = self.dicts.get(arg.value.value) if isinstance(arg.value, cst.Name) and not self._is_local(arg.value.value) else None
            if known is None:
                opaque = True
            else:
                spread.update(known)
        base = None
        if "base" in options:
            base_expr = options["base"].value
            if isinstance(base_expr, cst.Name):
                base = self.classes.get(base_expr.value)
        generated = generated_task_name(self.module, name)
        attribute = _task_attribute(call if call is not None else decorator_expr)
        app = None
        if attribute is not None:
            receiver = attribute.value
            local = receiver.value if isinstance(receiver, cst.Name) and not self._is_local(receiver.value) else None
            app = task_app(local, self.qualname(receiver), self.apps, self.rel)
        task = TaskDef(
            name=name,
            func=func,
            decorator_expr=decorator_expr,
            call=call,
            kind=kind,
            options=options,
            generated_name=generated,
            module=self.module,
            nested=bool(self.scopes),
            decorator_index=index,
            base=base,
            spread=spread,
            opaque_options=opaque,
            app=app,
        )
        self.tasks.append(task)
        if not self.scopes:
            self.tasks_by_function[name] = task
        return task

    def _visit_expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self._statement_calls.add(id(node.value))

    def _visit_call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if (method in DISPATCH_METHODS or method in ON_COMMIT_DISPATCH_METHODS) and (
                method != "send_task" or self.sends_tasks(func.value)
            ):
                dispatch = self._make_dispatch(node, method, func.value)
                self._dispatches.append(dispatch)
                self._emit("dispatch", dispatch)
                return
            if method == "update" and self.is_app_conf(func.value):
                for name, arg in keyword_args(node).items():
                    self.file_config[name] = arg.value
                    self.setting_names.pop(name, None)
                return
        if id(node) in self._decorator_exprs:
            return
        self._maybe_call_form_task(node)

    def _maybe_call_form_task(self, node: cst.Call) -> None:
        """``app.task(fn)``, ``shared_task(fn)``, ``app.task(name=...)(fn)``."""
        positional = positional_args(node)
        if not positional or not isinstance(positional[0].value, cst.Name):
            return
        function_name = positional[0].value.value
        if isinstance(node.func, cst.Call) and self.task_decorator_kind(node.func) is not None:
            kind = self.task_decorator_kind(node.func)
            options_call = node.func
        else:
            kind = self.task_decorator_kind(node.func)
            options_call = node
        if kind is None or len(positional) != 1:
            return
        task = self._make_task(function_name, None, node, kind, 0, call=options_call)
        self._emit("task_enter", task)
        self._emit("task_leave", task)

    def _make_dispatch(self, node: cst.Call, method: str, receiver: cst.BaseExpression) -> Dispatch:
        keywords = keyword_args(node)
        task_expr: cst.BaseExpression | None = receiver
        task_name = None
        via_signature = False
        if method == "send_task":
            task_expr = None
            positional = positional_args(node)
            name_arg = positional[0] if positional else keywords.get("name")
            task_name = string_value(name_arg.value) if name_arg is not None else None
        elif isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute):
            if receiver.func.attr.value in SIGNATURE_METHODS:
                via_signature = True
                task_expr = receiver.func.value
                if receiver.func.attr.value == "signature" and self.is_app(task_expr):
                    positional = positional_args(receiver)
                    task_name = string_value(positional[0].value) if positional else None
                    task_expr = None
        elif isinstance(receiver, cst.Call) and self.qualname(receiver.func) in SIGNATURE_FUNCTIONS:
            positional = positional_args(receiver)
            task_name = string_value(positional[0].value) if positional else None
            task_expr, via_signature = None, True
        task = None
        task_ref = None
        if isinstance(task_expr, cst.Name) and not any(task_expr.value in scope for scope in self._locals):
            task = self.tasks_by_function.get(task_expr.value)
        if task_expr is not None:
            task_ref = self.qualname(task_expr)
        if task is None and task_name is not None:
            task = next((t for t in self.tasks if t.registered_name == task_name), None)
        return Dispatch(
            call=node,
            method=method,
            task_expr=task_expr,
            task=task,
            task_ref=task_ref,
            task_name=task_name,
            keywords=keywords,
            is_statement=self.is_statement_call(node),
            via_signature=via_signature,
        )

    def _visit_lambda(self, node: cst.Lambda) -> None:
        self.scopes.append(node)
        self._locals.append(dict.fromkeys(_parameter_names(node.params)))

    def finish(self) -> None:
        """At the end of the module: resolve dispatches of tasks defined further down."""
        for dispatch in self._dispatches:
            if dispatch.task is None and isinstance(dispatch.task_expr, cst.Name) and dispatch.task_ref is None:
                dispatch.task = self.tasks_by_function.get(dispatch.task_expr.value)


CONTEXT_VISIT: dict[type, Callable[[FileContext, Any], None]] = {
    cst.Module: FileContext._visit_module,
    cst.Import: FileContext._visit_import,
    cst.ImportFrom: FileContext._visit_import_from,
    cst.Assign: FileContext._visit_assign,
    cst.AnnAssign: FileContext._visit_ann_assign,
    cst.AugAssign: FileContext._visit_aug_assign,
    cst.ClassDef: FileContext._visit_class,
    cst.FunctionDef: FileContext._visit_function,
    cst.Lambda: FileContext._visit_lambda,
    cst.Expr: FileContext._visit_expr,
    cst.Call: FileContext._visit_call,
}
CONTEXT_LEAVE: dict[type, Callable[[FileContext, Any], None]] = {
    cst.ClassDef: FileContext._leave_scope,
    cst.FunctionDef: FileContext._leave_function,
    cst.Lambda: FileContext._leave_function_scope,
}


def _module_scope(body: Sequence[cst.BaseStatement]) -> Iterator[cst.CSTNode]:
    """The small statements of a module's own scope: its body and the bodies of ``if``,
    ``try``, ``with``, ``for`` and ``while`` in it, not those of functions and classes."""
    stack: list[cst.CSTNode] = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleStatementLine):
            yield from node.body
            continue
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            continue
        children: list[cst.CSTNode] = []
        for name in ("body", "handlers", "orelse", "finalbody"):  # source order
            block = getattr(node, name, None)
            if isinstance(block, (cst.IndentedBlock, cst.SimpleStatementSuite)):
                children.extend(block.body)
            elif isinstance(block, (cst.If, cst.Else, cst.Finally)):
                children.append(block)
            elif isinstance(block, (list, tuple)):
                children.extend(block)
        stack.extend(reversed(children))


def _task_attribute(expr: cst.BaseExpression) -> cst.Attribute | None:
    """The ``X.task`` in ``X.task``, ``X.task(...)`` or ``X.task(...)(fn)``."""
    while isinstance(expr, cst.Call):
        expr = expr.func
    return expr if isinstance(expr, cst.Attribute) and expr.attr.value == "task" else None


def _parameter_names(params: cst.Parameters) -> list[str]:
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.append(star.name.value)
    return names


def _bound_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for element in target.elements for n in _bound_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _bound_names(target.value)
    return []

# Rules import these names from here; keep them re-exported.
__all__ = [
    "UNKNOWN",
    "ClassInfo",
    "Dispatch",
    "FileContext",
    "TaskDef",
    "dotted_name",
    "has_star_kwargs",
    "keyword_args",
    "literal_value",
    "module_name_for",
    "positional_args",
    "setting_name",
    "string_value",
]
