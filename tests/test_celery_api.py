"""celery_lint.celery_api against the installed Celery package (test extra)."""

from __future__ import annotations

import inspect
import re

import pytest

celery = pytest.importorskip("celery")

from celery import Celery  # noqa: E402
from celery.app import autoretry  # noqa: E402
from celery.app.task import Task, extract_exec_options  # noqa: E402

from celery_lint import celery_api  # noqa: E402


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
