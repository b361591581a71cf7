from __future__ import annotations

from ..context import TaskDef
from .base import Example, Rule


class TaskDecoratorNotOutermost(Rule):
    """Task decorator that is not the outermost (first) decorator.

    ## What it does
    Reports `@app.task`/`@shared_task` written below another decorator.

    ## Why is this bad?
    Decorators apply bottom-up, so a decorator above the task decorator wraps the task
    object instead of the function: the module-level name is no longer a Task, `.delay()`
    on it fails or bypasses the wrapper, and the worker runs the function without what the
    outer decorator was meant to add. Celery's documentation: "the task decorator must be
    applied last (oddly, in Python this means it must be first in the list)".

    ## Example
    ```python
    @login_required
    @shared_task
    def export(user_id): ...
    ```

    ## Use instead
    ```python
    @shared_task
    @login_required
    def export(user_id): ...
    ```

    ## Fix safety
    Unsafe: moving the task decorator to the top changes which function the other
    decorators wrap (that is the intent, but it changes behaviour).

    ## Options
    None.

    ## References
    - [Celery: Basics (decorator order)](https://docs.celeryq.dev/en/stable/userguide/tasks.html#basics)
    """

    code = "CLY105"
    name = "task-decorator-not-outermost"
    fix = "unsafe"

    VALID = [
        """
import functools
from celery import shared_task

@shared_task(name="proj.export")
@functools.wraps(print)
def export(user_id):
    return user_id
""",
    ]
    INVALID = [
        """
import functools
from celery import shared_task

@functools.lru_cache
@shared_task(name="proj.export")  # error
def export(user_id):
    return user_id
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        if task.func is not None and task.decorator_index > 0:
            above = "the decorator above it wraps" if task.decorator_index == 1 else (
                f"the {task.decorator_index} decorators above it wrap"
            )
            self.report(
                task.decorator_expr,
                f"task decorator of `{task.name}` is not the outermost decorator; {above} the task object",
            )
