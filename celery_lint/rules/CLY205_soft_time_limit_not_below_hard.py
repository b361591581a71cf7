from __future__ import annotations

import libcst as cst

from ..model.context import Dispatch, TaskDef, literal_value
from .base import Example, Rule


def _limits(keywords: dict[str, cst.Arg]) -> tuple[float, float] | None:
    soft = literal_value(keywords["soft_time_limit"].value) if "soft_time_limit" in keywords else None
    hard = literal_value(keywords["time_limit"].value) if "time_limit" in keywords else None
    numbers = (int, float)
    if isinstance(soft, numbers) and isinstance(hard, numbers) and not isinstance(soft, bool) and not isinstance(hard, bool):
        return soft, hard
    return None


class SoftTimeLimitNotBelowHard(Rule):
    """`soft_time_limit` at or above `time_limit`.

    ## What it does
    Reports literal `soft_time_limit` and `time_limit` (constant arithmetic such as
    `10 * 60` is understood, and so are the module's constants: `SOFT = HARD = 300` then
    `soft_time_limit=SOFT`) where the soft limit is not below the hard one, on a task
    decorator or in an `apply_async(...)`/`send_task(...)` call.

    ## Why is this bad?
    The soft limit raises `SoftTimeLimitExceeded` inside the task so it can clean up; the
    hard limit kills the worker process. When the soft limit is not below the hard one,
    the process is killed first and the clean-up never runs.

    ## Example
    ```python
    @shared_task(soft_time_limit=600, time_limit=600)
    def export(): ...
    ```

    ## Use instead
    ```python
    @shared_task(soft_time_limit=540, time_limit=600)
    def export(): ...
    ```

    ## Options
    None.

    ## References
    - [Celery: Time limits](https://docs.celeryq.dev/en/stable/userguide/workers.html#time-limits)
    """

    code = "CLY205"
    in_tests = True
    name = "soft-time-limit-not-below-hard"
    needles = ("soft_time_limit",)
    text_pattern = None

    VALID = [
        """
from celery import shared_task

@shared_task(name="proj.export", soft_time_limit=9 * 60, time_limit=10 * 60)
def export():
    return 1

def view(limit):
    export.apply_async(soft_time_limit=limit, time_limit=60)
""",
        # A parameter of the same name as a module constant is not the constant.
        """
from celery import shared_task

SOFT = 600

@shared_task(name="proj.export")
def export():
    return 1

def view(SOFT):
    export.apply_async(soft_time_limit=SOFT, time_limit=60)
""",
    ]
    INVALID = [
        # Limits held in constants of another module of the project.
        Example(
            """
from celery import shared_task
from shop.limits import SOFT, HARD

@shared_task(name="shop.export", soft_time_limit=SOFT, time_limit=HARD)  # error
def export(pk):
    return pk
""",
            path="shop/tasks.py",
            files={"shop/limits.py": "MINUTE = 60\nSOFT = 20 * MINUTE\nHARD = 15 * MINUTE\n"},
        ),
        """
from celery import shared_task

@shared_task(name="proj.export", soft_time_limit=600, time_limit=10 * 60)  # error
def export():
    return 1

def view():
    export.apply_async(soft_time_limit=120, time_limit=60)  # error
""",
        # Module constants are folded, chained assignments too.
        """
from celery import shared_task

SOFT = HARD = 300

@shared_task(name="proj.render", soft_time_limit=SOFT, time_limit=HARD)  # error
def render():
    return 1
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        self._check(task.options, f"task `{task.name}`: ")

    def dispatch(self, dispatch: Dispatch) -> None:
        self._check(dispatch.keywords, "")

    def _check(self, keywords: dict[str, cst.Arg], prefix: str) -> None:
        limits = _limits(keywords)
        if limits is None or limits[0] < limits[1]:
            return
        self.report(
            keywords["soft_time_limit"],
            f"{prefix}`soft_time_limit={limits[0]:g}` is not below `time_limit={limits[1]:g}`; "
            "the hard limit kills the process before the soft limit fires; set `soft_time_limit` lower",
        )
