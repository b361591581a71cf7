from __future__ import annotations

import libcst as cst

from ..model.celery_api import BOUND_TASK_API
from ..model.context import TaskDef, literal_value
from ..model.edits import Fix, replace, with_keyword
from .base import Example, Rule


class BindMismatch(Rule):
    """`bind=True` and the task's first parameter disagree.

    ## What it does
    Reports, in a task defined by a decorator:
    - `self.retry`, `self.request`, `self.update_state` or `self.replace` in a task
      without `bind=True` (`bind=False` or no `bind`), once per task, at the first use;
    - `bind=True` on a function with no positional parameter (a `*args` that receives the
      task instance as `args[0]` is fine);
    - `bind=True` on a function whose first parameter is not named `self` (or a name from
      `bind-parameter-names`).
    Uses of `self` inside a class or a function nested in the task that has its own `self`
    parameter are not the task's. A `bind=` that is not a literal is not judged.

    ## Why is this bad?
    With `bind=True`, Celery passes the task instance as the first argument. Without it,
    `self` is just the first argument the caller passed, so `self.retry()` fails with
    `AttributeError` at the worst moment (while handling an error). And with `bind=True`
    on `def fetch(url)`, the task instance arrives in `url` and every call is shifted by one.

    ## Example
    ```python
    @shared_task
    def fetch(self, url):
        try:
            return download(url)
        except IOError as exc:
            raise self.retry(exc=exc)
    ```

    ## Use instead
    ```python
    @shared_task(bind=True)
    def fetch(self, url):
        ...
    ```

    ## Fix safety
    Safe when the first parameter is named `self` and the body uses the Task API on it:
    the fix adds `bind=True`. Otherwise no fix is offered.

    ## Options
    - `bind-parameter-names`: names accepted for the bound parameter (default `["self"]`).

    ## References
    - [Celery: Bound tasks](https://docs.celeryq.dev/en/stable/userguide/tasks.html#bound-tasks)
    """

    code = "CLY106"
    name = "bind-mismatch"
    fix = "safe"

    VALID = [
        # `*args` absorbs the task instance (it arrives as `args[0]`).
        """
from celery import shared_task

@shared_task(bind=True)
def run(*args, **kwargs):
    task = args[0]
    return task.request.id
""",
        """
from celery import shared_task

@shared_task(bind=True)
def fetch(self, url):
    try:
        return url
    except IOError as exc:
        raise self.retry(exc=exc)
""",
        """
from celery import shared_task

@shared_task
def build(items):
    class Report:
        def __init__(self):
            self.request = None
    return Report()
""",
        # A `retry` method on a class that is not a task.
        """
class Client:
    def retry(self):
        return self.request

    def request(self):
        return self.retry()
""",
        Example(
            """
from celery import shared_task

@shared_task(bind=True)
def fetch(task, url):
    return task.request.id
""",
            options={"bind-parameter-names": ["self", "task"]},
        ),
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task
def fetch(self, url):
    try:
        return url
    except IOError as exc:
        raise self.retry(exc=exc)  # error
""",
        """
from celery import Celery

app = Celery("proj")

@app.task(bind=True)  # error
def ping():
    return "pong"

@app.task(bind=True)
def fetch(url):  # error
    return url
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        if task.func is None:
            return
        bind = task.option("bind")
        if bind is True:
            self._check_bound_signature(task)
        self._unbound_uses_pending = bind is None or bind is False

    def _check_bound_signature(self, task: TaskDef) -> None:
        assert task.func is not None
        params = [*task.func.params.posonly_params, *task.func.params.params]
        if not params and isinstance(task.func.params.star_arg, cst.Param):
            return  # `def run(*args)`: the task instance arrives as args[0]
        if not params:
            where = task.options["bind"] if "bind" in task.options else task.decorator_expr
            self.report(where, f"task `{task.name}` has `bind=True` but no positional parameter to receive the task instance; add `self` first")
            return
        first = params[0].name.value
        if first not in self.settings.bind_parameter_names:
            allowed = " or ".join(f"`{n}`" for n in self.settings.bind_parameter_names)
            self.report(
                params[0].name,
                f"task `{task.name}` has `bind=True`, so its first parameter `{first}` receives the task instance, "
                f"not an argument; name it {allowed}",
            )

    _unbound_uses_pending = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not self._unbound_uses_pending or node.attr.value not in BOUND_TASK_API:
            return
        if not (isinstance(node.value, cst.Name) and node.value.value == "self"):
            return
        task = self.ctx.current_task
        if task is None or task.func is None or not self._self_is_task_parameter(task):
            return
        self._unbound_uses_pending = False
        bind = literal_value(task.options["bind"].value) if "bind" in task.options else None
        how = "has `bind=False`" if bind is False else "is not declared with `bind=True`"
        self.report(node, f"task `{task.name}` uses `self.{node.attr.value}` but {how}; bind it (`bind=True`, first parameter `self`)", self._fix(task))

    @staticmethod
    def _fix(task: TaskDef) -> Fix | None:
        """``bind=True`` on the decorator, when the first parameter is ``self``."""
        if task.opaque_options or task.func is None or task.alias:
            return None
        params = [*task.func.params.posonly_params, *task.func.params.params]
        if not params or params[0].name.value != "self":
            return None
        arg = task.options.get("bind")
        if arg is not None:
            return replace(arg.value, cst.Name("True"), "Set `bind=True`")
        return replace(task.decorator_expr, with_keyword(task.decorator_expr, "bind", cst.Name("True")), "Add `bind=True`")

    def task_leave(self, task: TaskDef) -> None:
        if task.func is None:
            return
        self._unbound_uses_pending = False
        enclosing = self.ctx.task_stack[:-1]
        if enclosing:  # back in an outer task body
            bind = enclosing[-1].option("bind")
            self._unbound_uses_pending = bind is None or bind is False

    def _self_is_task_parameter(self, task: TaskDef) -> bool:
        """``self`` is not rebound by a class or a nested function between here and the task."""
        scopes = self.ctx.scopes
        start = next((i for i, s in enumerate(scopes) if s is task.func), None)
        if start is None:
            return False
        for scope in scopes[start + 1 :]:
            if isinstance(scope, cst.ClassDef):
                return False
            params = scope.params
            names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
            if "self" in names:
                return False
        return True
