"""Beat entry recognition and the beat rules, checked against Celery's own scheduler."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from celery_lint.model.beat import BeatSchedule
from celery_lint.config.settings import Settings
from celery_lint.engine.core import Engine

from tests.conftest import FIXTURES

pytest.importorskip("celery")

# Hands every entry to Celery's Scheduler one by one and prints the names it rejects.
SCHEDULER_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from celery.beat import Scheduler
import proj.periodic as periodic
import proj.settings.production as production

app = periodic.app
schedules = {
    "periodic.py": {**app.conf.beat_schedule, **periodic.EXTRA_PERIODIC_TASKS},
    "production.py": production.CELERY_BEAT_SCHEDULE,
}
result = {}
for where, schedule in schedules.items():
    rejected = []
    for name, entry in schedule.items():
        try:
            Scheduler(app, lazy=True).merge_inplace({name: entry})
        except TypeError:
            rejected.append(name)
    result[where] = {"names": sorted(schedule), "rejected": sorted(rejected)}
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def celery_view() -> dict[str, dict[str, list[str]]]:
    proc = subprocess.run([sys.executable, "-c", SCHEDULER_SCRIPT, str(FIXTURES)], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def _entries(path: str) -> list[str]:
    """Names of the beat entries celery-lint recognises in a fixture file."""
    seen: list[BeatSchedule] = []
    original = BeatSchedule.__init__

    def capture(self: BeatSchedule, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        seen.append(self)

    BeatSchedule.__init__ = capture  # type: ignore[method-assign]
    try:
        Engine(Settings(project_root=FIXTURES, extend_select=("CLY705",))).lint_path(str(FIXTURES / path))
    finally:
        BeatSchedule.__init__ = original  # type: ignore[method-assign]
    assert len(seen) == 1
    return sorted(e.name for e in seen[0].entries if e.name)


@pytest.mark.parametrize(("where", "path"), [("periodic.py", "proj/periodic.py"), ("production.py", "proj/settings/production.py")])
def test_recognised_entries_are_the_ones_celery_schedules(celery_view: dict, where: str, path: str) -> None:
    assert _entries(path) == celery_view[where]["names"]


@pytest.mark.parametrize(("where", "path"), [("periodic.py", "proj/periodic.py"), ("production.py", "proj/settings/production.py")])
def test_cly704_start_failures_are_the_entries_celery_rejects(celery_view: dict, where: str, path: str) -> None:
    findings = Engine(Settings(project_root=FIXTURES, select=("CLY704",))).lint_path(str(FIXTURES / path)).findings
    reported = sorted(f.message.split('"')[1] for f in findings if "stops beat at start" in f.message)
    assert reported == celery_view[where]["rejected"]
    assert reported, "the fixture must hold at least one entry beat rejects"


SPELLINGS = {
    "django setting": 'CELERY_BEAT_SCHEDULE = {"a": {"task": "t.a", "schedule": 5}}',
    "old django setting": 'CELERYBEAT_SCHEDULE = {"a": {"task": "t.a", "schedule": 5}}',
    "config module": 'beat_schedule = {"a": {"task": "t.a", "schedule": 5}}',
    "conf attribute": 'from celery import Celery\napp = Celery("t")\napp.conf.beat_schedule = {"a": {"task": "t.a", "schedule": 5}}',
    "conf update": 'from celery import Celery\napp = Celery("t")\napp.conf.update(beat_schedule={"a": {"task": "t.a", "schedule": 5}})',
    "constructor": 'from celery import Celery\napp = Celery("t", beat_schedule={"a": {"task": "t.a", "schedule": 5}})',
    "subscript": 'CELERY_BEAT_SCHEDULE = {}\nCELERY_BEAT_SCHEDULE["a"] = {"task": "t.a", "schedule": 5}',
    "update": 'CELERY_BEAT_SCHEDULE = {}\nCELERY_BEAT_SCHEDULE.update({"a": {"task": "t.a", "schedule": 5}})',
    "update keywords": 'CELERY_BEAT_SCHEDULE = {}\nCELERY_BEAT_SCHEDULE.update(a={"task": "t.a", "schedule": 5})',
    "in-place or": 'CELERY_BEAT_SCHEDULE = {}\nCELERY_BEAT_SCHEDULE |= {"a": {"task": "t.a", "schedule": 5}}',
    "through a name": 'BASE = {"a": {"task": "t.a", "schedule": 5}, "b": entry()}\nCELERY_BEAT_SCHEDULE = dict(BASE)',
    "dict call": 'CELERY_BEAT_SCHEDULE = dict(a={"task": "t.a", "schedule": 5})',
    "by shape": 'PERIODIC = {"a": {"task": "t.a", "schedule": 5}}',
    "add_periodic_task": 'def setup(sender, **kw):\n    sender.add_periodic_task(5, sig, name="a")',
    "class-based settings": 'class Prod:\n    CELERY_BEAT_SCHEDULE = {"a": {"task": "t.a", "schedule": 5}}',
}


@pytest.mark.parametrize("source", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_every_spelling_is_recognised(source: str) -> None:
    """Each spelling holds one entry without `expires`: CLY705 must see exactly it."""
    findings = Engine(Settings(select=("CLY705",))).lint_text(source + "\n", "proj/settings.py").findings
    assert [f.code for f in findings] == ["CLY705"], findings


NOT_SCHEDULES = {
    "other dict of dicts": 'ROUTES = {"a": {"queue": "x"}}',
    "task without schedule": 'HOURS = {"mon": {"task": "open", "opens": 9}}',
    "schedule in a function": 'def f():\n    CELERY_BEAT_SCHEDULE = 1\n    other = {"a": {"b": 1}}',
    "apscheduler": 'scheduler.add_job(func, "interval", minutes=5)',
}


@pytest.mark.parametrize("source", NOT_SCHEDULES.values(), ids=NOT_SCHEDULES.keys())
def test_look_alikes_are_not_schedules(source: str) -> None:
    findings = Engine(Settings(select=("CLY704", "CLY705", "CLY406"))).lint_text(textwrap.dedent(source) + "\n", "proj/settings.py").findings
    assert findings == []
