from __future__ import annotations

import libcst as cst

from ..model.celery_api import RATE_UNIT_ALIASES, parse_rate
from ..model.context import UNKNOWN, TaskDef, literal_value
from ..model.edits import Fix, replace, requote
from .base import Rule


class InvalidRateLimit(Rule):
    """`rate_limit` that Celery's parser rejects, or that means no limit.

    ## What it does
    Reads a literal `rate_limit=` on a task decorator the way `celery.utils.time.rate`
    does (a number of tasks per second, or `"N"`, `"N/s"`, `"N/m"`, `"N/h"`) and reports:
    - a unit Celery does not know (`"10/min"`, `"5/sec"`, `"2/hour"`) or a number it cannot
      read (`"ten/m"`), which Celery rejects with `KeyError`/`ValueError` when the worker
      builds its rate-limit buckets, so the worker fails to start;
    - a limit that is zero (`0`, `"0/m"`), which Celery treats as no limit at all;
    - a negative limit.

    ## Why is this bad?
    A typo in a rate limit is only found when a worker loads the task, in production, and
    takes the whole worker down; a zero limit silently disables the throttling someone
    asked for.

    ## Example
    ```python
    @shared_task(rate_limit="10/min")
    def call_partner_api(): ...
    ```

    ## Use instead
    ```python
    @shared_task(rate_limit="10/m")
    def call_partner_api(): ...
    ```

    ## Fix safety
    Safe for unambiguous unit spellings (`min`/`minute` -> `m`, `sec` -> `s`, `hour` -> `h`):
    the fixed string means what was written.

    ## Options
    None.

    ## References
    - [Celery: Task.rate_limit](https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.rate_limit)
    """

    code = "CLY203"
    in_tests = True
    name = "invalid-rate-limit"
    fix = "safe"

    VALID = [
        """
from celery import shared_task

@shared_task(name="proj.a", rate_limit="10/m")
def a():
    return 1

@shared_task(name="proj.b", rate_limit=0.5)
def b(limit):
    return 1

@shared_task(name="proj.c", rate_limit="100")
def c():
    return 1
""",
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task(name="proj.a", rate_limit="10/min")  # error
def a():
    return 1

@shared_task(name="proj.b", rate_limit="0/m")  # error
def b():
    return 1

@shared_task(name="proj.c", rate_limit="ten/s")  # error
def c():
    return 1
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        arg = task.options.get("rate_limit")
        if arg is None:
            return
        value = literal_value(arg.value)
        if value is UNKNOWN or value is None:
            return
        message = _problem(value)
        if message:
            self.report(arg.value, f"task `{task.name}`: `rate_limit={value!r}` {message}", _fix(arg.value, value))


def _fix(node: cst.BaseExpression, value: object) -> Fix | None:
    """``"10/min"`` -> ``"10/m"``: only a plain string literal with a known unit alias."""
    if not isinstance(node, cst.SimpleString) or not isinstance(value, str):
        return None
    number, _, unit = value.partition("/")
    canonical = RATE_UNIT_ALIASES.get(unit)
    if canonical is None:
        return None
    fixed = f"{number}/{canonical}"
    try:
        if parse_rate(fixed) == 0:
            return None  # a unit fix would not make a zero rate mean anything
    except (KeyError, ValueError, TypeError):
        return None
    return replace(node, requote(node, fixed), f"Write `{fixed}`")


def _problem(value: object) -> str | None:
    try:
        per_second = parse_rate(value)
    except KeyError:
        unit = str(value).partition("/")[2]
        hint = f" (write `{RATE_UNIT_ALIASES[unit]}`)" if unit in RATE_UNIT_ALIASES else ""
        return f"uses the unit `{unit}`, which Celery rejects{hint}: the worker fails when it loads the task"
    except (ValueError, TypeError):
        return "is not a number Celery can read: the worker fails when it loads the task; write e.g. `10/m`"
    if per_second == 0:
        return "is zero, which Celery treats as no rate limit at all; give a positive rate or remove it"
    if isinstance(per_second, (int, float)) and per_second < 0:
        return "is negative; give a positive rate"
    return None
