from __future__ import annotations

import libcst as cst

from typing import Any

from ..model.context import Dispatch, TaskDef, string_value
from ..model.needles import TASK_DEFINITION_NEEDLES
from ..model.workers import Consumers
from .base import DISPATCH_NEEDLES, Example, Rule


class QueueWithoutConsumer(Rule):
    """Task routed to a queue that no worker consumes.

    ## What it does
    Reports a literal queue name that work is sent to, where no worker of the project
    consumes that queue: a task's `queue=` option, a `task_routes` entry (`{"queue":
    "reports"}` or the string form), a dispatch's `queue=` (`apply_async`, `send_task`,
    `signature`), and `task_default_queue`. The workers are read from their command lines
    wherever the repository keeps them (shell scripts, Dockerfiles, docker-compose files,
    Procfiles, Kubernetes/Helm manifests, systemd units, supervisord configs, Makefiles;
    never run): each `celery ... worker` consumes its `-Q/--queues`, or without `-Q`
    every queue of `task_queues` (the default queue, `celery` or `task_default_queue`,
    when none is declared), less its `-X/--exclude-queues`. The message names where the
    workers were found. Work for a task that another service serves (a `send_task` name
    or a route key matching `external-tasks`, or in a package outside the project) is
    left alone: that service's workers may consume its queue.

    Silent when no worker command line is in the repository, when one takes its queues
    from a value not written there (`-Q $QUEUE`, a Helm template, `celery multi`), or when
    a worker without `-Q` depends on a `task_queues` or `task_default_queue` that is not a
    literal. Set `worker-queues` to the queues of workers the repository does not show
    (a platform's process list, a template's values): the rule then checks against them
    together with the literal command lines, and workers with non-literal queues are taken
    to be among them. Needs the project index.

    ## Why is this bad?
    Nothing fails: the message is published, the queue fills up, and the work never
    happens. Routing a task to `reports` while every worker runs `-Q default,emails` is
    the classic way to lose a feature silently, usually found weeks later by someone
    looking at the broker.

    ## Example
    ```python
    # Procfile: worker: celery -A shop worker -Q default,emails
    @shared_task(queue="reports")
    def build_report(pk): ...
    ```

    ## Use instead
    ```python
    # Procfile: worker: celery -A shop worker -Q default,emails,reports
    @shared_task(queue="reports")
    def build_report(pk): ...
    ```

    ## Options
    - `worker-queues`: queues consumed by workers the repository does not show.
    - `external-tasks`: globs of task names that other services serve.
    - `project-index`: the index this rule needs (default true).

    ## References
    - [Celery: Routing tasks](https://docs.celeryq.dev/en/stable/userguide/routing.html)
    - [Celery: worker -Q](https://docs.celeryq.dev/en/stable/userguide/workers.html#queues)
    """

    code = "CLY409"
    name = "queue-without-consumer"
    scope = "project"
    needles = (*TASK_DEFINITION_NEEDLES, *DISPATCH_NEEDLES, "task_routes", "TASK_ROUTES", "CELERY_ROUTES", "default_queue", "DEFAULT_QUEUE")
    text_pattern = None

    @classmethod
    def needles_for(cls, index: Any) -> tuple[str, ...]:
        """None without the index, or when it cannot tell what the workers consume: no
        file is brought in (or parsed) for this rule on a project where it is silent."""
        if index is None or index.consumers().queues is None:
            return ()
        return cls.needles

    _PROCFILE = {
        "Procfile": "web: gunicorn shop.wsgi\nworker: celery -A shop worker -Q default,emails --concurrency 4\n",
        "shop/celery.py": "from celery import Celery\n\napp = Celery('shop')\n",
    }
    VALID = [
        Example(
            """
from celery import shared_task

@shared_task(queue="emails")
def send_receipt(pk):
    return pk

def checkout(pk):
    send_receipt.apply_async((pk,), queue="default")
""",
            path="shop/tasks.py",
            files=_PROCFILE,
        ),
        # a worker whose queues come from the environment: cannot be told
        Example(
            """
from celery import shared_task

@shared_task(queue="reports")
def build_report(pk):
    return pk
""",
            path="shop/tasks.py",
            files={**_PROCFILE, "bin/worker.sh": "#!/bin/sh\nexec celery -A shop worker -Q \"$QUEUES\"\n"},
        ),
        # the queue of a worker the repository does not show, declared in the configuration
        Example(
            """
from celery import shared_task

@shared_task(queue="reports")
def build_report(pk):
    return pk
""",
            path="shop/tasks.py",
            files=_PROCFILE,
            options={"worker-queues": ["reports"]},
        ),
        # a task another service serves, on that service's queue
        Example(
            """
from celery import current_app

def charge(pk):
    current_app.send_task("billing.charge", args=(pk,), queue="billing")
""",
            path="shop/views.py",
            files=_PROCFILE,
            options={"external-tasks": ["billing.*"]},
        ),
        # no worker command line at all: nothing to compare with
        Example(
            """
from celery import shared_task

@shared_task(queue="reports")
def build_report(pk):
    return pk
""",
            path="shop/tasks.py",
        ),
    ]
    INVALID = [
        Example(
            """
from celery import shared_task

@shared_task(queue="reports")  # error
def build_report(pk):
    return pk

def export(pk):
    build_report.apply_async((pk,), queue="exports")  # error
""",
            path="shop/tasks.py",
            files=_PROCFILE,
        ),
        Example(
            """
CELERY_TASK_DEFAULT_QUEUE = "main"  # error
CELERY_TASK_ROUTES = {
    "shop.tasks.*": {"queue": "emails"},
    "shop.reports.*": "reports",  # error
}
""",
            path="shop/settings.py",
            files=_PROCFILE,
        ),
        # a worker without -Q consumes the declared queues only
        Example(
            """
from celery import Celery
from kombu import Queue

app = Celery("shop")
app.conf.task_queues = [Queue("default"), Queue("emails")]
app.conf.task_routes = {"shop.tasks.export": {"queue": "exports"}}  # error
""",
            path="shop/celery.py",
            files={"docker-compose.yml": "services:\n  worker:\n    command: celery -A shop worker -l info\n"},
        ),
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._consumers: Consumers | None = None

    def _consumed(self) -> Consumers | None:
        index = self.ctx.index
        if index is None:
            return None
        if self._consumers is None:
            self._consumers = index.consumers()
        return self._consumers

    def _check(self, node: cst.BaseExpression, what: str) -> None:
        queue = string_value(node)
        if queue is None:
            return
        consumers = self._consumed()
        if consumers is None or consumers.queues is None or queue in consumers.queues:
            return
        listed = ", ".join(f"`{q}`" for q in sorted(consumers.queues)) or "none"
        self.report(
            node,
            f"{what} `{queue}`, which no worker consumes (workers at {consumers.described} consume {listed}): "
            f"its messages wait forever; add `{queue}` to a worker's `-Q`, or route it to a consumed queue",
        )

    def task_enter(self, task: TaskDef) -> None:
        arg = task.options.get("queue")
        if arg is not None:
            self._check(arg.value, f"task `{task.name}` is routed to queue")

    def _elsewhere(self, name: str | None) -> bool:
        """A task another service serves (``external-tasks``, or a dotted name outside the
        project): its queue may be consumed by that service's workers."""
        index = self.ctx.index
        return name is not None and index is not None and (index.is_external(name) or index.is_foreign(name))

    def dispatch(self, dispatch: Dispatch) -> None:
        arg = dispatch.keywords.get("queue")
        if arg is not None and dispatch.method != "delay" and not self._elsewhere(dispatch.task_name):
            self._check(arg.value, "this call sends to queue")

    def module_leave(self) -> None:
        config = self.ctx.file_config
        default = config.get("task_default_queue")
        if default is not None:
            self._check(default, "unrouted tasks go to the default queue")
        routes = config.get("task_routes")
        tables = [routes] if isinstance(routes, cst.Dict) else []
        if isinstance(routes, (cst.List, cst.Tuple)):
            tables = [e.value for e in routes.elements if isinstance(e, cst.Element) and isinstance(e.value, cst.Dict)]
        for table in tables:
            for element in table.elements:
                if not isinstance(element, cst.DictElement):
                    continue
                name = string_value(element.key)
                if self._elsewhere(name):
                    continue
                key = name or "this route"
                value = element.value
                if isinstance(value, cst.Dict):
                    for item in value.elements:
                        if isinstance(item, cst.DictElement) and string_value(item.key) == "queue":
                            self._check(item.value, f"`{key}` is routed to queue")
                elif string_value(value) is not None:
                    self._check(value, f"`{key}` is routed to queue")
