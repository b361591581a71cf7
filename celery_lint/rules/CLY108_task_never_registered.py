from __future__ import annotations

from typing import Any

from ..model.context import TaskDef
from .base import Example, Rule


class TaskNeverRegistered(Rule):
    """Task in a module that no worker imports.

    ## What it does
    Reports a task defined in a module that a worker started from this project never
    imports, so the worker never registers it. What a worker imports is read from the
    project index, never by importing anything: the module that makes the app and the
    `-A` of the worker command lines in the repository; what the app's configuration
    names: `include=`, `imports` (`CELERY_IMPORTS`), and `autodiscover_tasks()` (the
    `tasks` module, or `related_name`, of each package given, or with no packages of each
    Django app in `INSTALLED_APPS`); with Django, what `django.setup()` imports (the
    settings module, each installed app's package, `apps` and `models` modules, and
    `admin` with `django.contrib.admin`); then every module those import, at any depth
    and at any place in the module (a function's imports count too). A `tasks/` package
    registers the submodules its `__init__.py` imports.

    The rule is silent, for the whole project, when this cannot be read statically: no
    app is made in the project (a library's tasks), `autodiscover_tasks` over packages
    that are not a literal list or `INSTALLED_APPS`, a non-literal `INSTALLED_APPS`,
    `include` or `imports`, configuration read with `config_from_envvar` or from an object
    the index cannot read, or a module a worker imports that imports a name computed at
    run time (`importlib.import_module(name)`; `import_module(f"{app}.signals")` counts as
    every module ending in `.signals`). It errs toward silence: a module named in an
    import statement inside a string or under `if TYPE_CHECKING:` counts as imported.
    Test modules are not reported. Needs the project index.

    ## Why is this bad?
    A worker knows only the tasks whose modules it has imported. Messages for any other
    task are rejected with `Received unregistered task of type '...'` and dropped (or
    retried forever by an acks-late setup), although the web process, which imported the
    module, sent them without complaint. Moving a task out of `tasks.py` into
    `jobs.py`, or into an app missing from `INSTALLED_APPS`, is enough.

    ## Example
    ```python
    # shop/jobs.py  (autodiscover_tasks() loads shop/tasks.py only)
    @shared_task
    def rebuild_index(): ...
    ```

    ## Use instead
    ```python
    # shop/tasks.py
    from shop.jobs import rebuild_index  # noqa: F401  (registers it)
    ```
    or list the module in the app's `include=["shop.jobs"]`.

    ## Options
    - `project-index`: the index this rule needs (default true).

    ## References
    - [Celery: autodiscover_tasks](https://docs.celeryq.dev/en/stable/reference/celery.html#celery.Celery.autodiscover_tasks)
    - [Celery: imports / include](https://docs.celeryq.dev/en/stable/userguide/configuration.html#imports)
    - [Celery FAQ: "Received unregistered task"](https://docs.celeryq.dev/en/stable/userguide/tasks.html#names)
    """

    code = "CLY108"
    name = "task-never-registered"
    scope = "project"

    @classmethod
    def needles_for(cls, index: Any) -> tuple[str, ...]:
        """None without the index, or when it cannot tell what the workers import: no
        file is brought in for this rule on a project where it is silent."""
        if index is None or not index.registration.known:
            return ()
        return cls.needles

    _APP = {
        "shop/__init__.py": "from .celery import app as celery_app\n",
        "shop/celery.py": """
from celery import Celery

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
""",
        "shop/settings.py": 'INSTALLED_APPS = ["django.contrib.auth", "orders", "billing.apps.BillingConfig"]\n',
        "orders/__init__.py": "",
        "orders/tasks.py": "from orders.emails import send_receipt  # registers it\n",
        "billing/__init__.py": "",
        "billing/apps.py": "from django.apps import AppConfig\n\nclass BillingConfig(AppConfig):\n    name = 'billing'\n",
    }
    VALID = [
        # orders/tasks.py imports this module: the worker registers it
        Example(
            """
from celery import shared_task

@shared_task
def send_receipt(order_id):
    return order_id
""",
            path="orders/emails.py",
            files=_APP,
        ),
        # the tasks module of an installed app (AppConfig path) is autodiscovered
        Example(
            """
from celery import shared_task

@shared_task
def charge(order_id):
    return order_id
""",
            path="billing/tasks.py",
            files=_APP,
        ),
        # the module is listed in `include=`
        Example(
            """
from celery import Celery, shared_task

app = Celery("shop", include=["shop.jobs"])

@shared_task
def ping():
    return 1
""",
            path="shop/celery.py",
            files={"shop/jobs.py": "from celery import shared_task\n\n@shared_task\ndef rebuild():\n    return 1\n"},
        ),
        # discovery computed at run time: nothing can be claimed
        Example(
            """
from celery import shared_task

@shared_task
def rebuild():
    return 1
""",
            path="shop/jobs.py",
            files={"shop/celery.py": "from celery import Celery\n\napp = Celery('shop')\napp.autodiscover_tasks(get_packages())\n"},
        ),
        # a library: no app in the project
        Example(
            """
from celery import shared_task

@shared_task
def rebuild():
    return 1
""",
            path="lib/jobs.py",
        ),
    ]
    INVALID = [
        Example(
            """
from celery import shared_task

@shared_task  # error
def rebuild_index():
    return 1
""",
            path="orders/jobs.py",
            files=_APP,
        ),
        # an app that is not installed
        Example(
            """
from celery import shared_task

@shared_task(name="legacy.cleanup")  # error
def cleanup():
    return 1
""",
            path="legacy/tasks.py",
            files=_APP,
        ),
    ]

    def task_enter(self, task: TaskDef) -> None:
        index = self.ctx.index
        if index is None or task.nested or task.module is None or not self.ctx.module_certain:
            return
        registration = index.registration
        if registration.registers(task.module) is not False:
            return
        how = "; ".join(registration.sources) or "the app names no task module (no `include=`, `imports` or `autodiscover_tasks()`)"
        self.report(
            task.decorator_expr,
            f"no worker imports `{task.module}`, so task `{task.name}` is never registered and its messages are "
            f"rejected as unregistered ({how}); import the module from one the worker loads, "
            "or list it in the app's `include=`",
        )
