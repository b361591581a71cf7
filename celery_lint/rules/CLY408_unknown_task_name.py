from __future__ import annotations

import libcst as cst

from ..model.celery_api import SIGNATURE_FUNCTIONS
from ..model.context import Dispatch, positional_args
from .base import DISPATCH_NEEDLES, Example, Rule, TextPattern



class UnknownTaskName(Rule):
    """`send_task("name")`/`signature("name")` naming no task in the project.

    ## What it does
    Reports a literal task name passed to `send_task(...)`, `app.signature(...)`,
    `celery.signature(...)`/`Signature(...)` that no task in the project registers
    (explicit `name=` or the generated `<module>.<function>`). When the string is the
    import path of a task that has a different explicit name, the message says so; for
    a misspelling it suggests the closest registered name.

    Names served by other services go in `external-tasks` (globs); a dotted name whose
    first part is neither a package of the project nor the prefix of any registered name
    (`post_office.tasks.send_queued_mail`, a library's task) is left alone. The rule is silent
    without the project index, and when some task's `name=` is not a literal (the name
    could be any string).

    ## Why is this bad?
    `send_task` does not check the name: the message is published, and the worker logs
    `Received unregistered task` and drops it. Renaming a task, or giving it an explicit
    name, breaks every caller that spelt the old one.

    ## Example
    ```python
    app.send_task("shop.tasks.send_receipt", args=(order.pk,))  # registered as "shop.send_receipt"
    ```

    ## Use instead
    ```python
    app.send_task("shop.send_receipt", args=(order.pk,))
    ```

    ## Options
    - `external-tasks`: globs of task names that other services serve.
    - `project-index`: the index this rule needs (default true).

    ## Fix safety
    Safe when the string is the import path of exactly one task: the fix writes that
    task's registered name, which is what the worker runs for it. Closest-name
    suggestions are not fixed.

    ## References
    - [Celery: send_task](https://docs.celeryq.dev/en/stable/reference/celery.html#celery.Celery.send_task)
    - [Celery: Task names](https://docs.celeryq.dev/en/stable/userguide/tasks.html#names)
    """

    code = "CLY408"
    name = "unknown-task-name"
    scope = "project"
    fix = "safe"
    needles = (*DISPATCH_NEEDLES, "signature(", "Signature(")
    text_pattern = TextPattern(
        (r"send_task\(|(?<!\w)signature\(|(?<!\w)subtask\(|Signature\(", ("send_task(", "signature(", "subtask(", "Signature("))
    )

    VALID = [
        Example(
            """
from celery import Celery, signature

app = Celery("shop")

def checkout(order):
    app.send_task("shop.send_receipt", args=(order.pk,), ignore_result=True)
    app.send_task("billing.charge", args=(order.pk,), ignore_result=True)
    signature("shop.tasks.cleanup")
    app.send_task(order.task_name)
""",
            path="shop/views.py",
            options={"external-tasks": ["billing.*"]},
            files={
                "shop/tasks.py": """
from celery import shared_task

@shared_task(name="shop.send_receipt")
def send_receipt(pk):
    return pk

@shared_task
def cleanup():
    return 1
""",
            },
        ),
    ]
    INVALID = [
        Example(
            """
from celery import Celery

app = Celery("shop")

def checkout(order):
    app.send_task("shop.tasks.send_receipt", args=(order.pk,), ignore_result=True)  # error
    app.send_task("shop.send_reciept", args=(order.pk,), ignore_result=True)  # error
    app.signature("shop.refund").delay()  # error
""",
            path="shop/views.py",
            files={
                "shop/tasks.py": """
from celery import shared_task

@shared_task(name="shop.send_receipt")
def send_receipt(pk):
    return pk
""",
            },
        ),
    ]

    def dispatch(self, dispatch: Dispatch) -> None:
        if dispatch.method != "send_task" or dispatch.via_signature:
            return
        positional = positional_args(dispatch.call)
        arg = positional[0] if positional else dispatch.keywords.get("name")
        if arg is not None:
            self._check(arg.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("signature", "subtask"):
            if not self.ctx.is_app(func.value):
                return
        elif self.ctx.qualname(func) not in SIGNATURE_FUNCTIONS:
            return
        positional = positional_args(node)
        if positional:
            self._check(positional[0].value)

    def _check(self, node: cst.BaseExpression) -> None:
        problem = self.ctx.unknown_task_literal(node)
        if problem is not None:
            message, fix, action = problem
            self.report(node, f"{message}; {action}" if action else message, fix)
