from __future__ import annotations

from typing import Any

import libcst as cst

from ..model.context import Dispatch, keyword_args, positional_args, string_value
from ..model.project import IndexedTask
from .base import DISPATCH_NEEDLES, Example, Rule


class CallSignatureMismatch(Rule):
    """Task called with arguments its signature cannot take.

    ## What it does
    Reports `.delay(...)`, `.apply_async(args, kwargs)`, `send_task(name, args, kwargs)`
    and `.s(...)`/`.si(...)` whose literal arguments cannot bind to the task function's
    parameters: too many positional arguments, a keyword the function does not have, a
    value given twice, or (not for signatures, which may be completed later) a required
    parameter left out. The bound parameter of a `bind=True` task is skipped. The task is
    found through the project index: by import, by definition in the same file, or by
    the literal name given to `send_task`. Calls with `*args`/`**kwargs` or non-literal
    `args=`/`kwargs=` are not checked, nor are tasks whose function has another decorator
    besides the task decorator (a wrapper may add or consume arguments).

    ## Why is this bad?
    Nothing checks the arguments when the message is sent. The worker raises `TypeError`
    when it runs the task, after the web request has returned, and the work is lost
    (or retried forever with the same wrong arguments). It happens when a task's
    signature changes and one of its callers, usually in another module, is missed.

    ## Example
    ```python
    # shop/tasks.py: def send_receipt(order_id, *, resend=False)
    send_receipt.delay(order.pk, user.pk)
    ```

    ## Use instead
    ```python
    send_receipt.delay(order.pk)
    ```

    ## Options
    - `project-index`: the index this rule needs (default true).

    ## References
    - [Celery: Calling tasks](https://docs.celeryq.dev/en/stable/userguide/calling.html)
    """

    code = "CLY407"
    name = "call-signature-mismatch"
    scope = "project"
    needles = (*DISPATCH_NEEDLES, ".s(", ".si(")
    text_pattern = None

    _TASKS = {
        "shop/tasks.py": """
from celery import shared_task

@shared_task(name="shop.send_receipt", ignore_result=True)
def send_receipt(order_id, *, resend=False):
    print(order_id, resend)

@shared_task(name="shop.sync", bind=True, ignore_result=True)
def sync(self, pk, full=False):
    print(pk, full)

@shared_task(name="shop.traced", ignore_result=True)
@with_telemetry  # may inject `context`: the signature is not known
def traced(pk, context):
    print(pk, context)
""",
    }
    VALID = [
        Example(
            """
from celery import Celery, chain
from shop.tasks import send_receipt, sync, traced

app = Celery("shop")

def checkout(order, args):
    send_receipt.delay(order.pk)
    send_receipt.delay(order.pk, resend=True)
    send_receipt.apply_async(args=(order.pk,), kwargs={"resend": True}, queue="mail")
    send_receipt.apply_async(args, queue="mail")
    sync.delay(order.pk, full=True)
    app.send_task("shop.sync", args=(1,), ignore_result=True)
    chain(sync.s(), send_receipt.s())()
    send_receipt.delay(*args)
    traced.delay(order.pk)
""",
            path="shop/views.py",
            files=_TASKS,
        ),
    ]
    INVALID = [
        Example(
            """
from celery import Celery
from shop.tasks import send_receipt, sync

app = Celery("shop")

def checkout(order):
    send_receipt.delay(order.pk, order.user_id)  # error
    send_receipt.delay()  # error
    send_receipt.apply_async(args=(order.pk,), kwargs={"resent": True}, queue="mail")  # error
    sync.delay(order.pk, pk=order.pk)  # error
    app.send_task("shop.sync", args=(1, 2, 3), ignore_result=True)  # error
    sync.s(1, 2, 3).delay()  # error
""",
            path="shop/views.py",
            files=_TASKS,
        ),
    ]

    def dispatch(self, dispatch: Dispatch) -> None:
        if dispatch.via_signature or self.ctx.index is None:
            return
        call = dispatch.call
        if dispatch.method == "send_task":
            task = self.ctx.indexed_task(name=dispatch.task_name)
            positional = positional_args(call)
            args = _literal_args(positional[1].value if len(positional) > 1 else _kw(call, "args"))
            kwargs = _literal_kwargs(positional[2].value if len(positional) > 2 else _kw(call, "kwargs"))
        elif dispatch.method in ("apply_async", "apply_async_on_commit"):
            task = self.ctx.dispatched_task(dispatch)
            positional = positional_args(call)
            args = _literal_args(positional[0].value if positional else _kw(call, "args"))
            kwargs = _literal_kwargs(positional[1].value if len(positional) > 1 else _kw(call, "kwargs"))
        elif dispatch.method in ("delay", "delay_on_commit"):
            task = self.ctx.dispatched_task(dispatch)
            if any(arg.star for arg in call.args):
                return
            args = len(positional_args(call))
            kwargs = list(keyword_args(call))
        else:
            return
        if task is None or args is None or kwargs is None:
            return
        self._check(call, dispatch.display(), task, args, kwargs, partial=False)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.ctx.index is None or not isinstance(func, cst.Attribute) or func.attr.value not in ("s", "si"):
            return
        if any(arg.star for arg in node.args):
            return
        task = self.ctx.indexed_task(func.value)
        if task is not None:
            shown = f"`{cst.Module([]).code_for_node(func.value)}.{func.attr.value}(...)`"
            self._check(node, shown, task, len(positional_args(node)), list(keyword_args(node)), partial=True)

    # -- checking ---------------------------------------------------------------------

    def _check(self, node: cst.CSTNode, shown: str, task: IndexedTask, args: int, kwargs: list[str], *, partial: bool) -> None:
        params = task.params
        if params is None or task.opaque:
            return
        problem = _bind(params, task.option("bind") is True, args, kwargs, partial)
        if problem:
            self.report(node, f"{shown} cannot run `{task.function}` ({task.where()}): {problem}; make the call match the signature")


def _kw(call: cst.Call, name: str) -> cst.BaseExpression | None:
    arg = keyword_args(call).get(name)
    return arg.value if arg is not None else None


def _literal_args(node: cst.BaseExpression | None) -> int | None:
    """Number of positional arguments in a literal ``args``; None when not literal."""
    if node is None or (isinstance(node, cst.Name) and node.value == "None"):
        return 0
    if isinstance(node, (cst.Tuple, cst.List)) and all(isinstance(e, cst.Element) for e in node.elements):
        return len(node.elements)
    return None


def _literal_kwargs(node: cst.BaseExpression | None) -> list[str] | None:
    if node is None or (isinstance(node, cst.Name) and node.value == "None"):
        return []
    if isinstance(node, cst.Dict):
        keys = [string_value(e.key) if isinstance(e, cst.DictElement) else None for e in node.elements]
        return None if any(k is None for k in keys) else keys  # type: ignore[return-value]
    return None


def _bind(params: dict[str, Any], bound: bool, args: int, kwargs: list[str], partial: bool) -> str | None:
    positional = list(params["positional"])
    required = params["required"]
    if bound and positional:
        positional = positional[1:]
        required = max(required - 1, 0)
    signature = ", ".join(positional)
    if args > len(positional) and not params["varargs"]:
        given = "was" if args == 1 else "were"
        return f"it takes {len(positional)} positional argument{'s' if len(positional) != 1 else ''} ({signature}) but {args} {given} given"
    covered = set(positional[:args])
    for name in kwargs:
        if name in covered:
            return f"`{name}` is given both by position and by keyword"
        if name not in positional and name not in params["kwonly"] and not params["varkw"]:
            return f"it has no parameter `{name}`"
    if partial:
        return None
    missing = [p for p in positional[:required] if p not in covered and p not in kwargs]
    missing += [k for k in params["required_kwonly"] if k not in kwargs]
    if missing:
        return "missing required argument" + ("s " if len(missing) > 1 else " ") + ", ".join(f"`{m}`" for m in missing)
    return None
