from __future__ import annotations

import libcst as cst

from ..model.context import TaskDef, dotted_name
from .base import Example, Rule

_BROAD = ("Exception", "BaseException")


class AutoretryForBroadException(Rule):
    """`autoretry_for` that contains `Exception` or `BaseException` (off by default).

    ## What it does
    Reports `autoretry_for=(Exception,)` (or `BaseException`, alone or in a tuple) on a task
    decorator. Off by default: select it with `--extend-select CLY304`.

    ## Why is this bad?
    Every error is retried, including bugs (`TypeError`, `KeyError`) that fail the same way
    each time and, with `BaseException`, `SoftTimeLimitExceeded` and worker shutdown: the
    task burns its retries and the queue on failures a retry cannot fix, and time limits no
    longer stop it.

    ## Example
    ```python
    @shared_task(autoretry_for=(Exception,), max_retries=5)
    def sync(account_id): ...
    ```

    ## Use instead
    ```python
    @shared_task(autoretry_for=(ConnectionError, Timeout), max_retries=5)
    def sync(account_id): ...
    ```

    ## Options
    None.

    ## References
    - [Celery: Automatic retry for known exceptions](https://docs.celeryq.dev/en/stable/userguide/tasks.html#automatic-retry-for-known-exceptions)
    """

    code = "CLY304"
    name = "autoretry-for-broad-exception"
    default_enabled = False

    VALID = [
        Example(
            """
from celery import shared_task

@shared_task(name="proj.sync", autoretry_for=(ConnectionError, TimeoutError))
def sync(account_id):
    return account_id
""",
            options={"extend-select": ["CLY304"]},
        ),
    ]
    INVALID = [
        Example(
            """
from celery import shared_task

@shared_task(name="proj.sync", autoretry_for=(Exception,), max_retries=3)  # error
def sync(account_id):
    return account_id

@shared_task(name="proj.push", autoretry_for=[IOError, BaseException], max_retries=3)  # error
def push():
    return 1
""",
            options={"extend-select": ["CLY304"]},
        ),
    ]

    def task_enter(self, task: TaskDef) -> None:
        arg = task.options.get("autoretry_for")
        if arg is None:
            return
        value = arg.value
        items = [e.value for e in value.elements] if isinstance(value, (cst.Tuple, cst.List)) else [value]
        for item in items:
            name = dotted_name(item)
            if name in _BROAD or (name and name.startswith("builtins.") and name.split(".")[1] in _BROAD):
                self.report(
                    item,
                    f"task `{task.name}` retries on every `{name.split('.')[-1]}`: bugs and time limits are retried too; "
                    "list the transient errors instead",
                )
