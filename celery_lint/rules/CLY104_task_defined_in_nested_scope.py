from __future__ import annotations

import libcst as cst

from ..model.context import TaskDef
from .base import Rule


class TaskDefinedInNestedScope(Rule):
    """Task defined inside a function or a class body.

    ## What it does
    Reports a task decorator (`@app.task`, `@shared_task`) on a function nested in another
    `def`, or on a method in a class body. The call form `app.task(fn)` inside a function
    is reported too.

    ## Why is this bad?
    A task is registered when its decorator runs. Inside a function, that happens only when
    the function is called, so a freshly started worker does not know the task and rejects
    its messages as unregistered (`KeyError: 'proj.tasks.inner'`); in a class body the
    "task" receives the class's instance arguments wrongly and its generated name ignores
    the class.

    ## Example
    ```python
    def schedule_report(user):
        @shared_task
        def build():
            ...
        build.delay()
    ```

    ## Use instead
    ```python
    @shared_task(name="reports.build")
    def build(user_id):
        ...

    def schedule_report(user):
        build.delay(user.pk)
    ```

    ## Options
    None.

    ## References
    - [Celery: Task names and registration](https://docs.celeryq.dev/en/stable/userguide/tasks.html#names)
    """

    code = "CLY104"
    name = "task-defined-in-nested-scope"

    VALID = [
        """
from celery import shared_task

@shared_task(name="proj.tasks.build")
def build(user_id):
    def helper():
        return user_id
    return helper()
""",
        # Nested functions decorated by something that is not Celery.
        """
import functools

def outer():
    @functools.lru_cache
    def inner():
        return 1
    return inner()
""",
    ]
    INVALID = [
        """
from celery import Celery

app = Celery("proj")

def schedule(user):
    @app.task(name="proj.build")  # error
    def build():
        return user
    return build.delay()

class Reports:
    @app.task(name="proj.monthly")  # error
    def monthly(self):
        return 1
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        if not task.nested:
            return
        scope = self.ctx.scopes[-2] if task.func is not None else self.ctx.scopes[-1]
        if isinstance(scope, cst.ClassDef):
            where = f"in the body of class `{scope.name.value}`"
        elif isinstance(scope, cst.FunctionDef):
            where = f"inside `{scope.name.value}()`"
        else:
            where = "inside a lambda"
        self.report(
            task.decorator_expr,
            f"task `{task.name}` is defined {where}; a worker registers it only if that code runs; define it at module level",
        )
