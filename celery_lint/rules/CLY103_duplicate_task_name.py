from __future__ import annotations

from ..model.context import TaskDef
from ..model.recognise import may_share_app
from .base import Example, Rule


class DuplicateTaskName(Rule):
    """Two functions register the same task name.

    ## What it does
    Reports a task whose registered name (explicit `name=` or the generated
    `<module>.<function>`) is also registered by a different function anywhere in the
    project, naming the other place. Both definitions are reported, each in its own file.
    Tasks registered on two different apps (`@app.task` where each `app` is a different
    `Celery()`, as in two example projects of one repository) do not collide; `shared_task`
    registers on every app. Needs the project index; without it (`--no-index`) the rule is
    silent.

    ## Why is this bad?
    Celery's registry is a dict: the worker keeps whichever definition it imports last,
    and messages for the other one silently run the wrong code, or are rejected as
    unregistered when its module was never imported. Copy-pasted `name="..."` strings are
    the usual cause.

    ## Example
    ```python
    # shop/tasks.py
    @shared_task(name="shop.sync")
    def sync_orders(): ...

    # shop/stock.py
    @shared_task(name="shop.sync")
    def sync_stock(): ...
    ```

    ## Use instead
    ```python
    @shared_task(name="shop.sync_orders")
    def sync_orders(): ...

    @shared_task(name="shop.sync_stock")
    def sync_stock(): ...
    ```

    ## Options
    - `project-index`: the index this rule needs (default true).

    ## References
    - [Celery: Task names](https://docs.celeryq.dev/en/stable/userguide/tasks.html#names)
    """

    code = "CLY103"
    name = "duplicate-task-name"
    scope = "project"

    VALID = [
        Example(
            """
from celery import shared_task

@shared_task(name="shop.sync_orders")
def sync_orders():
    return 1
""",
            path="shop/tasks.py",
            files={"shop/stock.py": '@shared_task(name="shop.sync_stock")\ndef sync_stock():\n    return 1\n\nfrom celery import shared_task\n'},
        ),
        # Two example projects, each with its own app: the names live on different apps.
        Example(
            "from celery import Celery\n\napp = Celery('a')\n\n@app.task(name='sync')\ndef sync():\n    return 1\n",
            path="examples/a/tasks.py",
            files={"examples/b/tasks.py": "from celery import Celery\n\napp = Celery('b')\n\n@app.task(name='sync')\ndef sync():\n    return 1\n"},
        ),
        # The same function name in two modules: generated names differ.
        Example(
            "from celery import shared_task\n\n@shared_task\ndef sync():\n    return 1\n",
            path="shop/tasks.py",
            files={"billing/tasks.py": "from celery import shared_task\n\n@shared_task\ndef sync():\n    return 1\n"},
        ),
    ]
    INVALID = [
        Example(
            """
from celery import shared_task

@shared_task(name="shop.sync")  # error
def sync_orders():
    return 1
""",
            path="shop/tasks.py",
            files={"shop/stock.py": 'from celery import shared_task\n\n@shared_task(name="shop.sync")\ndef sync_stock():\n    return 1\n'},
        ),
    ]

    def task_enter(self, task: TaskDef) -> None:
        index = self.ctx.index
        name = task.registered_name
        if index is None or name is None:
            return
        here = self.ctx.rel
        others = [
            t
            for t in index.by_name.get(name, ())
            if not (t.path == here and t.function == task.name) and may_share_app(t.app, task.app)
        ]
        if not others:
            return
        other = others[0]
        more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
        self.report(
            task.decorator_expr,
            f"task name `{name}` is also registered by `{other.function}` at {other.where()}{more}; "
            "Celery keeps one of them and the other never runs; give one of them its own `name=`",
        )
