from __future__ import annotations

from ..model.beat import BEAT_NEEDLES, BEAT_PATTERN, BeatSchedule
from .base import Example, Rule


class BeatEntryUnknownTask(Rule):
    """Beat entry whose `task` names no task in the project.

    ## What it does
    Reports the `"task"` of a beat entry (every spelling CLY704 recognises) that no task
    in the project registers. The common case is the import path of a task that has an
    explicit, different `name=`; the message then names the task and its registered name.
    Names in `external-tasks` are accepted, and so are dotted names in a package that is
    not part of the project (a library's tasks). Silent without the project index and when
    some task's `name=` is not a literal.

    ## Why is this bad?
    Beat sends the message on schedule and the worker drops it as unregistered: the
    periodic job silently never runs, usually after a refactor gave the task a name.

    ## Example
    ```python
    CELERY_BEAT_SCHEDULE = {
        "nightly": {"task": "shop.tasks.cleanup", "schedule": crontab(minute=0, hour=3)},
    }
    # shop/tasks.py: @shared_task(name="shop.cleanup") def cleanup(): ...
    ```

    ## Use instead
    ```python
    CELERY_BEAT_SCHEDULE = {
        "nightly": {"task": "shop.cleanup", "schedule": crontab(minute=0, hour=3)},
    }
    ```

    ## Options
    - `external-tasks`: globs of task names that other services serve.
    - `project-index`: the index this rule needs (default true).

    ## Fix safety
    Safe when the name is the import path of exactly one task: the fix writes that
    task's registered name.

    ## References
    - [Celery: Periodic tasks](https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html#entries)
    """

    code = "CLY701"
    name = "beat-entry-unknown-task"
    scope = "project"
    fix = "safe"
    needles = BEAT_NEEDLES
    text_pattern = BEAT_PATTERN
    requires = (BeatSchedule,)

    _TASKS = {
        "shop/tasks.py": """
from celery import shared_task

@shared_task(name="shop.cleanup")
def cleanup():
    return 1

@shared_task
def report():
    return 1
""",
    }
    VALID = [
        Example(
            """
CELERY_BEAT_SCHEDULE = {
    "nightly": {"task": "shop.cleanup", "schedule": 3600},
    "weekly": {"task": "shop.tasks.report", "schedule": 86400},
    "remote": {"task": "billing.invoice_all", "schedule": 86400},
    "dynamic": {"task": TASK_NAME, "schedule": 60},
}
""",
            path="shop/settings.py",
            options={"external-tasks": ["billing.*"]},
            files=_TASKS,
        ),
    ]
    INVALID = [
        Example(
            """
CELERY_BEAT_SCHEDULE = {
    "nightly": {"task": "shop.tasks.cleanup", "schedule": 3600},  # error
    "weekly": {"task": "shop.tasks.reports", "schedule": 86400},  # error
}
""",
            path="shop/settings.py",
            files=_TASKS,
        ),
    ]

    def module_leave(self) -> None:
        for entry in self.ctx.analyses[BeatSchedule].entries:
            node = None if entry.is_call else entry.field("task")
            problem = self.ctx.unknown_task_literal(node)
            if node is not None and problem is not None:
                message, fix, action = problem
                todo = f"; {action}" if action else ""
                self.report(node, f"{entry.label}: {message}; beat sends it and the worker drops it{todo}", fix)
