from __future__ import annotations

import libcst as cst

from ..model.celery_api import DEPRECATED_ROUTING_OPTIONS, DEPRECATED_ROUTING_SINCE
from ..model.context import TaskDef
from ..model.edits import Fix, replace
from .base import Example, Rule


class DeprecatedTaskOption(Rule):
    """Deprecated task option on a task decorator.

    ## What it does
    Reports, on `@app.task(...)`/`@shared_task(...)`:
    - `queue`, `exchange`, `exchange_type`, `routing_key`, `delivery_mode`, `priority` when
      the target Celery is 5.7 or newer. `Task.bind` warns about them from 5.7 on, and in
      6.0 they have no effect; the test suite checks this list against `Task.bind`.
    - `acks_on_failure_or_timeout` (5.7+): split it into `acks_on_failure` and
      `acks_on_timeout`.
    - `abstract`, a compatibility attribute with no effect.
    Attributes of a `base=` class are not reported; Celery warns only about decorator
    keywords.

    ## Why is this bad?
    Routing set on the task silently stops working in Celery 6.0: every such task lands on
    the default queue, which the dedicated workers may not consume.

    ## Example
    ```python
    @shared_task(queue="emails")
    def send_welcome(user_id): ...
    ```

    ## Use instead
    ```python
    # celery.py / settings
    app.conf.task_routes = {"accounts.tasks.send_welcome": {"queue": "emails"}}
    ```

    ## Fix safety
    Safe only for `acks_on_failure_or_timeout=X`, which the fix splits into
    `acks_on_failure=X, acks_on_timeout=X` (target 5.7+). Routing options need a
    `task_routes` entry elsewhere, so no fix is offered for them.

    ## Options
    - `target-version`: the 5.7 deprecations apply from 5.7. When it is not configured,
      the newest release the project's lock or requirement files allow is used (a project
      on `celery==5.6.3` is not told), and the message names the file it was read from.

    ## References
    - [Celery: Routing tasks](https://docs.celeryq.dev/en/stable/userguide/routing.html)
    - [Celery: Task.acks_on_failure_or_timeout](https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_on_failure_or_timeout)
    """

    code = "CLY202"
    name = "deprecated-task-option"
    fix = "safe"

    VALID = [
        """
from celery import shared_task

@shared_task(name="proj.send", acks_on_failure=False, acks_on_timeout=True)
def send(user_id):
    return user_id
""",
        Example(
            """
from celery import shared_task

@shared_task(name="proj.send", queue="emails")
def send(user_id):
    return user_id
""",
            options={"target-version": "5.6"},
        ),
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task(name="proj.send", queue="emails", priority=5)  # error
def send(user_id):
    return user_id

@shared_task(name="proj.late", acks_late=True, acks_on_failure_or_timeout=False)  # error
def late():
    return 1

@shared_task(name="proj.old", abstract=True)  # error
def old():
    return 1
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        modern = self.settings.target_version >= DEPRECATED_ROUTING_SINCE
        since = ".".join(map(str, DEPRECATED_ROUTING_SINCE))
        for keyword, arg in task.options.items():
            assert arg.keyword is not None
            if keyword in DEPRECATED_ROUTING_OPTIONS and modern:
                self.report(
                    arg.keyword,
                    f"task `{task.name}`: `{keyword}=` on the task is deprecated since Celery {since} and has no "
                    f"effect from 6.0; route with `task_routes`{self.settings.target_note()}",
                )
            elif keyword == "acks_on_failure_or_timeout" and modern:
                self.report(
                    arg.keyword,
                    f"task `{task.name}`: `acks_on_failure_or_timeout` is deprecated; use `acks_on_failure=` and `acks_on_timeout=`",
                    _split(task, arg),
                )
            elif keyword == "abstract":
                self.report(arg.keyword, f"task `{task.name}`: `abstract` is a deprecated compatibility attribute with no effect; remove it")


def _split(task: TaskDef, arg: cst.Arg) -> Fix:
    """``acks_on_failure_or_timeout=X`` -> ``acks_on_failure=X, acks_on_timeout=X``.

    An option already set on the task keeps its own value (it wins over the old one in
    Celery too), so only the missing ones are added.
    """
    missing = [k for k in ("acks_on_failure", "acks_on_timeout") if k not in task.options]
    if not missing:
        return replace(arg, cst.RemovalSentinel.REMOVE, "Remove `acks_on_failure_or_timeout`; both replacements are set")
    new_args = [arg.with_changes(keyword=cst.Name(k), value=arg.value.deep_clone()) for k in missing]
    for index in range(len(new_args) - 1):
        new_args[index] = new_args[index].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    message = "Split into " + " and ".join(f"`{k}`" for k in missing)
    return replace(arg, cst.FlattenSentinel(new_args), message)
