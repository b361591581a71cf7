from __future__ import annotations

from typing import Any

import libcst as cst

from ..model.context import UNKNOWN, TaskDef, keyword_args, string_value
from .base import Example, Rule, TextPattern

_CALLS = ("apply_async", "apply_async_on_commit", "send_task", "retry", "signature", "set")
#: Brokers without a redelivery window: a late ETA is simply held.
_NO_VISIBILITY_TIMEOUT = ("amqp", "pyamqp", "amqps", "librabbitmq")


class CountdownBeyondVisibilityTimeout(Rule):
    """`countdown`/`eta`/`default_retry_delay` longer than the broker's visibility timeout.

    ## What it does
    Reports a literal delay longer than the broker's redelivery window:
    `apply_async(countdown=...)` (also `send_task`, `signature`, `.set`, and
    `self.retry(countdown=...)` in a task), an `eta=now() + timedelta(...)` offset, and a
    task's `default_retry_delay`. Delays are read the way Celery reads them: numbers,
    constant arithmetic (`2 * 3600`), `timedelta(...).total_seconds()`, and
    `timedelta(...)` offsets added to a datetime.

    The window is the `visibility-timeout` option (default 3600 s, the Redis and SQS
    default). A literal `broker_transport_options["visibility_timeout"]` set in the same
    file, or with the project index anywhere in the project's configuration (Django's
    `CELERY_BROKER_TRANSPORT_OPTIONS` too), takes precedence; an AMQP `broker_url` means no
    check (RabbitMQ has no visibility timeout).

    ## Why is this bad?
    With Redis and SQS a worker holds an ETA task unacknowledged until it runs. When that
    is longer than `visibility_timeout`, the broker assumes the worker died and delivers
    the message again, to another worker: the task runs twice, or once per timeout that
    passes before it is due.

    ## Example
    ```python
    send_reminder.apply_async(args=(user.pk,), countdown=2 * 24 * 3600)
    ```

    ## Use instead
    ```python
    # settings: the window covers the longest delay
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3 * 24 * 3600}
    # or schedule the reminder (beat, a database row) instead of holding a message
    ```

    ## Options
    - `visibility-timeout` (seconds, default 3600).

    ## References
    - [Celery: Redis visibility timeout](https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout)
    - [Celery: SQS visibility timeout](https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/sqs.html#visibility-timeout)
    """

    code = "CLY405"
    name = "countdown-beyond-visibility-timeout"
    scope = "file+"
    needles = ("countdown", "eta=", "default_retry_delay")
    text_pattern = TextPattern(  # not `beta=`
        (r"\b(?:countdown|eta|default_retry_delay)\s*=", ("countdown", "eta", "default_retry_delay"))
    )

    VALID = [
        """
import datetime
from celery import shared_task
from shop.tasks import remind

@shared_task(name="shop.tasks.sync", bind=True, default_retry_delay=300)
def sync(self, pk):
    raise self.retry(countdown=60 * 30)

def view(user, delay):
    remind.apply_async(args=(user.pk,), countdown=3600)
    remind.apply_async(args=(user.pk,), countdown=delay)
    remind.apply_async(args=(user.pk,), eta=datetime.datetime.now() + datetime.timedelta(minutes=30))
""",
        # A window raised in the same settings file, and RabbitMQ.
        Example(
            """
from celery import Celery

app = Celery("shop")
app.conf.broker_transport_options = {"visibility_timeout": 3 * 24 * 3600}
app.send_task("shop.tasks.remind", countdown=2 * 24 * 3600)
""",
            path="shop/celery.py",
        ),
        Example(
            """
from celery import Celery

app = Celery("shop", broker_url="amqp://guest@rabbit//")
app.send_task("shop.tasks.remind", countdown=2 * 24 * 3600)
""",
            path="shop/celery.py",
        ),
        Example(
            """
from shop.tasks import remind

remind.apply_async(args=(1,), countdown=7200)
""",
            options={"visibility-timeout": 43200},
        ),
        # Not Celery: a retry helper with its own countdown.
        """
class Poller:
    def retry(self, countdown):
        return countdown

Poller().retry(countdown=86400)
""",
    ]
    INVALID = [
        # A `timedelta` held in a constant of another module.
        Example(
            """
from celery import shared_task
from shop.limits import RETRY_AFTER

@shared_task(name="shop.sync", bind=True, ignore_result=True)
def sync(self, pk):
    raise self.retry(countdown=RETRY_AFTER.total_seconds())  # error
""",
            path="shop/tasks.py",
            files={"shop/limits.py": "from datetime import timedelta\n\nRETRY_AFTER = timedelta(hours=2)\n"},
        ),
        """
from datetime import timedelta
from django.utils import timezone
from celery import shared_task
from shop.tasks import remind

@shared_task(name="shop.tasks.sync", bind=True, default_retry_delay=2 * 3600)  # error
def sync(self, pk):
    raise self.retry(countdown=timedelta(hours=6).total_seconds())  # error

def view(user):
    remind.apply_async(args=(user.pk,), countdown=2 * 24 * 3600)  # error
    remind.apply_async(args=(user.pk,), eta=timezone.now() + timedelta(days=1))  # error
    remind.s(user.pk).set(countdown=7200).delay()  # error
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        arg = task.options.get("default_retry_delay")
        if arg is not None:
            self._check(arg.value, self.ctx.seconds_value(arg.value), "`default_retry_delay`")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _CALLS:
            return
        if func.attr.value == "retry" and self.ctx.task_retried_by(node) is None:
            return
        keywords = keyword_args(node)
        if "countdown" in keywords:
            value = keywords["countdown"].value
            self._check(value, self.ctx.seconds_value(value), "`countdown`")
        if "eta" in keywords:
            value = keywords["eta"].value
            self._check(value, self.ctx.eta_offset_seconds(value), "`eta` offset")

    def _check(self, node: cst.BaseExpression, seconds: Any, what: str) -> None:
        if seconds is UNKNOWN or not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            return
        window = self._visibility_timeout()
        if window is None or seconds <= window:
            return
        self.report(
            node,
            f"{what} of {_duration(seconds)} is longer than the broker's visibility timeout ({_duration(window)}): "
            "Redis and SQS deliver the message again and the task runs twice; "
            "schedule it later another way (beat, a stored due time) or raise `visibility_timeout`",
        )

    def _visibility_timeout(self) -> float | None:
        """The redelivery window in seconds; None when the file configures a broker without one."""
        url = string_value(self.ctx.file_config.get("broker_url"))
        if url is None and self.ctx.index is not None:
            project_url = self.ctx.index.setting("broker_url")
            url = project_url if isinstance(project_url, str) else None
        if url is not None and url.split(":", 1)[0] in _NO_VISIBILITY_TIMEOUT:
            return None
        options = self.ctx.file_config.get("broker_transport_options")
        if isinstance(options, cst.Dict):
            for element in options.elements:
                if isinstance(element, cst.DictElement) and string_value(element.key) == "visibility_timeout":
                    seconds = self.ctx.seconds_value(element.value)
                    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
                        return float(seconds)
        if self.ctx.index is not None:
            project = self.ctx.index.setting("broker_transport_options")
            seconds = project.get("visibility_timeout") if isinstance(project, dict) else None
            if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
                return float(seconds)
        return self.settings.visibility_timeout


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds:g} s"
