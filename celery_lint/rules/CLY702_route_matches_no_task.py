from __future__ import annotations

import fnmatch

import libcst as cst

from ..model.context import string_value
from .base import Example, Rule


class RouteMatchesNoTask(Rule):
    """`task_routes` entry that matches no task.

    ## What it does
    Reports a string key of `task_routes` (`app.conf.task_routes`, `CELERY_TASK_ROUTES`,
    `task_routes=` in `Celery(...)`/`conf.update(...)`, a dict or a list of dicts) that
    matches no task registered in the project, exactly or as a glob (`"shop.*"`, the way
    Celery's router reads it). Keys matching `external-tasks` are accepted, and so are
    keys in a package that is not part of the project (a library's tasks, such as
    `post_office.tasks.send_queued_mail`). Router
    functions, regular expressions and non-literal tables are not checked. Silent
    without the project index and when some task's `name=` is not a literal.

    ## Why is this bad?
    A route whose key matches nothing routes nothing: the task it was meant for (renamed,
    moved, or given an explicit name) lands on the default queue, which the dedicated
    workers may not consume, or which starves behind unrelated work.

    ## Example
    ```python
    app.conf.task_routes = {"shop.tasks.send_receipt": {"queue": "mail"}}
    # registered as "shop.send_receipt"
    ```

    ## Use instead
    ```python
    app.conf.task_routes = {"shop.send_receipt": {"queue": "mail"}}
    ```

    ## Options
    - `external-tasks`: globs of task names that other services serve.
    - `project-index`: the index this rule needs (default true).

    ## References
    - [Celery: Routing (task_routes)](https://docs.celeryq.dev/en/stable/userguide/routing.html#automatic-routing)
    """

    code = "CLY702"
    name = "route-matches-no-task"
    scope = "project"
    needles = ("task_routes", "TASK_ROUTES", "CELERY_ROUTES")
    text_pattern = None

    _TASKS = {
        "shop/tasks.py": """
from celery import shared_task

@shared_task(name="shop.send_receipt")
def send_receipt(pk):
    return pk

@shared_task
def rebuild_index():
    return 1
""",
    }
    VALID = [
        Example(
            """
from celery import Celery

app = Celery("shop")
app.conf.task_routes = {
    "shop.send_receipt": {"queue": "mail"},
    "shop.tasks.*": {"queue": "default"},
    "billing.*": {"queue": "billing"},
}
""",
            path="shop/celery.py",
            options={"external-tasks": ["billing.*"]},
            files=_TASKS,
        ),
    ]
    INVALID = [
        Example(
            """
CELERY_TASK_ROUTES = {
    "shop.tasks.send_receipt": {"queue": "mail"},  # error
    "shop.reports.*": {"queue": "reports"},  # error
    "shop.tasks.rebuild_index": {"queue": "search"},
}
""",
            path="shop/settings.py",
            files=_TASKS,
        ),
    ]

    def module_leave(self) -> None:
        index = self.ctx.index
        routes = self.ctx.file_config.get("task_routes")
        if index is None or routes is None or not index.names_complete:
            return
        tables = [routes] if isinstance(routes, cst.Dict) else []
        if isinstance(routes, (cst.List, cst.Tuple)):
            tables = [e.value for e in routes.elements if isinstance(e, cst.Element) and isinstance(e.value, cst.Dict)]
        names = list(index.by_name)
        for table in tables:
            for element in table.elements:
                if not isinstance(element, cst.DictElement):
                    continue
                key = string_value(element.key)
                if key is None or index.is_external(key) or index.is_foreign(key):
                    continue
                if "*" in key or "?" in key:
                    if any(fnmatch.fnmatchcase(name, key) for name in names):
                        continue
                    self.report(element.key, f"route `{key}` matches no task in the project; the tasks it was meant for go to the default queue; correct the name or pattern, or remove the route")
                    continue
                if key in index.by_name:
                    continue
                problem = index.unknown_name(key)
                detail = problem[0] if problem else f"no task in the project is registered as `{key}`"
                self.report(element.key, f"route `{key}` routes nothing: {detail}; correct the name or remove the route")
