"""What Celery accepts, written down once.

Every table here mirrors a place in Celery's own code (named on each table), and
``tests/test_celery_api.py`` compares them with the installed ``celery`` package, so
that a Celery release that adds or drops an option makes the suite fail instead of
letting the linter drift.
"""

from __future__ import annotations

import difflib
from typing import Iterable

from ..config.settings import NEWEST_CELERY, parse_version  # noqa: F401 - re-exported: Celery facts

# ``celery.app.task.Task`` class attributes that a task decorator keyword sets
# (``_task_from_fun`` passes every extra keyword into ``type(name, (base,), {...})``).
TASK_CLASS_OPTIONS = frozenset(
    {
        "Request",
        "Strategy",
        "abstract",
        "acks_late",
        "acks_on_failure",
        "acks_on_failure_or_timeout",
        "acks_on_timeout",
        "backend",
        "default_retry_delay",
        "expires",
        "ignore_result",
        "max_retries",
        "name",
        "priority",
        "rate_limit",
        "reject_on_worker_lost",
        "resultrepr_maxsize",
        "retry_on_worker_lost",
        "send_events",
        "serializer",
        "soft_time_limit",
        "store_errors_even_if_ignored",
        "throws",
        "time_limit",
        "track_started",
        "trail",
        "typing",
    }
)

# Public ``Task`` attributes that are machinery, not options: setting them from a
# decorator breaks the task (``app``) or is meaningless.
TASK_CLASS_INTERNALS = frozenset(
    {"MaxRetriesExceededError", "OperationalError", "app", "from_config", "request_stack"}
)

# ``celery.app.task.extract_exec_options``: task attributes read as default
# execution options on every ``apply_async``.
TASK_EXEC_OPTIONS = frozenset(
    {
        "queue",
        "routing_key",
        "exchange",
        "priority",
        "expires",
        "serializer",
        "delivery_mode",
        "compression",
        "time_limit",
        "soft_time_limit",
        "immediate",
        "mandatory",
    }
)

# Named parameters of ``Celery._task_from_fun`` (``fun`` excluded).
TASK_FACTORY_PARAMETERS = frozenset(
    {"name", "base", "bind", "pydantic", "pydantic_strict", "pydantic_context", "pydantic_dump_kwargs"}
)

# Keywords consumed by ``Celery.task``'s inner ``inner_create_task_cls``.
APP_TASK_PARAMETERS = frozenset({"shared", "filter", "lazy"})

# ``celery.app.autoretry.add_autoretry_behaviour`` reads these from the options.
AUTORETRY_OPTIONS = frozenset(
    {"autoretry_for", "dont_autoretry_for", "retry_kwargs", "retry_backoff", "retry_backoff_max", "retry_jitter"}
)

# ``Task`` methods meant to be overridden: a decorator keyword replaces them, since
# ``_task_from_fun`` puts every keyword into the generated class's namespace
# (``@app.task(on_failure=report_failure)``, ``@app.task(shadow_name=...)``).
TASK_HANDLER_OPTIONS = frozenset(
    {"before_start", "on_success", "on_retry", "on_failure", "after_return", "on_replace", "shadow_name"}
)

#: Options that exist only from a given Celery release on.
TASK_OPTION_SINCE: dict[str, tuple[int, int]] = {
    "pydantic": (5, 5),
    "pydantic_strict": (5, 5),
    "pydantic_context": (5, 5),
    "pydantic_dump_kwargs": (5, 5),
    "dont_autoretry_for": (5, 3),
}

#: Every keyword a task decorator (``@app.task(...)``/``@shared_task(...)``) accepts.
TASK_OPTIONS = (
    TASK_CLASS_OPTIONS
    | TASK_EXEC_OPTIONS
    | TASK_FACTORY_PARAMETERS
    | APP_TASK_PARAMETERS
    | AUTORETRY_OPTIONS
    | TASK_HANDLER_OPTIONS
)

#: Task options that switch on late acknowledgement (redelivery after a crash).
LATE_ACK_OPTIONS = ("acks_late", "reject_on_worker_lost", "retry_on_worker_lost")

#: Methods and attributes of a bound task instance that only exist with ``bind=True``.
BOUND_TASK_API = frozenset({"retry", "request", "update_state", "replace"})

# Keywords ``apply_async``/``send_task``/``signature``/``.set`` understand: the named
# parameters of ``Task.apply_async``, ``Celery.send_task``, AMQP ``as_task_v2`` (which
# ``send_task`` hands ``**options``) and ``send_task_message``, and kombu
# ``Producer.publish``, plus the options ``send_task`` reads from ``**options``.
# Anything else is passed on as a message property (``MessageGroupId`` for SQS FIFO).
CALLING_OPTIONS = frozenset(
    {
        # Task.apply_async
        "args", "kwargs", "task_id", "producer", "link", "link_error", "shadow",
        # Celery.send_task
        "countdown", "eta", "connection", "expires", "publisher", "add_to_parent", "group_id",
        "group_index", "retries", "chord", "reply_to", "time_limit", "soft_time_limit", "root_id",
        "parent_id", "route_name", "chain", "replaced_task_nesting",
        # read from **options by send_task, or passed on to AMQP.as_task_v2
        "ignore_result", "stamped_headers", "argsrepr", "kwargsrepr", "origin", "now", "timezone",
        # AMQP send_task_message
        "exchange", "routing_key", "queue", "retry", "retry_policy", "serializer", "delivery_mode",
        "compression", "declare", "headers", "exchange_type", "timeout", "confirm_timeout",
        # kombu Producer.publish
        "mandatory", "immediate", "priority", "content_type", "content_encoding", "expiration",
    }
)
#: Keywords of Celery's calling functions that are internal plumbing, not options a caller
#: passes (excluded when the test compares CALLING_OPTIONS with Celery's signatures).
CALLING_INTERNALS = frozenset(
    {
        "name", "router", "result_cls", "task_type", "message", "event_dispatcher", "body",
        # as_task_v2 parameters that send_task always fills itself
        "callbacks", "errbacks", "create_sent_event",
    }
)
#: Options that only mean something to ``apply_async``; ``.delay(**kw)`` passes them to the task.
EXECUTION_OPTIONS = frozenset(
    {
        "countdown", "eta", "expires", "queue", "priority", "routing_key", "exchange", "retry",
        "retry_policy", "link", "link_error", "ignore_result", "time_limit", "soft_time_limit",
        "task_id", "headers", "serializer", "compression", "shadow",
    }
)
#: ``Task.retry``'s own keywords, on top of the calling options.
RETRY_PARAMETERS = frozenset({"args", "kwargs", "exc", "throw", "eta", "countdown", "max_retries"})

#: Task attributes ``Task.bind`` warns about from Celery 5.7 (no effect from 6.0).
DEPRECATED_ROUTING_OPTIONS = ("queue", "exchange", "exchange_type", "routing_key", "delivery_mode", "priority")
DEPRECATED_ROUTING_SINCE = (5, 7)
#: ``retry_policy`` keys: kombu ``Connection.ensure``'s retry parameters.
RETRY_POLICY_KEYS = frozenset({"max_retries", "interval_start", "interval_step", "interval_max", "retry_errors"})

#: Methods that put a message on the broker.
DISPATCH_METHODS = frozenset({"delay", "apply_async", "send_task"})
#: Methods that wait on an ``AsyncResult``/``GroupResult`` (CLY501), and the canvas
#: primitives whose call returns such a result (``group(...)()``).
RESULT_WAIT_METHODS = frozenset({"get", "wait", "join", "join_native"})
CANVAS_CALLS = frozenset({"group", "chord", "chain"})
#: Celery >= 5.4 Django-aware dispatch that waits for the transaction to commit.
ON_COMMIT_DISPATCH_METHODS = frozenset({"delay_on_commit", "apply_async_on_commit"})
#: Methods that make a signature from a task, whose ``.apply_async``/``.delay`` dispatch it.
SIGNATURE_METHODS = frozenset({"s", "si", "signature", "subtask"})

#: Keys a beat schedule entry may have: ``celery.beat.ScheduleEntry``'s parameters,
#: less the ones beat fills in itself (:data:`BEAT_ENTRY_MANAGED`).
BEAT_ENTRY_KEYS = frozenset({"task", "schedule", "args", "kwargs", "options", "relative"})
#: ``ScheduleEntry`` parameters beat sets itself: ``name`` and ``app`` are overwritten
#: (the entry is named by its key), ``last_run_at``/``total_run_count`` are run state.
BEAT_ENTRY_MANAGED = frozenset({"name", "app", "last_run_at", "total_run_count"})

#: django-celery-beat's ``DatabaseScheduler`` stores each ``beat_schedule`` entry as a
#: ``PeriodicTask`` row (``ModelEntry.from_entry``: ``_unpack_fields`` passes the keys beyond
#: ``schedule, args, kwargs, relative, options`` to ``update_or_create(defaults=...)``), so the
#: model's own fields are valid top-level keys there; any other key fails that entry only.
DJANGO_BEAT_ENTRY_KEYS = frozenset(
    {
        "description",
        "enabled",
        "one_off",
        "start_time",
        "expires",
        "expire_seconds",
        "queue",
        "exchange",
        "routing_key",
        "priority",
        "headers",
    }
)
#: ``celery.schedules.crontab`` fields, smallest unit first; each defaults to ``"*"``.
CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")

#: Functions that build a signature from a task name: ``signature("shop.add", args=...)``.
SIGNATURE_FUNCTIONS = frozenset({"celery.signature", "celery.Signature", "celery.canvas.signature", "celery.canvas.Signature"})

#: Module names whose imported objects count as Celery apps (``from proj.celery import app``).
APP_MODULE_NAMES = frozenset({"celery", "celery_app", "worker"})


#: ``celery.utils.time.RATE_MODIFIER_MAP``: the units a rate limit string may use.
RATE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
#: Spellings people write for those units (what a fix may rewrite them to).
RATE_UNIT_ALIASES = {
    "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
}


def parse_rate(value: object) -> float:
    """Tasks per second, exactly as ``celery.utils.time.rate`` computes it.

    Raises KeyError for an unknown unit and ValueError for a bad number, as Celery does.
    """
    if not value:
        return 0
    if isinstance(value, str):
        ops, _, modifier = value.partition("/")
        return float(ops) / RATE_UNITS[modifier or "s"] or 0
    return value or 0  # type: ignore[return-value]


def task_options_for(version: tuple[int, int]) -> frozenset[str]:
    """The task decorator keywords Celery ``version`` accepts."""
    return frozenset(o for o in TASK_OPTIONS if TASK_OPTION_SINCE.get(o, (0, 0)) <= version)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The single closest candidate, or None when nothing is close enough to suggest."""
    matches = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.75)
    return matches[0] if matches else None


#: ``task_default_queue``'s default: where a task no route names is sent
#: (``celery.app.defaults``; tests/test_celery_api.py compares).
DEFAULT_QUEUE = "celery"
