from __future__ import annotations

from typing import Any

import libcst as cst

from ..model.context import dotted_name, resolve_relative
from ..model.needles import MODELS_PATH_PATTERN
from .base import MODELS_NEEDLES, Example, Rule


class TasksImportedInModels(Rule):
    """A models module imports a tasks module at module level.

    ## What it does
    Reports a module-level import, in `models.py` or in a module of a `models/` package,
    of a tasks module (a module whose dotted path has a component named `tasks`:
    `from .tasks import notify`, `from shop import tasks`, `import shop.tasks.email`). With
    the project index, a module of the project is a tasks module when it defines tasks (or
    is a `tasks` package whose modules do): `from shop.jobs import sync` counts, and a Django app that
    happens to be called `tasks` and defines no Celery task does not. Imports inside
    functions and under `if TYPE_CHECKING:` are exempt, and so are test modules
    (`tests/models/test_order.py` sits in a `models/` folder but is a test).

    ## Why is this bad?
    Tasks modules import models to load rows; models importing tasks closes the cycle
    models -> tasks -> models. It works until import order changes (a new app, a worker
    that imports tasks first, Django's app loading) and then fails with an
    `ImportError`/`AppRegistryNotReady` in production only.

    ## Example
    ```python
    # shop/models.py
    from shop.tasks import notify_customer

    class Order(models.Model):
        def confirm(self):
            notify_customer.delay(self.pk)
    ```

    ## Use instead
    ```python
    from celery import current_app

    class Order(models.Model):
        def confirm(self):
            current_app.send_task("shop.tasks.notify_customer", args=(self.pk,))
    ```
    or import the task inside `confirm()`.

    ## Options
    None.

    ## References
    - [Celery: Avoid importing models in tasks at import time](https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html)
    - [Django: Applications and the app registry](https://docs.djangoproject.com/en/stable/ref/applications/)
    """

    code = "CLY107"
    name = "tasks-imported-in-models"
    scope = "file+"
    needles = MODELS_NEEDLES
    text_pattern = None
    path_pattern = MODELS_PATH_PATTERN

    VALID = [
        # A test module in a `tests/models/` folder is a test, not a models module.
        Example("from shop.tasks import notify\n", path="shop/tests/models/test_order.py"),
        # With the index: a Django app called `tasks` (to-do lists) defines no Celery task.
        Example(
            "from tasks.models import TaskList\n",
            path="shop/models.py",
            files={"tasks/__init__.py": "", "tasks/models.py": "class TaskList:\n    pass\n"},
        ),
        Example(
            """
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from shop.tasks import notify

class Order(models.Model):
    def confirm(self):
        from shop.tasks import notify
        notify.delay(self.pk)
""",
            path="shop/models.py",
        ),
        # Not a models module.
        Example("from shop.tasks import notify\n", path="shop/views.py"),
        # `taskslib` is not a tasks module.
        Example("from taskslib import queue\n", path="shop/models.py"),
    ]
    INVALID = [
        # With the index: `shop.jobs` defines a task, so it is a tasks module too.
        Example(
            """
from django.db import models
from shop.jobs import sync  # error
from shop import jobs  # error

class Order(models.Model):
    pass
""",
            path="shop/models.py",
            files={"shop/jobs.py": "from celery import shared_task\n\n@shared_task(name='shop.sync')\ndef sync():\n    return 1\n"},
        ),
        Example(
            """
from django.db import models
from shop.tasks import notify  # error
from . import tasks  # error
import shop.tasks.email  # error

class Order(models.Model):
    pass
""",
            path="shop/models.py",
            files={
                "shop/tasks/__init__.py": "from celery import shared_task\n\n@shared_task(name='shop.notify')\ndef notify():\n    return 1\n",
                "shop/tasks/email.py": "from celery import shared_task\n\n@shared_task(name='shop.email')\ndef send():\n    return 1\n",
            },
        ),
        # Without the project index, a module named `tasks` is a tasks module by its name.
        Example("from shop.tasks import notify  # error\n", path="shop/models.py", options={"project-index": False}),
        Example(
            """
try:
    from ..tasks import refresh  # error
except ImportError:
    refresh = None
""",
            path="shop/models/order.py",
            files={"shop/tasks.py": "from celery import shared_task\n\n@shared_task(name='shop.refresh')\ndef refresh():\n    return 1\n"},
        ),
    ]

    _type_checking_depth = 0

    def visit_If(self, node: cst.If) -> None:
        if _is_type_checking(node.test):
            self._type_checking_depth += 1

    def leave_If(self, node: cst.If) -> None:
        if _is_type_checking(node.test):
            self._type_checking_depth -= 1

    def _module_level(self) -> bool:
        return not self.ctx.scopes and self._type_checking_depth == 0

    @classmethod
    def needles_for(cls, index: Any) -> tuple[str, ...]:
        """With the index, the last component of every module that defines tasks too."""
        if index is None:
            return cls.needles
        return tuple(sorted({*cls.needles, *(m.rpartition(".")[2] for m in index.task_modules)}))

    def _defines_tasks(self, module: str) -> bool:
        """A tasks module: with the index, for the project's own modules, one that defines
        tasks (or a ``tasks`` package whose modules do); otherwise one with a ``tasks``
        component. Importing from a package does not import its ``tasks`` module."""
        index = self.ctx.index
        if index is not None and module.split(".")[0] in index.packages:
            if module in index.task_modules:
                return True
            return module.rpartition(".")[2] == "tasks" and any(m.startswith(module + ".") for m in index.task_modules)
        return "tasks" in module.split(".")

    def visit_Import(self, node: cst.Import) -> None:
        if not self._module_level():
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            if name and self._defines_tasks(name):
                self._report(alias, name)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self._module_level() or isinstance(node.names, cst.ImportStar) and node.module is None:
            return
        module = dotted_name(node.module) if node.module is not None else ""
        if module is None:
            return
        absolute = resolve_relative(module, len(node.relative), self.ctx.module, self.ctx.is_package)
        if self._defines_tasks(absolute):
            self._report(node, absolute)
            return
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            submodule = f"{absolute}.{alias.name.value}".lstrip(".")
            if alias.name.value == "tasks" or self._defines_tasks(submodule):
                self._report(alias, submodule)

    def _report(self, node: cst.CSTNode, module: str) -> None:
        self.report(
            node,
            f"models module imports tasks module `{module}` at module level (models -> tasks -> models import "
            "cycle); import inside the function or use `current_app.send_task(\"<task name>\")`",
        )


def _is_type_checking(test: cst.BaseExpression) -> bool:
    name = dotted_name(test)
    return name in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
