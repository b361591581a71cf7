from __future__ import annotations

import libcst as cst

from ..model.context import keyword_args, positional_args
from ..model.edits import add_arg, keyword_arg, replace
from .base import Rule


class RetryWithoutExc(Rule):
    """`self.retry()` inside an `except` block without `exc=`.

    ## What it does
    Reports `self.retry(...)` (or `<task>.retry(...)`) called in an `except` handler of the
    task's own body without an `exc=` keyword (or `**kwargs` that may hold it).

    ## Why is this bad?
    Without `exc=`, the exception that caused the retry is not attached: it is missing from
    the logs and from the task's state, and when retries run out Celery raises
    `MaxRetriesExceededError` instead of the real error, hiding what went wrong.

    ## Example
    ```python
    @shared_task(bind=True)
    def fetch(self, url):
        try:
            return download(url)
        except IOError:
            raise self.retry(countdown=10)
    ```

    ## Use instead
    ```python
        except IOError as exc:
            raise self.retry(exc=exc, countdown=10)
    ```

    ## Fix safety
    Safe when the handler binds the exception to a name (`except IOError as exc`): the fix
    passes `exc=<name>`. Otherwise no fix is offered.

    ## Options
    None.

    ## References
    - [Celery: Retrying](https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying)
    """

    code = "CLY302"
    name = "retry-without-exc"
    fix = "safe"

    VALID = [
        """
from celery import shared_task

@shared_task(name="proj.fetch", bind=True)
def fetch(self, url):
    try:
        return url
    except IOError as exc:
        raise self.retry(exc=exc, countdown=10)

@shared_task(name="proj.poll", bind=True)
def poll(self):
    if not self.request.retries:
        raise self.retry(countdown=5)
    return 1
""",
        # `retry` on something that is not the task.
        """
from celery import shared_task

@shared_task(name="proj.sync")
def sync(client):
    try:
        return client.get()
    except IOError:
        return client.retry()
""",
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task(name="proj.fetch", bind=True)
def fetch(self, url):
    try:
        return url
    except IOError:
        raise self.retry(countdown=10)  # error

@shared_task(name="proj.sync", bind=True)
def sync(self, url):
    try:
        return url
    except (IOError, ValueError) as err:
        raise self.retry(countdown=10)  # error
""",
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._handlers: list[tuple[cst.ExceptHandler, int]] = []

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._handlers.append((node, len(self.ctx.scopes)))

    def leave_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if self._handlers and self._handlers[-1][0] is node:
            self._handlers.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not self._handlers or self._handlers[-1][1] != len(self.ctx.scopes):
            return
        if self.ctx.task_retried_by(node, body_only=True) is None:
            return
        receiver = node.func.value.value  # type: ignore[attr-defined]
        if "exc" in keyword_args(node) or any(arg.star == "**" for arg in node.args):
            return
        handler = self._handlers[-1][0]
        bound = handler.name.name.value if handler.name and isinstance(handler.name.name, cst.Name) else None
        hint = f"pass `exc={bound}`" if bound else "bind the exception (`except ... as exc`) and pass `exc=exc`"
        fix = None
        if bound and len(positional_args(node)) < 3:  # retry(args, kwargs, exc, ...)
            fix = replace(node, add_arg(node, keyword_arg("exc", cst.Name(bound))), f"Pass `exc={bound}`")
        self.report(node, f"`{receiver}.retry()` in an `except` block without `exc=`: the original error is lost; {hint}", fix)
