"""celery_lint.model.celery_api against the installed Celery package (test extra)."""

from __future__ import annotations

import inspect
import re

import pytest

celery = pytest.importorskip("celery")

from celery import Celery  # noqa: E402
from celery.app import autoretry  # noqa: E402
from celery.app.task import Task, extract_exec_options  # noqa: E402

from celery_lint.model import celery_api  # noqa: E402


def _public_settable_attributes() -> set[str]:
    names = set()
    for klass in Task.__mro__:
        for name, value in vars(klass).items():
            if name.startswith("_") or inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
                continue
            if isinstance(value, property) and value.fset is None:
                continue
            names.add(name)
    return names


def test_task_class_attributes_match_celery() -> None:
    assert _public_settable_attributes() == celery_api.TASK_CLASS_OPTIONS | celery_api.TASK_CLASS_INTERNALS


def test_exec_options_match_celery() -> None:
    class Bare:
        pass

    assert set(extract_exec_options(Bare())) == celery_api.TASK_EXEC_OPTIONS


def test_task_factory_parameters_match_celery() -> None:
    params = inspect.signature(Celery._task_from_fun).parameters
    named = {n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD} - {"self", "fun"}
    assert named == celery_api.TASK_FACTORY_PARAMETERS


def test_app_task_parameters_match_celery() -> None:
    source = inspect.getsource(Celery.task)
    match = re.search(r"def inner_create_task_cls\(([^)]*)\)", source)
    assert match is not None
    names = {p.split("=")[0].strip() for p in match.group(1).split(",")} - {"**opts", ""}
    assert names == celery_api.APP_TASK_PARAMETERS


def test_autoretry_options_match_celery() -> None:
    source = inspect.getsource(autoretry.add_autoretry_behaviour)
    assert set(re.findall(r"options\.get\(\s*'(\w+)'", source)) == celery_api.AUTORETRY_OPTIONS


def test_handler_options_are_overridable_task_methods() -> None:
    for name in celery_api.TASK_HANDLER_OPTIONS:
        assert inspect.isfunction(getattr(Task, name)), name


def test_bound_task_api_exists_on_task() -> None:
    for name in celery_api.BOUND_TASK_API:
        assert hasattr(Task, name), name


def test_dispatch_methods_exist() -> None:
    for name in ("delay", "apply_async"):
        assert callable(getattr(Task, name))
    assert callable(Celery.send_task)


def test_newest_release_is_known() -> None:
    installed = celery_api.parse_version(celery.__version__)
    assert installed <= celery_api.NEWEST_CELERY, "a newer Celery is out: review celery_api and bump NEWEST_CELERY"
    assert celery_api.task_options_for(installed) == celery_api.TASK_OPTIONS


def test_closest_suggests_real_options() -> None:
    assert celery_api.closest("ignore_results", celery_api.TASK_OPTIONS) == "ignore_result"
    assert celery_api.closest("max_retry", celery_api.TASK_OPTIONS) == "max_retries"
    assert celery_api.closest("colour", celery_api.TASK_OPTIONS) is None


@pytest.mark.parametrize(
    "value",
    ["10/m", "10/min", "0.5/s", "2/h", "100", "0/m", "", "ten/s", "5/", " 3 /m", "1e3/h", "-1/s", 0, 7, 2.5, None],
)
def test_rate_parser_matches_celery(value: object) -> None:
    from celery.utils.time import rate

    def outcome(parse):
        try:
            return ("ok", parse(value))
        except Exception as exc:  # noqa: BLE001 - compare the kind of failure
            return ("error", type(exc).__name__)

    assert outcome(celery_api.parse_rate) == outcome(rate)


def test_rate_units_match_celery() -> None:
    from celery.utils import time as celery_time

    assert set(celery_time.RATE_MODIFIER_MAP) == set(celery_api.RATE_UNITS)
    for unit, seconds in celery_api.RATE_UNITS.items():
        assert celery_time.RATE_MODIFIER_MAP[unit](seconds) == pytest.approx(1.0)


def test_calling_options_match_celery_and_kombu() -> None:
    from celery.app.amqp import AMQP
    from kombu import Producer

    def named(function, skip=("self",)) -> set[str]:
        parameters = inspect.signature(function).parameters
        return {n for n, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - set(skip)

    sender = inspect.getsource(AMQP._create_task_sender)
    send_task_message = re.search(r"def send_task_message\((.*?)\):", sender, re.DOTALL).group(1)
    send_task_message_names = {p.split("=")[0].strip() for p in send_task_message.split(",")} - {"**kwargs", ""}
    read_from_options = set(re.findall(r"options\.(?:get|pop)\(\s*'(\w+)'", inspect.getsource(Celery.send_task)))
    accepted = (
        named(Task.apply_async)
        | named(Celery.send_task)
        | named(AMQP.as_task_v2)
        | send_task_message_names
        | named(Producer.publish)
        | read_from_options
    )
    assert accepted - celery_api.CALLING_INTERNALS == celery_api.CALLING_OPTIONS
    assert celery_api.EXECUTION_OPTIONS <= celery_api.CALLING_OPTIONS
    retry = named(Task.retry)
    assert celery_api.RETRY_PARAMETERS <= retry


def test_deprecated_routing_options_match_task_bind() -> None:
    source = inspect.getsource(Task.bind)
    match = re.search(r"for attr in \(([^)]*)\):\s*if attr in cls.__dict__", source)
    assert match is not None
    assert tuple(re.findall(r"'(\w+)'", match.group(1))) == celery_api.DEPRECATED_ROUTING_OPTIONS


def test_retry_policy_keys_match_kombu() -> None:
    from kombu.connection import Connection

    parameters = set(inspect.signature(Connection.ensure).parameters) - {"self", "obj", "fun", "errback", "on_revive"}
    assert parameters == celery_api.RETRY_POLICY_KEYS


def test_beat_entry_keys_match_schedule_entry() -> None:
    from celery.beat import ScheduleEntry

    parameters = set(inspect.signature(ScheduleEntry.__init__).parameters) - {"self"}
    assert parameters == celery_api.BEAT_ENTRY_KEYS | celery_api.BEAT_ENTRY_MANAGED


def test_beat_rejects_an_unknown_entry_key() -> None:
    """CLY704's claim: an execution option at the top of an entry stops beat at start."""
    from celery.beat import Scheduler

    app = Celery("t", set_as_current=False)
    scheduler = Scheduler(app, lazy=True)
    with pytest.raises(TypeError, match="queue"):
        scheduler.merge_inplace({"x": {"task": "t.x", "schedule": 60, "queue": "q"}})
    scheduler.merge_inplace({"x": {"task": "t.x", "schedule": 60, "options": {"queue": "q"}}})
    scheduler.merge_inplace({"y": {"task": "t.y"}})  # no schedule: accepted, then fails when checked
    with pytest.raises(AttributeError):
        scheduler.schedule["y"].is_due()


def test_crontab_defaults_fire_every_minute() -> None:
    """CLY703's claims."""
    from celery.schedules import crontab

    assert crontab(hour=7).minute == set(range(60))
    assert crontab().minute == set(range(60)) and crontab().hour == set(range(24))
    with pytest.raises(TypeError):  # a misspelt field fails on import: CLY703 leaves it alone
        crontab(minute=0, hours=7)


def test_task_args_must_be_a_list_or_tuple() -> None:
    """CLY406's claim, from the code that builds every task message."""
    app = Celery("t", set_as_current=False)
    for bad in (42, "abc", {"a": 1}, {1}):
        with pytest.raises(TypeError, match="list or tuple"):
            app.amqp.as_task_v2("id", "t.x", args=bad)
    app.amqp.as_task_v2("id", "t.x", args=(42,))


def test_crontab_fields_match_celery() -> None:
    from celery.schedules import crontab

    parameters = [p for p in inspect.signature(crontab.__init__).parameters if p not in ("self", "kwargs")]
    assert tuple(parameters) == celery_api.CRONTAB_FIELDS
    assert all(inspect.signature(crontab.__init__).parameters[p].default == "*" for p in parameters)


def test_timedelta_units_match_the_standard_library() -> None:
    import datetime

    from celery_lint.model.values import TIMEDELTA_UNITS

    for index, (unit, seconds) in enumerate(TIMEDELTA_UNITS):
        positional = [0] * index + [1]
        assert datetime.timedelta(*positional).total_seconds() == pytest.approx(seconds)
        assert datetime.timedelta(**{unit: 1}).total_seconds() == pytest.approx(seconds)


def test_the_default_queue_is_celerys() -> None:
    from celery.app.defaults import DEFAULTS

    from celery_lint.model.celery_api import DEFAULT_QUEUE

    assert DEFAULTS["task_default_queue"] == DEFAULT_QUEUE
