from __future__ import annotations

import libcst as cst

from ..model.celery_api import CRONTAB_FIELDS
from ..model.context import positional_args, keyword_args
from ..model.needles import CRONTAB_NEEDLES
from ..model.edits import UNSAFE, add_arg, keyword_arg, replace
from .base import Rule

_EMPTY_MODULE = cst.Module(body=[])
_CRONTAB = frozenset({"celery.schedules.crontab", "celery.crontab"})
#: What ``crontab(**kwargs)`` passes on to ``BaseSchedule``.
_OTHER_PARAMETERS = frozenset({"nowfun", "app"})


class CrontabEveryMinute(Rule):
    """`crontab()` that leaves `minute` at its every-minute default.

    ## What it does
    Reports a `celery.schedules.crontab(...)` call that does not set `minute`: `crontab()`
    with no arguments, and one that sets a larger unit only (`crontab(hour=7)`,
    `crontab(day_of_week="mon")`). Every field of `crontab` defaults to `"*"`, so such a
    schedule fires every minute of the hours and days it matches.

    A `minute` written out, even `minute="*"`, is taken as intended. A `minute` that is
    set while `hour` stays at `"*"` (`crontab(minute=0, day_of_week="mon")`, hourly on
    Mondays) is a real schedule and is not reported. Calls with `**kwargs` are not
    checked, nor are misspelt fields (`crontab(hours=7)` raises `TypeError` on import).
    django-celery-beat's `CrontabSchedule` model is not checked.

    ## Why is this bad?
    `crontab(hour=7)` reads as "daily at seven" but runs the task 60 times between 07:00
    and 07:59: sixty reports, sixty emails, sixty charges.

    ## Example
    ```python
    app.conf.beat_schedule = {
        "daily-report": {"task": "reports.daily", "schedule": crontab(hour=7)},
    }
    ```

    ## Use instead
    ```python
    app.conf.beat_schedule = {
        "daily-report": {"task": "reports.daily", "schedule": crontab(minute=0, hour=7)},
    }
    ```

    ## Options
    None.

    ## Fix safety
    Unsafe: adding `minute=0` changes how often the task runs, which is the point, but
    only the author knows the minute they meant.

    ## References
    - [Celery: Crontab schedules](https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html#crontab-schedules)
    """

    code = "CLY703"
    name = "crontab-every-minute"
    fix = "unsafe"
    needles = CRONTAB_NEEDLES
    text_pattern = None

    VALID = [
        """
from celery.schedules import crontab

daily = crontab(minute=0, hour=7)
every_minute = crontab(minute="*")
hourly_on_mondays = crontab(minute=0, day_of_week="mon")
positional = crontab("30", "4")
opaque = crontab(**SPEC)
""",
        # Not Celery's crontab.
        """
from scheduler import crontab

job = crontab(hour=7)

class Cron:
    def crontab(self, **kw):
        return kw

Cron().crontab(hour=7)
""",
    ]
    INVALID = [
        """
from celery.schedules import crontab

app.conf.beat_schedule = {
    "daily-report": {"task": "reports.daily", "schedule": crontab(hour=7)},  # error
    "heartbeat": {"task": "ops.ping", "schedule": crontab()},  # error
}
""",
        """
import celery.schedules as schedules

weekly = schedules.crontab(hour=0, day_of_week="sun")  # error
""",
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualname(node.func) not in _CRONTAB:
            return
        if any(arg.star for arg in node.args):
            return
        keywords = keyword_args(node)
        minute_set = bool(positional_args(node)) or "minute" in keywords
        if any(k not in CRONTAB_FIELDS and k not in _OTHER_PARAMETERS for k in keywords):
            return  # `crontab(hours=7)` raises TypeError when the module is imported
        if minute_set:
            return
        fields = [f for f in CRONTAB_FIELDS if f in keywords]
        fix = replace(node, add_arg(node, keyword_arg("minute", cst.Integer("0"))), "Add `minute=0`", UNSAFE)
        if not fields:
            self.report(node, "`crontab()` without arguments fires every minute; set `minute=` (and `hour=`) to the time you mean", fix)
            return
        shown = _EMPTY_MODULE.code_for_node(node)
        if len(shown) > 60 or "\n" in shown:
            shown = "crontab(" + ", ".join(f"{f}=..." for f in fields) + ")"
        self.report(
            node,
            f"`{shown}` leaves `minute` at '*': it fires every minute whenever the other fields match; add `minute=0`",
            fix,
        )
