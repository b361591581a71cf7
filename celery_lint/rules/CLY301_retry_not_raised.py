from __future__ import annotations

import libcst as cst

from ..model.context import keyword_args, literal_value
from ..model.edits import replace
from .base import Rule


class RetryNotRaised(Rule):
    """`self.retry(...)` called as a statement instead of raised.

    ## What it does
    Reports `self.retry(...)` (or `<task>.retry(...)` on the task itself) used as a bare
    statement inside a task. `retry(..., throw=False)` is meant to return, and is left
    alone. A `retry` method of an object that is not the task (an HTTP client, a class of
    your own) is not this rule's business.

    ## Why is this bad?
    `Task.retry()` raises `celery.exceptions.Retry` to stop the task, but the call site
    does not say so: readers, type checkers and linters see code after it as reachable,
    and the first refactor that wraps it in a helper or a broad `except` makes the task
    carry on after asking to be retried. Celery's documentation always writes
    `raise self.retry(...)`.

    ## Example
    ```python
    @shared_task(bind=True)
    def fetch(self, url):
        try:
            return download(url)
        except IOError as exc:
            self.retry(exc=exc)
    ```

    ## Use instead
    ```python
            raise self.retry(exc=exc)
    ```

    ## Fix safety
    Safe: `retry()` raises anyway, so adding `raise` changes nothing at run time.

    ## Options
    None.

    ## References
    - [Celery: Retrying](https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying)
    """

    code = "CLY301"
    in_tests = True
    name = "retry-not-raised"
    fix = "safe"

    VALID = [
        """
from celery import shared_task

@shared_task(bind=True)
def fetch(self, url):
    try:
        return url
    except IOError as exc:
        raise self.retry(exc=exc)

@shared_task(bind=True)
def poll(self):
    self.retry(countdown=5, throw=False)
    return None
""",
        # `retry` on a non-task object.
        """
from celery import shared_task

class Session:
    def retry(self):
        return 1

    def run(self):
        self.retry()

@shared_task
def sync(client):
    client.retry()
    return 1
""",
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task(bind=True)
def fetch(self, url):
    try:
        return url
    except IOError as exc:
        self.retry(exc=exc)  # error

@shared_task
def refresh(key):
    refresh.retry(countdown=10)  # error
""",
    ]

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not isinstance(call, cst.Call):
            return
        task = self.ctx.task_retried_by(call)
        if task is None:
            return
        throw = keyword_args(call).get("throw")
        if throw is not None and literal_value(throw.value) is not True:
            return
        receiver = call.func.value.value  # type: ignore[attr-defined]
        fix = replace(node, cst.Raise(exc=call), f"Write `raise {receiver}.retry(...)`")
        self.report(call, f"`{receiver}.retry(...)` is not raised; write `raise {receiver}.retry(...)` in task `{task.name}`", fix)
