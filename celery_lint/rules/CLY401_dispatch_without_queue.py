from __future__ import annotations

from typing import Any

import fnmatch
import re

import libcst as cst

from ..model.context import UNKNOWN, Dispatch, TaskDef, has_star_kwargs, keyword_args, literal_value
from ..model.celery_api import DEFAULT_QUEUE
from ..model.recognise import declared_queues
from ..model.values import is_unknown
from .base import DISPATCH_NEEDLES, Example, Rule

_ROUTING_KEYWORDS = ("queue", "routing_key", "exchange")


class DispatchWithoutQueue(Rule):
    """Task sent without `queue=` in a project that routes work to named queues.

    ## What it does
    In the default mode `auto`, reports `apply_async(...)`, `send_task(...)` and signature
    `.apply_async(...)` calls without `queue=` (or `routing_key=`/`exchange=`, or `**options`
    it cannot see), when the file shows that work goes to named queues (a `queue=` at
    another call site or on a task, `task_routes` or `task_queues`) and nothing in the
    file routes this task: no `queue=` on the task's own decorator, no `.set(queue=...)`
    on the signature, no literal `task_routes` entry (exact or glob) matching its name.
    Only dispatches of a task the file can name are judged (defined in the file, imported,
    or a literal `send_task` name): canvas objects (`group(...).apply_async()`) are routed
    part by part by their own tasks, and a signature held in a variable may carry a queue
    in its options. When the file has routes that are not literals, or routes that cannot be matched
    because the task's name is unknown, the rule stays silent. Per file, it only knows
    the file; with the project index it also knows the project's `task_routes` and
    `task_queues` and the task-level `queue=` of tasks defined in other modules.
    In mode `always`, every dispatch without `queue=` is reported, `.delay()` included.

    The project's settings decide what "the default queue" means. When the project sets
    `task_default_queue` (`CELERY_TASK_DEFAULT_QUEUE`, also from the environment, as
    saleor does), it has named the queue unrouted tasks go to, so in `auto` mode nothing
    is reported: whether its workers consume that queue is CLY409's question. `task_routes`
    (literal dicts, globs included) and `task_queues` are read from the whole project with
    the index; routes that are not literals (a router function, a string path) make the
    rule silent, since it cannot tell where a task goes. `task_queues` is read as the
    queue names it declares (a dict's keys, or `kombu.Queue("name")` objects): when it
    declares the default queue (`celery`), unrouted tasks go to a queue the project
    declares and `auto` mode reports nothing; when it does not, the finding says so,
    since workers started without `-Q` consume only the declared queues (and, with
    `task_create_missing_queues = False`, that sending it raises `QueueNotFound`).

    ## Why is this bad?
    A task sent without a queue goes to the default queue (`celery`). In a deployment
    whose workers consume named queues (`-Q emails,reports`), nobody may consume the
    default queue and the task waits forever; or it lands on the wrong pool and starves it.

    ## Example
    ```python
    send_welcome.apply_async(args=(user.pk,), queue="emails")
    build_report.apply_async(args=(user.pk,))
    ```

    ## Use instead
    ```python
    build_report.apply_async(args=(user.pk,), queue="reports")
    ```
    or route it in `task_routes`.

    ## Options
    - `require-queue`: `auto` (default), `always` or `off`.

    ## References
    - [Celery: Routing tasks](https://docs.celeryq.dev/en/stable/userguide/routing.html)
    - [Celery: apply_async queue](https://docs.celeryq.dev/en/stable/userguide/calling.html#routing-options)
    """

    code = "CLY401"
    name = "dispatch-without-queue"
    scope = "file+"
    needles = DISPATCH_NEEDLES
    text_pattern = None

    VALID = [
        # The project names its default queue (here from the environment, as saleor does).
        Example(
            """
from shop.tasks import build_report

def view(user):
    build_report.apply_async(args=(user.pk,))
""",
            path="shop/views.py",
            files={
                "shop/settings.py": (
                    "import os\n"
                    'CELERY_TASK_ROUTES = {"shop.emails.*": {"queue": "emails"}}\n'
                    'CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")\n'
                ),
                "shop/tasks.py": (
                    "from celery import shared_task\n\n"
                    "@shared_task(name='shop.report')\ndef build_report(pk):\n    return pk\n"
                ),
            },
        ),
        # `task_queues` declares the default queue `celery` among its queues (kombu
        # `Queue` objects, read from the whole project): unrouted tasks go to a declared queue.
        Example(
            """
from shop.tasks import build_report

def view(user):
    build_report.apply_async(args=(user.pk,))
""",
            path="shop/views.py",
            files={
                "shop/settings.py": (
                    "from kombu import Queue\n"
                    'CELERY_TASK_QUEUES = [Queue("celery"), Queue("emails"), Queue("reports")]\n'
                ),
                "shop/tasks.py": (
                    "from celery import shared_task\n\n"
                    "@shared_task(name='shop.report')\ndef build_report(pk):\n    return pk\n"
                ),
            },
        ),
        # No sign of named queues in the file.
        """
from proj.tasks import build_report

def view(request):
    build_report.apply_async(args=(request.user.pk,))
""",
        """
from celery import group, shared_task

@shared_task(queue="reports")
def build_report(pk):
    return pk

def view(request):
    build_report.apply_async(args=(request.user.pk,))
    build_report.s(1).set(queue="reports").apply_async()
    notify.apply_async(args=(1,), queue="emails")
    group([notify.s(), build_report.s()]).apply_async()
    signature = prepare_build(request)
    signature.apply_async()
""",
        """
from celery import Celery

app = Celery("proj")
app.conf.task_routes = {"proj.tasks.*": {"queue": "work"}}

@app.task
def build_report(pk):
    return pk

def view(request):
    build_report.apply_async(args=(1,))
""",
        Example(
            """
from proj.tasks import notify

notify.apply_async(args=(1,), queue="emails")
notify.apply_async(args=(1,))
""",
            options={"require-queue": "off"},
        ),
        # A function-level import does not make a same-named local elsewhere a task, and a
        # task defined further down is known by the end of the file.
        """
from celery import shared_task
from proj.tasks import notify

def prepare():
    from proj.builds import update_docs
    return update_docs.s(), None

def trigger():
    notify.apply_async(args=(1,), queue="emails")
    update_docs, build = prepare()
    update_docs.apply_async()
    report.apply_async()

@shared_task(queue="reports")
def report():
    return 1
""",
    ]
    INVALID = [
        # Named queues in the project's settings, no default queue named.
        Example(
            """
from shop.tasks import build_report

def view(user):
    build_report.apply_async(args=(user.pk,))  # error
""",
            path="shop/views.py",
            files={
                "shop/settings.py": 'CELERY_TASK_ROUTES = {"shop.emails.*": {"queue": "emails"}}\n',
                "shop/tasks.py": (
                    "from celery import shared_task\n\n"
                    "@shared_task(name='shop.report')\ndef build_report(pk):\n    return pk\n"
                ),
            },
        ),
        """
from proj.tasks import notify, build_report

def view(request):
    notify.apply_async(args=(1,), queue="emails")
    build_report.apply_async(args=(1,))  # error
""",
        """
from celery import Celery

app = Celery("proj")
app.conf.task_queues = {"emails": {}}

def view(request):
    app.send_task("proj.tasks.report", args=(1,))  # error
""",
        Example(
            """
from proj.tasks import notify

notify.delay(1)  # error
""",
            options={"require-queue": "always"},
        ),
        # `task_queues` declares named queues but not the default one: the message says
        # that workers started without `-Q` never consume where this task goes.
        Example(
            """
from shop.tasks import build_report

def view(user):
    build_report.apply_async(args=(user.pk,))  # error
""",
            path="shop/views.py",
            files={
                "shop/celeryconf.py": (
                    "from celery import Celery\nfrom kombu import Queue\n\napp = Celery('shop')\n"
                    'app.conf.task_queues = (Queue("emails"), Queue(name="reports"))\n'
                ),
                "shop/tasks.py": (
                    "from celery import shared_task\n\n"
                    "@shared_task(name='shop.report')\ndef build_report(pk):\n    return pk\n"
                ),
            },
        ),
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._candidates: list[Dispatch] = []
        self._named_queue_seen = False
        self._missing_default = False
        self._declared: list[str] = []
        self._raises = False

    def task_enter(self, task: TaskDef) -> None:
        if "queue" in task.options:
            self._named_queue_seen = True

    def dispatch(self, dispatch: Dispatch) -> None:
        mode = self.settings.require_queue
        if mode == "off" or dispatch.on_commit:
            return
        if dispatch.method == "delay" and not dispatch.via_signature and mode != "always":
            return
        if dispatch.method != "send_task" and not dispatch.names_a_task:
            return  # a canvas object or a variable: unknown options, not a missing queue
        if "queue" in dispatch.keywords:
            self._named_queue_seen = True
        if self._explicitly_routed(dispatch):
            return
        if mode == "always":
            self._report(dispatch)
        else:
            self._candidates.append(dispatch)

    def _explicitly_routed(self, dispatch: Dispatch) -> bool:
        if any(k in dispatch.keywords for k in _ROUTING_KEYWORDS) or has_star_kwargs(dispatch.call):
            return True
        receiver = dispatch.call.func.value if isinstance(dispatch.call.func, cst.Attribute) else None
        while isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute):
            if receiver.func.attr.value == "set" and any(k in keyword_args(receiver) for k in _ROUTING_KEYWORDS):
                return True
            receiver = receiver.func.value
        return False

    def module_leave(self) -> None:
        if self.settings.require_queue == "auto" and self.ctx.project_setting("task_default_queue") is not None:
            return  # the project names its default queue: sending there is its choice
        config = self.ctx.file_config
        index = self.ctx.index
        project_queues = index is not None and (
            index.setting("task_routes") is not None
            or index.setting("task_queues") is not None
            or any(t.option("queue") is not None for t in index.tasks)
        )
        if not (self._named_queue_seen or "task_routes" in config or "task_queues" in config or project_queues):
            return
        declared = declared_queues(self.ctx.project_setting("task_queues"))
        if self.settings.require_queue == "auto" and declared is not None and DEFAULT_QUEUE in declared:
            return  # the default queue is one the project declares: unrouted tasks go where it said
        self._missing_default = declared is not None and DEFAULT_QUEUE not in declared
        self._declared = declared or []
        self._raises = self.ctx.project_setting("task_create_missing_queues") is False
        if "task_routes" in config or index is None:
            routes = _route_patterns(config.get("task_routes"))
        else:
            routes = _index_route_patterns(index.setting("task_routes"))
        for dispatch in self._candidates:
            if not self._covered(dispatch, routes):
                self._report(dispatch)

    def _covered(self, dispatch: Dispatch, routes: list[str] | None) -> bool:
        task = dispatch.task
        if task is not None and task.option("queue") is not None:
            return True
        indexed = self.ctx.dispatched_task(dispatch)
        if indexed is not None and (indexed.option("queue") is not None or indexed.opaque):
            return True  # a task-level queue set in another module (or options we cannot see)
        if routes is None:
            return True  # routes exist but are not literals: unknown, not clean
        if not routes:
            return False
        name = dispatch.task_name or (task.registered_name if task else None) or (indexed.name if indexed else None)
        if name is None:
            return True  # cannot tell whether a route matches
        return any(fnmatch.fnmatchcase(name, r) for r in routes)

    def _report(self, dispatch: Dispatch) -> None:
        target = dispatch.display()
        where = "the default queue"
        if self._missing_default:
            listed = ", ".join(f"`{q}`" for q in self._declared[:4]) + (", ..." if len(self._declared) > 4 else "")
            where = (
                f"the default queue `{DEFAULT_QUEUE}`, which `task_queues` does not declare ({listed}): "
                + (
                    "with `task_create_missing_queues = False` sending it raises `QueueNotFound`"
                    if self._raises
                    else "workers started without `-Q` do not consume it"
                )
            )
        self.report(
            dispatch.call,
            f"{target} has no `queue=` and no route covers the task, so it goes to {where}; "
            "pass `queue=` or add a `task_routes` entry",
        )


def _index_route_patterns(value: Any) -> list[str] | None:
    """The keys of the project's `task_routes` from the index; [] unset; None not literal."""
    if value is None:
        return []
    tables = value if isinstance(value, list) else [value]
    keys: list[str] = []
    for table in tables:
        if not isinstance(table, dict) or is_unknown(table):
            return None
        keys.extend(table)
    return keys


def _route_patterns(node: cst.BaseExpression | None) -> list[str] | None:
    """Literal keys of a `task_routes` dict; [] when unset; None when not a literal dict."""
    if node is None:
        return []
    if not isinstance(node, cst.Dict):
        return None
    keys: list[str] = []
    for element in node.elements:
        if not isinstance(element, cst.DictElement):
            return None
        key = literal_value(element.key)
        if isinstance(key, str):
            keys.append(key)
        elif isinstance(key, re.Pattern) or key is UNKNOWN:
            return None
    return keys
