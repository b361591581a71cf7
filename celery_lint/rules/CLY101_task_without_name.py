from __future__ import annotations

from ..model.context import TaskDef
from ..model.edits import replace, string, with_keyword
from .base import Example, Rule


class TaskWithoutName(Rule):
    """Task decorator without an explicit `name=`.

    ## What it does
    Reports `@app.task`, `@shared_task` (and the call form `app.task(fn)`) without a
    `name=` keyword. The message shows the name Celery generates today,
    `<dotted.module>.<function>`, computed from the file's place under its package root
    (or the configured `src` roots). A decorator whose options arrive through `**kwargs`
    is left alone, since the name may be among them.

    ## Why is this bad?
    Without `name=`, the task's name is derived from the module path and the function
    name. Renaming the function or moving the module silently renames the task: messages
    already queued under the old name, beat entries, `task_routes` and `send_task("...")`
    callers stop matching, and workers reject them as unregistered.

    ## Example
    ```python
    @shared_task
    def send_invoice(invoice_id): ...
    ```

    ## Use instead
    ```python
    @shared_task(name="billing.tasks.send_invoice")
    def send_invoice(invoice_id): ...
    ```

    ## Fix safety
    Safe: the fix pins exactly the name Celery generates today, so nothing registered
    changes. It is offered only when that name is certain: the file's top-level package
    (or the file itself) sits in the project root, a `src` root or a `src/` directory of
    the project root. A module in a plain directory (`scripts/jobs.py` without
    `__init__.py`) is named `jobs` or `scripts.jobs` depending on the worker's `sys.path`:
    the finding says so and pins nothing. Nor is it offered when the module path is
    unknown or `__main__`, or when the decorator is a name bound to `shared_task(...)`
    (the keyword would go to the wrong call).

    ## Options
    - `src`: source roots used to compute the dotted module path (directories that hold
      top-level packages; one that is itself a package is a configuration error).

    ## References
    - [Celery: Task names](https://docs.celeryq.dev/en/stable/userguide/tasks.html#names)
    """

    code = "CLY101"
    name = "task-without-name"
    fix = "safe"

    VALID = [
        """
from celery import shared_task

@shared_task(name="proj.tasks.send_invoice")
def send_invoice(invoice_id):
    return invoice_id
""",
        """
from celery import shared_task

OPTIONS = {"name": "proj.add"}

@shared_task(**OPTIONS)
def add(x, y):
    return x + y
""",
        # `.task` on an object that is not a Celery app is not a task decorator.
        """
from asyncio import get_event_loop

class Scheduler:
    def task(self, fn):
        return fn

scheduler = Scheduler()

@scheduler.task
def job():
    pass
""",
        # A project factory that makes something else: its `.task` is not Celery's.
        Example(
            """
from proj.factory import scheduler

@scheduler.task
def job():
    pass
""",
            files={
                "proj/__init__.py": "",
                "proj/factory.py": "class Scheduler:\n    def task(self, fn):\n        return fn\n\ndef make_scheduler():\n    return Scheduler()\n\nscheduler = make_scheduler()\n",
            },
        ),
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task  # error
def send_invoice(invoice_id):
    return invoice_id
""",
        """
from celery import Celery

app = Celery("proj")

@app.task(bind=True)  # error
def refresh(self, url):
    return url

def plain(x):
    return x

plain_task = app.task(plain)  # error
""",
        Example(
            """
from proj.celery import app

@app.task(ignore_result=True)  # error
def cleanup():
    pass
""",
            path="proj/orders/tasks.py",
        ),
        # An app made through an alias of the class, in the same file.
        """
import celery

Celery = celery.Celery
app = Celery("proj")

@app.task  # error
def ping():
    return "pong"
""",
        # An app made by a project factory (Flask's `make_celery`), imported from elsewhere.
        Example(
            """
from proj.factory import celery_app

@celery_app.task  # error
def resize(image_id):
    return image_id
""",
            files={
                "proj/__init__.py": "",
                "proj/factory.py": "from celery import Celery\n\ndef make_celery(name):\n    app = Celery(name)\n    return app\n\ncelery_app = make_celery('proj')\n",
            },
        ),
    ]

    def task_enter(self, task: TaskDef) -> None:
        if "name" in task.options or "name" in task.spread or task.opaque_options:
            return
        generated = f" (Celery generates `{task.generated_name}`); pin it with `name=`" if task.generated_name else ""
        if task.generated_name and not self.ctx.module_certain:
            generated = (
                f" (Celery generates `{task.generated_name}` when the worker imports this file as "
                f"`{task.module}`); pin the name your workers register with `name=`"
            )
        fix = None
        if task.generated_name and task.module != "__main__" and not task.alias and self.ctx.module_certain:
            fix = replace(
                task.decorator_expr,
                with_keyword(task.decorator_expr, "name", string(task.generated_name)),
                f"Pin `name=\"{task.generated_name}\"`",
            )
        self.report(task.decorator_expr, f"task `{task.name}` has no explicit `name=`{generated}", fix)
