from __future__ import annotations

from ..beat import BEAT_NEEDLES, BEAT_PATTERN, BeatSchedule
from ..celery_api import BEAT_ENTRY_KEYS, BEAT_ENTRY_MANAGED, EXECUTION_OPTIONS, closest
from .base import Example, Rule


class BeatEntryInvalidKey(Rule):
    """Beat entry with a key beat does not know, or without `task`/`schedule`.

    ## What it does
    Reports, in a beat schedule written as dict displays (every spelling: see below), an
    entry key other than `task`, `schedule`, `args`, `kwargs`, `options` and `relative`,
    and an entry that has no `task` or no `schedule`. An execution option at the top of
    the entry (`"queue"`, `"expires"`, `"priority"`, ...) gets a message saying to move
    it under `"options"`; `name`/`app`/`last_run_at`/`total_run_count`, which beat fills
    in itself, are reported as ignored. Entries with `**spread` are checked for the keys
    they spell, not for missing ones.

    Schedules are recognised as `beat_schedule`/`CELERY_BEAT_SCHEDULE`/`CELERYBEAT_SCHEDULE`
    assignments, `app.conf.beat_schedule = {...}`, `app.conf.update(beat_schedule=...)`,
    `Celery(beat_schedule=...)`, `schedule["name"] = {...}`, `.update({...})`, `|= {...}`,
    and any module-level dict whose every value is a dict with `"task"` and `"schedule"`.

    ## Why is this bad?
    Beat builds each entry with `ScheduleEntry(**entry)`: an unknown key is a `TypeError`
    when beat starts, so *no* periodic task runs. An entry without `schedule` stops beat
    with an `AttributeError` when the entry is first checked; one without `task` fails to
    send every time it is due.

    ## Example
    ```python
    CELERY_BEAT_SCHEDULE = {
        "nightly-cleanup": {
            "task": "shop.tasks.cleanup",
            "schedule": crontab(minute=0, hour=3),
            "queue": "maintenance",
        },
    }
    ```

    ## Use instead
    ```python
    CELERY_BEAT_SCHEDULE = {
        "nightly-cleanup": {
            "task": "shop.tasks.cleanup",
            "schedule": crontab(minute=0, hour=3),
            "options": {"queue": "maintenance"},
        },
    }
    ```

    ## Options
    None.

    ## Fix safety
    Safe: moving execution options under `"options"` makes beat start and send them as
    the entry meant; unknown keys that are not execution options are left to the author.

    ## References
    - [Celery: Available fields of a beat entry](https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html#available-fields)
    """

    code = "CLY704"
    name = "beat-entry-invalid-key"
    fix = "safe"
    needles = BEAT_NEEDLES
    text_pattern = BEAT_PATTERN
    requires = (BeatSchedule,)

    VALID = [
        Example(
            """
from celery.schedules import crontab

CELERY_BEAT_SCHEDULE = {
    "nightly-cleanup": {
        "task": "shop.tasks.cleanup",
        "schedule": crontab(minute=0, hour=3),
        "args": (7,),
        "options": {"queue": "maintenance", "expires": 3600},
    },
    "shared": {**COMMON, "task": "shop.tasks.ping"},
}
""",
            path="shop/settings.py",
        ),
        # A dict that is not a beat schedule, and another framework's job table.
        Example(
            """
ROUTES = {"a": {"queue": "x"}}
JOBS = {"sync": {"func": "shop.jobs.sync", "trigger": "interval", "queue": "low"}}
schedule = {"monday": {"open": 9, "close": 17}}
""",
            path="shop/settings.py",
        ),
    ]
    INVALID = [
        Example(
            """
from celery.schedules import crontab

CELERY_BEAT_SCHEDULE = {
    "nightly-cleanup": {
        "task": "shop.tasks.cleanup",
        "schedule": crontab(minute=0, hour=3),
        "queue": "maintenance",  # error
    },
    "no-schedule": {"task": "shop.tasks.ping"},  # error
}
CELERY_BEAT_SCHEDULE["report"] = {"task": "shop.tasks.report", "schedule": 60, "kwarg": {}}  # error
""",
            path="shop/settings.py",
        ),
        Example(
            """
from celery import Celery

app = Celery("shop")
app.conf.update(beat_schedule={"ping": {"task": "shop.tasks.ping", "schedule": 30.0, "name": "ping"}})  # error
""",
            path="shop/celery.py",
        ),
    ]

    def module_leave(self) -> None:
        for entry in self.ctx.analyses[BeatSchedule].entries:
            if entry.is_call:
                continue
            for key, element in entry.items.items():
                if key in BEAT_ENTRY_KEYS:
                    continue
                if key in BEAT_ENTRY_MANAGED:
                    self.report(element.key, f'{entry.label}: "{key}" is set by beat itself; this value is ignored')
                elif key in EXECUTION_OPTIONS:
                    self.report(
                        element.key,
                        f'{entry.label}: "{key}" is not an entry field and stops beat at start (TypeError); move it under "options"',
                    )
                else:
                    hint = closest(key, BEAT_ENTRY_KEYS)
                    did_you_mean = f" (did you mean \"{hint}\"?)" if hint else ""
                    self.report(
                        element.key,
                        f'{entry.label}: unknown key "{key}"{did_you_mean} stops beat at start (TypeError)',
                    )
            if entry.opaque:
                continue
            if "schedule" not in entry.items:
                self.report(entry.node, f'{entry.label} has no "schedule": beat stops with AttributeError when it first checks the entry')
            elif "task" not in entry.items:
                self.report(entry.node, f'{entry.label} has no "task": beat fails to send it (SchedulingError) every time it is due')
