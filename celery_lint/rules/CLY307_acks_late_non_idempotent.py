from __future__ import annotations

from ..model.celery_api import LATE_ACK_OPTIONS
from ..model.context import UNKNOWN, TaskDef
from ..model.side_effects import SideEffects, describe
from .base import Example, Rule


#: Settings that make every task acknowledge late unless it says `acks_late=False`.
_PROJECT_LATE_ACK = ("task_acks_late", "task_reject_on_worker_lost")


class AcksLateNonIdempotent(Rule):
    """A late-acknowledged task performs a non-idempotent side effect.

    ## What it does
    Reports a task that acknowledges its message late (`acks_late=True`,
    `reject_on_worker_lost=True` or `retry_on_worker_lost=True` on the decorator or a
    `base=` class of the same file; or project-wide, `task_acks_late = True` or
    `task_reject_on_worker_lost = True` (`CELERY_TASK_ACKS_LATE`, ... in Django settings)
    set in the same file or, with the project index, anywhere in the project's Celery
    configuration; unless the task says `acks_late=False`) and calls a non-idempotent API: the same list, calls
    through project helpers (any depth, across modules, with the path in the message) and
    idempotency-key exemption as CLY306. One finding per task.

    ## Why is this bad?
    With late acknowledgement the broker keeps the message until the task finishes. If the
    worker is killed (OOM, deploy, autoscaling) after the e-mail went out but before the
    ack, the message is delivered again and the e-mail is sent twice. Celery's guide: only
    idempotent tasks should use late acks; tasks with side effects should run at most once.

    ## Example
    ```python
    @shared_task(acks_late=True)
    def send_receipt(order_id):
        send_mail("Receipt", body(order_id), None, [email(order_id)])
    ```

    ## Use instead
    ```python
    @shared_task  # early ack: at most once
    def send_receipt(order_id):
        send_mail("Receipt", body(order_id), None, [email(order_id)])
    ```

    ## Options
    - `non-idempotent-calls`: more glob patterns of dotted call names (see CLY306).

    ## References
    - [Celery: Should I use retry or acks_late?](https://docs.celeryq.dev/en/stable/faq.html#faq-acks-late-vs-retry)
    - [Celery: Task.acks_late](https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late)
    """

    code = "CLY307"
    name = "acks-late-non-idempotent"
    scope = "file+"
    requires = (SideEffects,)

    VALID = [
        """
from celery import shared_task
from django.core.mail import send_mail

@shared_task
def receipt(address):
    send_mail("Receipt", "...", None, [address])

@shared_task(acks_late=True)
def reindex(pk):
    return pk
""",
        """
from celery import Celery
from django.core.mail import send_mail

app = Celery("proj")
app.conf.task_acks_late = True

@app.task(acks_late=False)
def receipt(address):
    send_mail("Receipt", "...", None, [address])
""",
    ]
    INVALID = [
        # Project-wide, in the Django settings the index reads.
        Example(
            """
from celery import shared_task
from django.core.mail import send_mail

@shared_task(name="shop.receipt", ignore_result=True)
def receipt(address):
    send_mail("Receipt", "...", None, [address])  # error
""",
            path="shop/tasks.py",
            files={"shop/settings.py": "CELERY_TASK_REJECT_ON_WORKER_LOST = True\n"},
        ),
        # A helper in another module of the project (file+).
        Example(
            """
from celery import shared_task
from shop.notify import post_webhook

@shared_task(name="shop.hook", acks_late=True, ignore_result=True)
def hook(url):
    post_webhook(url)  # error
""",
            path="shop/tasks.py",
            files={"shop/notify.py": "import requests\n\ndef post_webhook(url):\n    return requests.post(url, timeout=5)\n"},
        ),
        """
from celery import shared_task
from django.core.mail import send_mail

@shared_task(acks_late=True)
def receipt(address):
    send_mail("Receipt", "...", None, [address])  # error
""",
        """
from celery import Celery, Task
import httpx

class Durable(Task):
    reject_on_worker_lost = True

app = Celery("proj")

@app.task(base=Durable)
def hook(url):
    httpx.post(url)  # error
""",
        """
from celery import Celery
from django.core.mail import send_mail

app = Celery("proj")
app.conf.task_acks_late = True

@app.task
def receipt(address):
    send_mail("Receipt", "...", None, [address])  # error
""",
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._late: list[TaskDef] = []

    def task_leave(self, task: TaskDef) -> None:
        if task.func is not None and self._acks_late(task):
            self._late.append(task)

    def _acks_late(self, task: TaskDef) -> bool:
        values = [task.option(o) for o in LATE_ACK_OPTIONS]
        if any(v is True for v in values):
            return True
        if task.option("acks_late") is not None:  # explicitly False or opaque
            return False
        project = any(self.ctx.project_setting(s) is True for s in _PROJECT_LATE_ACK)
        return project and UNKNOWN not in values

    def module_leave(self) -> None:
        analysis: SideEffects = self.ctx.analyses[SideEffects]
        for task, effect in analysis.first_effects(self._late):
            self.report(
                effect.site,
                f"task `{task.name}` acknowledges late but {describe(effect)}; a redelivery after a worker crash repeats it; "
                "make it idempotent (an idempotency key) or acknowledge early",
            )
