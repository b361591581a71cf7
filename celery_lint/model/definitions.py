"""What the per-file context finds: task definitions, dispatches and classes, as libcst nodes.

Rules receive these (``task_enter``, ``dispatch``) and ask them for options and names;
the decisions behind them are ``recognise.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from .celery_api import ON_COMMIT_DISPATCH_METHODS
from .values import UNKNOWN, literal_value, string_value


@dataclass
class ClassInfo:
    node: cst.ClassDef
    name: str
    bases: tuple[str, ...]
    #: Literal attribute assignments in the class body (``acks_late = True``).
    attributes: dict[str, cst.BaseExpression]


@dataclass
class TaskDef:
    """One Celery task definition: ``@app.task``/``@shared_task`` on a def, or ``app.task(fn)``."""

    name: str
    """The function's ``__name__``."""
    func: cst.FunctionDef | None
    """The decorated function; None for the call form ``app.task(fn)``."""
    decorator_expr: cst.BaseExpression
    """The task decorator expression (``app.task`` or ``app.task(...)``) or the call form."""
    call: cst.Call | None
    """The call carrying the options, if any."""
    kind: str
    """``"shared_task"`` or ``"app.task"``."""
    options: dict[str, cst.Arg]
    generated_name: str | None
    """The name Celery generates: ``<module>.<function>``; None when the module is unknown."""
    module: str | None
    nested: bool
    decorator_index: int = 0
    """Position of the task decorator in the decorator list (0 = outermost)."""
    base: ClassInfo | None = None
    opaque_options: bool = False
    """True when options come through ``**kwargs`` we cannot see."""
    spread: dict[str, Any] = field(default_factory=dict)
    """Options passed as ``**NAME`` with ``NAME = {...}`` at module level: their values
    (:data:`UNKNOWN` for one that is not a literal). See ``recognise.spread_options``."""
    app: str | None = None
    """The app it registers on (``recognise.task_app``); None: every app, or unknown."""
    alias: bool = False
    """Decorated with a name bound to ``shared_task(...)`` (``retrying = shared_task(acks_late=True)``);
    the options are the alias's. Fixes that add a keyword to the decorator do not apply."""

    @property
    def is_call_form(self) -> bool:
        return self.func is None

    @property
    def explicit_name(self) -> str | None:
        arg = self.options.get("name")
        if arg is not None:
            return string_value(arg.value)
        spread = self.spread.get("name")
        return spread if isinstance(spread, str) else None

    @property
    def registered_name(self) -> str | None:
        """The name the task registers under, when it is known."""
        if "name" in self.options or "name" in self.spread:
            return self.explicit_name
        return self.generated_name

    def option(self, name: str) -> Any:
        """Literal value of an option set on the decorator or on a local ``base=`` class.

        Returns None when the option is not set anywhere visible, UNKNOWN when it is set
        to something that is not a literal.
        """
        arg = self.options.get(name)
        if arg is not None:
            return literal_value(arg.value)
        if name in self.spread:
            return self.spread[name]
        if self.base is not None and name in self.base.attributes:
            return literal_value(self.base.attributes[name])
        if self.opaque_options:
            return UNKNOWN
        return None

    def has_option(self, name: str) -> bool:
        return name in self.options or name in self.spread or (self.base is not None and name in self.base.attributes)

    @property
    def bound(self) -> bool:
        return self.option("bind") is True

    def bound_parameter(self) -> str | None:
        """Name of the parameter the task instance arrives in (bind=True), if any."""
        if not self.bound or self.func is None:
            return None
        params = [*self.func.params.posonly_params, *self.func.params.params]
        return params[0].name.value if params else None


@dataclass
class Dispatch:
    """A call that sends a task message: ``.delay``, ``.apply_async``, ``send_task``."""

    call: cst.Call
    method: str
    task_expr: cst.BaseExpression | None
    """The expression naming the task (``send_email`` in ``send_email.s(1).delay()``)."""
    task: TaskDef | None
    """The task, when it is defined in this file."""
    task_ref: str | None
    """The task's qualified name through imports (``shop.tasks.send_email``), if known."""
    task_name: str | None
    """The literal task name of ``send_task("name")``/``signature("name")``."""
    keywords: dict[str, cst.Arg]
    is_statement: bool
    via_signature: bool = False

    @property
    def on_commit(self) -> bool:
        return self.method in ON_COMMIT_DISPATCH_METHODS

    def display(self) -> str:
        """How messages name the call: ``send_email.apply_async(...)``, ``send_task('x')``."""
        if self.method == "send_task":
            return f"`send_task({self.task_name!r})`" if self.task_name else "`send_task(...)`"
        name = cst.Module([]).code_for_node(self.task_expr) if self.task_expr is not None else "..."
        if len(name) > 40:
            name = name[:37] + "..."
        return f"`{name}.{self.method}(...)`"

    @property
    def names_a_task(self) -> bool:
        """The target is a task we can name: defined here, imported, or a literal task name.

        A local variable (``sig = prepare(); sig.apply_async()``) or a canvas object is
        unknown: it may carry options (queue, ignore_result) that cannot be seen here.
        """
        return self.task is not None or self.task_ref is not None or self.task_name is not None


def retry_receiver(task: TaskDef) -> set[str]:
    """Names through which a task's body reaches its own Task instance."""
    names = {task.name}
    bound = task.bound_parameter()
    if bound:
        names.add(bound)
    elif task.func is not None:
        params = [*task.func.params.posonly_params, *task.func.params.params]
        if params and params[0].name.value == "self":
            names.add("self")
    return names
