from __future__ import annotations

import libcst as cst

from ..model.context import TaskDef, literal_value
from .base import Rule


class UnboundedRetries(Rule):
    """`max_retries=None`: the task retries forever.

    ## What it does
    Reports a task whose `max_retries` is the literal `None`, on the decorator or in a
    `base=` class of the same file, and `retry_kwargs={"max_retries": None}`.

    ## Why is this bad?
    With `max_retries=None`, `self.retry()` and `autoretry_for` never give up: a task whose
    failure is permanent (a deleted row, a revoked API key) retries until someone notices,
    holding broker messages and worker slots, and its error is never raised.

    ## Example
    ```python
    @shared_task(bind=True, max_retries=None)
    def sync(self, account_id): ...
    ```

    ## Use instead
    ```python
    @shared_task(bind=True, max_retries=10, retry_backoff=True)
    def sync(self, account_id): ...
    ```

    ## Options
    None.

    ## References
    - [Celery: Task.max_retries](https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.max_retries)
    """

    code = "CLY305"
    name = "unbounded-retries"

    VALID = [
        """
from celery import shared_task

@shared_task(name="proj.sync", max_retries=10, retry_kwargs={"countdown": 5})
def sync(account_id):
    return account_id
""",
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task(name="proj.sync", bind=True, max_retries=None)  # error
def sync(self, account_id):
    return account_id

@shared_task(name="proj.poll", autoretry_for=(IOError,), retry_kwargs={"max_retries": None})  # error
def poll():
    return 1
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        if "max_retries" in task.options and task.option("max_retries") is None:
            self.report(task.options["max_retries"], f"task `{task.name}` has `max_retries=None`: it retries forever; set a bound (`max_retries=5`)")
            return
        retry_kwargs = task.options.get("retry_kwargs")
        value = _dict_literal_value(retry_kwargs.value, "max_retries") if retry_kwargs is not None else False
        if value is None:
            self.report(retry_kwargs, f"task `{task.name}` has `retry_kwargs` with `max_retries: None`: it retries forever; set a bound (`'max_retries': 5`)")


def _dict_literal_value(node: cst.BaseExpression, key: str) -> object:
    """The literal value of ``key`` in a dict display; False when absent or not a dict."""
    if not isinstance(node, cst.Dict):
        return False
    for element in node.elements:
        if isinstance(element, cst.DictElement) and literal_value(element.key) == key:
            return literal_value(element.value)
    return False
