from __future__ import annotations

import libcst as cst

from ..model.beat import BEAT_NEEDLES, BEAT_PATTERN, BeatEntry, BeatSchedule
from ..model.celery_api import BEAT_ENTRY_KEYS, BEAT_ENTRY_MANAGED, DJANGO_BEAT_ENTRY_KEYS, EXECUTION_OPTIONS, closest
from ..model.context import string_value
from ..model.edits import Fix, replace, string
from ..model.recognise import is_database_scheduler
from .base import Example, Rule


_EMPTY = cst.Module(body=[])
#: Keys the fix moves under "options": execution options, less the entry's own fields.
_MOVABLE = EXECUTION_OPTIONS - BEAT_ENTRY_KEYS


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

    When the project runs django-celery-beat's `DatabaseScheduler` (`beat_scheduler` /
    `CELERY_BEAT_SCHEDULER` set to `django_celery_beat.schedulers:DatabaseScheduler` or
    `django`), each entry becomes a `PeriodicTask` row and that model's fields are valid
    keys too (`description`, `enabled`, `one_off`, `start_time`, `expires`, `queue`, ...);
    any other key makes that scheduler skip the entry, which is reported as such (and no
    fix is offered).

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
        # django-celery-beat's DatabaseScheduler keeps a description (a PeriodicTask field).
        Example(
            """
from celery.schedules import crontab

CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "nightly-report": {
        "task": "proj.report",
        "schedule": crontab(hour=3, minute=0),
        "description": "Send the nightly report",
        "enabled": True,
    },
}
""",
            path="proj/settings.py",
        ),
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
        # Under the DatabaseScheduler, a key that is no PeriodicTask field skips the entry.
        Example(
            """
from celery.schedules import crontab

CELERY_BEAT_SCHEDULER = "django"
CELERY_BEAT_SCHEDULE = {
    "nightly-report": {
        "task": "proj.report",
        "schedule": crontab(hour=3, minute=0),
        "descripton": "Send the nightly report",  # error
    },
}
""",
            path="proj/settings.py",
        ),
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
        database = is_database_scheduler(self.ctx.project_setting("beat_scheduler"))
        for entry in self.ctx.analyses[BeatSchedule].entries:
            if entry.is_call:
                continue
            fix = None if database else _move_under_options(entry)
            for key, element in entry.items.items():
                if key in BEAT_ENTRY_KEYS or (database and key in DJANGO_BEAT_ENTRY_KEYS):
                    continue
                if database and key not in BEAT_ENTRY_MANAGED:
                    self.report(
                        element.key,
                        f'{entry.label}: "{key}" is not a field of django-celery-beat\'s PeriodicTask: '
                        "the DatabaseScheduler skips this entry; correct or remove the key",
                    )
                elif key in BEAT_ENTRY_MANAGED:
                    self.report(element.key, f'{entry.label}: "{key}" is set by beat itself; this value is ignored; remove it')
                elif key in EXECUTION_OPTIONS:
                    self.report(
                        element.key,
                        f'{entry.label}: "{key}" is not an entry field and stops beat at start (TypeError); move it under "options"',
                        fix,
                    )
                else:
                    hint = closest(key, BEAT_ENTRY_KEYS)
                    did_you_mean = f" (did you mean \"{hint}\"?)" if hint else ""
                    self.report(
                        element.key,
                        f'{entry.label}: unknown key "{key}"{did_you_mean} stops beat at start (TypeError); correct or remove the key',
                    )
            if entry.opaque:
                continue
            if "schedule" not in entry.items:
                self.report(entry.node, f'{entry.label} has no "schedule": beat stops with AttributeError when it first checks the entry; add one')
            elif "task" not in entry.items:
                self.report(entry.node, f'{entry.label} has no "task": beat fails to send it (SchedulingError) every time it is due; add one')


def _move_under_options(entry: BeatEntry) -> Fix | None:
    """Move the entry's top-level execution options into its ``"options"`` dict.

    One fix per entry (every finding of the entry carries it): the entry's dict is
    rebuilt with the options merged into an existing ``"options"`` display, or into a
    new one where the first moved key was. No fix when ``"options"`` is not a dict
    display or already sets one of the moved keys.
    """
    node = entry.node
    assert isinstance(node, cst.Dict)
    moved = [e for e in node.elements if isinstance(e, cst.DictElement) and string_value(e.key) in _MOVABLE]
    if not moved:
        return None
    if any("#" in _EMPTY.code_for_node(e) for e in moved):
        return None  # a comment on a moved line would be lost: leave it to the author
    existing = entry.items.get("options")
    if existing is not None:
        if not isinstance(existing.value, cst.Dict):
            return None
        inner_keys = {string_value(e.key) for e in existing.value.elements if isinstance(e, cst.DictElement)}
        if inner_keys & {string_value(e.key) for e in moved} or any(not isinstance(e, cst.DictElement) for e in existing.value.elements):
            return None
    inline = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    carried = [e.with_changes(comma=inline) for e in moved]
    elements: list[cst.BaseDictElement] = []
    for element in node.elements:
        if element in moved:
            if existing is None and element is moved[0]:
                options = cst.Dict(_commas([*carried], None))
                elements.append(cst.DictElement(string("options"), options, comma=element.comma))
            continue
        if element is existing:
            merged = existing.value.with_changes(elements=_commas([*existing.value.elements, *carried], _last_comma(existing.value)))
            elements.append(element.with_changes(value=merged))
            continue
        elements.append(element)
    elements = _commas(elements, _last_comma(node))
    keys = ", ".join(f'"{string_value(e.key)}"' for e in moved)
    return replace(node, node.with_changes(elements=elements), f'Move {keys} under "options"')


def _last_comma(node: cst.Dict) -> cst.Comma | cst.MaybeSentinel:
    return node.elements[-1].comma if node.elements else cst.MaybeSentinel.DEFAULT


def _commas(elements: list, last: cst.Comma | cst.MaybeSentinel | None) -> list:
    """Every element but the last separated by a comma; the last gets ``last``."""
    if not elements:
        return elements
    fixed = [e if isinstance(e.comma, cst.Comma) else e.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for e in elements[:-1]]
    return [*fixed, elements[-1].with_changes(comma=last if last is not None else cst.MaybeSentinel.DEFAULT)]
