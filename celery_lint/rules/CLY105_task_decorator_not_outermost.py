from __future__ import annotations

import libcst as cst

from ..model.context import TaskDef
from ..model.edits import UNSAFE, Fix, replace
from .base import Rule


def _is_base_attribute(decorator: cst.BaseExpression, base: str) -> bool:
    func = decorator.func if isinstance(decorator, cst.Call) else decorator
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == base


class TaskDecoratorNotOutermost(Rule):
    """Task decorator that is not the outermost (first) decorator.

    ## What it does
    Reports `@app.task`/`@shared_task` written below another decorator. A decorator that is
    an attribute of the task's own `base=` class (`@PublicTask.permission_check(...)` over
    `@app.task(base=PublicTask)`) is made to decorate task objects and is not reported.

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
        """
from celery import Task, shared_task

class PublicTask(Task):
    @classmethod
    def permission_check(cls, check):
        def decorator(task):
            task.check_permission = check
            return task
        return decorator

@PublicTask.permission_check(lambda user: True)
@shared_task(name="proj.sync", base=PublicTask)
def sync(user_id):
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
        if task.func is None or task.decorator_index == 0:
            return
        base = task.options["base"].value if "base" in task.options else None
        outer = [d.decorator for d in task.func.decorators[: task.decorator_index]]
        if isinstance(base, cst.Name) and all(_is_base_attribute(d, base.value) for d in outer):
            return  # the base Task class's own decorators are meant to wrap the task
        if task.decorator_index == 1:
            above = "the decorator above it wraps"
        else:
            above = f"the {task.decorator_index} decorators above it wrap"
        self.report(
            task.decorator_expr,
            f"task decorator of `{task.name}` is not the outermost decorator; {above} the task object; put the task decorator on top",
            _move_first(task),
        )


def _move_first(task: TaskDef) -> Fix:
    """Put the task decorator first; comments above the function stay on top."""
    assert task.func is not None
    decorators = list(task.func.decorators)
    moved = decorators.pop(task.decorator_index)
    first = decorators[0]
    decorators[0] = first.with_changes(leading_lines=moved.leading_lines)
    decorators.insert(0, moved.with_changes(leading_lines=first.leading_lines))
    return replace(task.func, task.func.with_changes(decorators=decorators), "Make the task decorator the outermost", UNSAFE)
