from __future__ import annotations

import libcst as cst

from ..model.context import TaskDef
from ..model.side_effects import SideEffects, describe
from .base import Rule


class AutoretryNonIdempotent(Rule):
    """A retrying task performs a non-idempotent side effect.

    ## What it does
    Reports a task that retries (`autoretry_for=` is set, or its body calls
    `self.retry(...)`/`<task>.retry(...)`) and calls an API whose repetition repeats a
    side effect: `requests`/`httpx` `post`/`put`/`patch`/`delete`, Django's `send_mail`,
    `send_mass_mail`, `EmailMessage(...).send()`, `smtplib` sends, Stripe/Braintree
    charges, SNS/SES/SQS sends, Twilio and Slack messages. Calls are resolved through
    imports and simple local bindings (`client = boto3.client("ses")`), and the project
    functions the task calls count too, to any depth and across modules (bounded; see
    "Calls through helpers" in the README): the finding is at the task's call and names
    the path and the line of the API call (`notify() -> send_receipt() ->
    django.core.mail.send_mail`, `shop/mail.py:12`). The rule stays silent when the task
    shows an idempotency key (`idempotency_key=`, an `Idempotency-Key` header); a helper
    that shows one is not followed. One finding per task, at the first such call.

    ## Why is this bad?
    A retry runs the whole task again. If the failure happened after the side effect (the
    e-mail was sent, the card was charged, then the database write timed out), the retry
    sends the e-mail again or charges the card twice.

    ## Example
    ```python
    @shared_task(autoretry_for=(RequestException,), retry_backoff=True)
    def charge(order_id):
        order = Order.objects.get(pk=order_id)
        stripe.PaymentIntent.create(amount=order.total, currency="eur")
        order.mark_paid()
    ```

    ## Use instead
    ```python
    @shared_task(autoretry_for=(RequestException,), retry_backoff=True)
    def charge(order_id):
        order = Order.objects.get(pk=order_id)
        stripe.PaymentIntent.create(
            amount=order.total, currency="eur", idempotency_key=f"order-{order_id}"
        )
        order.mark_paid()
    ```

    ## Options
    - `non-idempotent-calls`: more glob patterns of dotted call names
      (`myapp.sms.send`, `vendor.*Client().submit`); `*` spans dots, a call on an instance
      is written `Class().method`.

    ## References
    - [Celery: Retrying](https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying)
    - [Celery: Automatic retry for known exceptions](https://docs.celeryq.dev/en/stable/userguide/tasks.html#automatic-retry-for-known-exceptions)
    - [Stripe: Idempotent requests](https://docs.stripe.com/api/idempotent_requests)
    """

    code = "CLY306"
    name = "autoretry-non-idempotent"
    scope = "file+"
    requires = (SideEffects,)

    VALID = [
        """
import requests
import stripe
from celery import shared_task

@shared_task(autoretry_for=(IOError,))
def charge(order_id):
    stripe.PaymentIntent.create(amount=1, idempotency_key=f"order-{order_id}")

@shared_task(autoretry_for=(IOError,))
def fetch(url):
    return requests.get(url, timeout=5).json()

@shared_task
def notify(url):
    requests.post(url, timeout=5)
""",
        # `post` on something that is not requests/httpx.
        """
from celery import shared_task

@shared_task(autoretry_for=(IOError,))
def publish(blog):
    blog.post("hello")
""",
    ]
    INVALID = [
        """
import requests
from celery import shared_task
from django.core.mail import EmailMessage

@shared_task(autoretry_for=(IOError,), retry_backoff=True)
def notify(url):
    requests.post(url, json={}, timeout=5)  # error

@shared_task(bind=True)
def welcome(self, address):
    message = EmailMessage("Hi", "Welcome", to=[address])
    try:
        message.send()  # error
    except OSError as exc:
        raise self.retry(exc=exc)
""",
        """
import boto3
from celery import shared_task

def _publish(topic, body):
    sns = boto3.client("sns")
    sns.publish(TopicArn=topic, Message=body)

@shared_task(autoretry_for=(Exception,))
def announce(topic):
    _publish(topic, "release")  # error
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        if task.func is not None:
            self._retrying.setdefault(id(task.func), False)

    def visit_Call(self, node: cst.Call) -> None:
        task = self.ctx.task_retried_by(node)
        if task is not None and task.func is not None:
            self._retrying[id(task.func)] = True

    def task_leave(self, task: TaskDef) -> None:
        if task.func is None:
            return
        autoretry = task.option("autoretry_for")
        retries = self._retrying.pop(id(task.func), False) or (autoretry is not None and autoretry != ())
        if not retries:
            return
        self._pending.append(task)

    def module_leave(self) -> None:
        analysis: SideEffects = self.ctx.analyses[SideEffects]
        for task, effect in analysis.first_effects(self._pending):
            self.report(effect.site, f"task `{task.name}` retries but {describe(effect)}; a retry repeats it; "
                "make it idempotent (an idempotency key) or retry only the work before it")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._retrying: dict[int, bool] = {}
        self._pending: list[TaskDef] = []



