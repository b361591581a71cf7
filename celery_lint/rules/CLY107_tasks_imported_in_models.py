from __future__ import annotations

import re

import libcst as cst

from ..context import dotted_name, resolve_relative
from .base import MODELS_NEEDLES, Example, Rule


class TasksImportedInModels(Rule):
    """A models module imports a tasks module at module level.

    ## What it does
    Reports a module-level import, in `models.py` or in a module of a `models/` package,
    of a tasks module (a module whose dotted path has a component named `tasks`:
    `from .tasks import notify`, `from shop import tasks`, `import shop.tasks.email`).
    Imports inside functions and under `if TYPE_CHECKING:` are exempt.

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
    path_pattern = re.compile(r"(^|/)(models\.py|models/[^/]+\.py)$")

    VALID = [
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
        ),
        Example(
            """
try:
    from ..tasks import refresh  # error
except ImportError:
    refresh = None
""",
            path="shop/models/order.py",
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

    def visit_Import(self, node: cst.Import) -> None:
        if not self._module_level():
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            if name and "tasks" in name.split("."):
                self._report(alias, name)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self._module_level() or isinstance(node.names, cst.ImportStar) and node.module is None:
            return
        module = dotted_name(node.module) if node.module is not None else ""
        if module is None:
            return
        absolute = resolve_relative(module, len(node.relative), self.ctx.module, self.ctx.is_package)
        if "tasks" in absolute.split("."):
            self._report(node, absolute)
            return
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if isinstance(alias.name, cst.Name) and alias.name.value == "tasks":
                self._report(alias, f"{absolute}.tasks".lstrip("."))

    def _report(self, node: cst.CSTNode, module: str) -> None:
        self.report(
            node,
            f"models module imports tasks module `{module}` at module level (models -> tasks -> models import "
            "cycle); import inside the function or use `current_app.send_task(\"<task name>\")`",
        )


def _is_type_checking(test: cst.BaseExpression) -> bool:
    name = dotted_name(test)
    return name in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
