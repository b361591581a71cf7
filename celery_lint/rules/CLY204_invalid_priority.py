from __future__ import annotations

import libcst as cst

from ..model.context import UNKNOWN, Dispatch, TaskDef, literal_value
from .base import DISPATCH_NEEDLES, TASK_DEFINITION_NEEDLES, Rule, TextPattern


class InvalidPriority(Rule):
    """`priority` that is not an integer in Celery's range.

    ## What it does
    Reports a literal `priority=` on a task decorator or a dispatch call that is not an
    integer (a string, a float, `True`) or lies outside 0..255, and, as not portable, one
    outside 0..9 (Redis and RabbitMQ queues declared with `x-max-priority` up to 10 only
    honour 0..9; RabbitMQ allows up to 255).

    ## Why is this bad?
    Brokers compare priorities as small integers. A string or a value out of range is
    rejected by the transport at publish time, or silently clamped, so "urgent" work is not
    prioritised at all.

    ## Example
    ```python
    @shared_task(priority="high")
    def alert(): ...
    ```

    ## Use instead
    ```python
    @shared_task(priority=9)
    def alert(): ...
    ```

    ## Options
    None.

    ## References
    - [Celery: Message priorities](https://docs.celeryq.dev/en/stable/userguide/routing.html#routing-options-rabbitmq-priorities)
    - [Celery: Redis message priorities](https://docs.celeryq.dev/en/stable/userguide/routing.html#redis-message-priorities)
    """

    code = "CLY204"
    in_tests = True
    name = "invalid-priority"
    # A task or a dispatch must be in the file (Django models have `priority=` fields too)...
    needles = (*TASK_DEFINITION_NEEDLES, *DISPATCH_NEEDLES, ".s(", ".si(", "signature(")
    # ...and `priority=` as a keyword argument, not a `priority = ...` field.
    text_pattern = TextPattern((r"\bpriority=", ("priority=",)))

    VALID = [
        """
from celery import shared_task

@shared_task(name="proj.alert", priority=9)
def alert(level):
    return level

def view(p):
    alert.apply_async(args=(1,), priority=0)
    alert.apply_async(args=(1,), priority=p)
""",
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task(name="proj.alert", priority="high")  # error
def alert(level):
    return level

def view():
    alert.apply_async(args=(1,), priority=300)  # error
    alert.apply_async(args=(1,), priority=20)  # error
""",
    ]

    def task_enter(self, task: TaskDef) -> None:
        if "priority" in task.options:
            self._check(task.options["priority"])

    def dispatch(self, dispatch: Dispatch) -> None:
        if "priority" in dispatch.keywords:
            self._check(dispatch.keywords["priority"])

    def _check(self, arg: cst.Arg) -> None:
        value = literal_value(arg.value)
        if value is None or value is UNKNOWN:
            return
        if not isinstance(value, int) or isinstance(value, bool):
            self.report(arg.value, f"`priority={value!r}` is not an integer; brokers take 0..255 (0..9 to be portable); give an integer")
        elif not 0 <= value <= 255:
            self.report(arg.value, f"`priority={value}` is outside 0..255, the range any broker accepts; use 0..9")
        elif value > 9:
            self.report(arg.value, f"`priority={value}` is not portable: Redis and most queues honour only 0..9; use 0..9")



