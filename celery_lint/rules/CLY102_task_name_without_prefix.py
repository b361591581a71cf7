from __future__ import annotations

from ..model.context import TaskDef, string_value
from .base import Example, Rule

SEPARATORS = "._:-"


class TaskNameWithoutPrefix(Rule):
    """Explicit task name without a project prefix.

    ## What it does
    Reports a literal `name=` that does not start with a known prefix followed by one of
    `.`, `_`, `:` or `-`. Prefixes come from `task-name-prefixes`; when none are
    configured, any component of the module's dotted path counts, so in
    `shop/orders/tasks.py` the names `shop.refund`, `orders_refund` and `tasks:refund`
    pass while `refund` does not. With `task-name-pattern`, the name must instead match
    that regular expression (`re.search`: anchor it yourself). Unnamed tasks are CLY101's
    business, and names that are not string literals are not judged.

    ## Why is this bad?
    All tasks of every app share one registry and, often, one broker. A bare name such as
    `"send_email"` collides with another app's task of the same name (Celery keeps the
    first one registered, the other never runs) and says nothing about where it lives.

    ## Example
    ```python
    # shop/orders/tasks.py
    @shared_task(name="refund")
    def refund(order_id): ...
    ```

    ## Use instead
    ```python
    @shared_task(name="orders.refund")
    def refund(order_id): ...
    ```

    ## Options
    - `task-name-prefixes`: list of accepted prefixes (default: components of the module path).
    - `task-name-pattern`: a regular expression that replaces the prefix test.

    ## References
    - [Celery: Task names](https://docs.celeryq.dev/en/stable/userguide/tasks.html#names)
    """

    code = "CLY102"
    name = "task-name-without-prefix"

    VALID = [
        Example(
            """
from celery import shared_task

@shared_task(name="orders.refund")
def refund(order_id):
    return order_id

@shared_task(name="shop:refund_all")
def refund_all():
    return 1
""",
            path="shop/orders/tasks.py",
        ),
        Example(
            """
from celery import shared_task

@shared_task(name="billing-refund")
def refund(order_id):
    return order_id
""",
            options={"task-name-prefixes": ["billing"]},
        ),
        # Unnamed tasks belong to CLY101; computed names are not judged.
        """
from celery import shared_task

PREFIX = "x"

@shared_task
def a():
    return 1

@shared_task(name=PREFIX + ".b")
def b():
    return 1
""",
    ]
    INVALID = [
        Example(
            """
from celery import shared_task

@shared_task(name="refund")  # error
def refund(order_id):
    return order_id

@shared_task(name="ordersrefund")  # error
def refund2(order_id):
    return order_id
""",
            path="shop/orders/tasks.py",
        ),
        Example(
            """
from celery import shared_task

@shared_task(name="proj.tasks.add")  # error
def add(x, y):
    return x + y
""",
            options={"task-name-pattern": r"^billing\."},
        ),
    ]

    def task_enter(self, task: TaskDef) -> None:
        arg = task.options.get("name")
        if arg is None:
            return
        name = string_value(arg.value)
        if name is None:
            return
        pattern = self.settings.task_name_pattern
        if pattern is not None:
            if pattern.search(name) is None:
                self.report(arg.value, f"task name `{name}` does not match `task-name-pattern` `{pattern.pattern}`; rename it to match")
            return
        prefixes = self.settings.task_name_prefixes or tuple((task.module or "").split("."))
        prefixes = tuple(p for p in prefixes if p)
        if not prefixes or any(_has_prefix(name, p) for p in prefixes):
            return
        shown = ", ".join(f"`{p}`" for p in prefixes)
        self.report(arg.value, f"task name `{name}` does not start with a prefix ({shown}) followed by `.`, `_`, `:` or `-`; rename it under one of them")


def _has_prefix(name: str, prefix: str) -> bool:
    if prefix[-1] in SEPARATORS:
        return name.startswith(prefix)
    return name.startswith(prefix) and len(name) > len(prefix) and name[len(prefix)] in SEPARATORS
