from __future__ import annotations

import libcst as cst

from ..model.celery_api import EXECUTION_OPTIONS
from ..model.context import Dispatch
from ..model.edits import SAFE, UNSAFE, Fix, keyword_arg, replace, string
from .base import DISPATCH_NEEDLES, Rule


class ExecutionOptionPassedToDelay(Rule):
    """`.delay(...)` given an execution option (`countdown=`, `queue=`, ...).

    ## What it does
    Reports a keyword of `task.delay(...)` that is an `apply_async` execution option
    (`countdown`, `eta`, `expires`, `queue`, `priority`, `routing_key`, `exchange`,
    `retry`, `retry_policy`, `link`, `link_error`, `ignore_result`, `time_limit`,
    `soft_time_limit`, `task_id`, `headers`, `serializer`, `compression`, `shadow`). When
    the task is defined in the same file and has a parameter of that name (or `**kwargs`),
    the keyword is an argument and is not reported; with the project index the task's
    real parameters decide for tasks in other modules.

    ## Why is this bad?
    `delay(*args, **kwargs)` passes every keyword to the task. `send.delay(user_id,
    countdown=60)` runs at once and calls `send(user_id, countdown=60)`, which fails with
    `TypeError: unexpected keyword argument 'countdown'` in the worker.

    ## Example
    ```python
    send_reminder.delay(user.pk, countdown=3600)
    ```

    ## Use instead
    ```python
    send_reminder.apply_async(args=(user.pk,), countdown=3600)
    ```

    ## Fix safety
    Safe only under the guard: the task is known and has no such parameter; the fix
    rewrites the call to `apply_async(args=..., kwargs=..., <option>=...)`.

    ## Options
    None.

    ## References
    - [Celery: Calling tasks (delay vs apply_async)](https://docs.celeryq.dev/en/stable/userguide/calling.html#basics)
    """

    code = "CLY208"
    in_tests = True
    name = "execution-option-passed-to-delay"
    scope = "file+"
    fix = "safe"
    needles = DISPATCH_NEEDLES
    text_pattern = None

    VALID = [
        """
from celery import shared_task
from proj.tasks import remind

@shared_task(name="proj.route")
def route(order_id, queue):
    return queue

@shared_task(name="proj.any")
def anything(**options):
    return options

route.delay(1, queue="fast")
anything.delay(countdown=3)
remind.apply_async(args=(1,), countdown=60)
remind.delay(1, note="x")
""",
    ]
    INVALID = [
        """
from celery import shared_task
from proj.tasks import remind

@shared_task(name="proj.send")
def send(user_id):
    return user_id

send.delay(1, countdown=60)  # error
remind.delay(1, queue="emails")  # error
""",
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pending: list[Dispatch] = []

    def dispatch(self, dispatch: Dispatch) -> None:
        if dispatch.method == "delay" and dispatch.names_a_task and EXECUTION_OPTIONS & set(dispatch.keywords):
            self._pending.append(dispatch)

    def module_leave(self) -> None:
        for dispatch in self._pending:  # tasks defined further down are known by now
            params = _parameters(dispatch.task.func) if dispatch.task and dispatch.task.func else self._indexed(dispatch)
            reported = [
                k for k in sorted(EXECUTION_OPTIONS & set(dispatch.keywords))
                if params is None or (k not in params and "**" not in params)
            ]
            fix = _to_apply_async(dispatch.call, set(reported), SAFE if params is not None else UNSAFE) if reported else None
            for keyword in reported:
                arg = dispatch.keywords[keyword]
                assert arg.keyword is not None
                self.report(
                    arg.keyword,
                    f"`.delay()` passes `{keyword}=` to the task as an argument, not as an execution option; "
                    "use `apply_async(args=..., " + keyword + "=...)`",
                    fix,
                )


    def _indexed(self, dispatch: Dispatch) -> set[str] | None:
        """The parameters of an imported task, from the project index (file+)."""
        task = self.ctx.dispatched_task(dispatch)
        if task is None or task.params is None or task.opaque:
            return None
        names = {*task.params["positional"], *task.params["kwonly"]}
        if task.params["varkw"]:
            names.add("**")
        return names


def _parameters(func: cst.FunctionDef) -> set[str]:
    params = func.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    if isinstance(params.star_kwarg, cst.Param):
        names.add("**")
    return names


def _to_apply_async(call: cst.Call, options: set[str], applicability: str) -> Fix | None:
    """``t.delay(a, b, k=v, countdown=5)`` -> ``t.apply_async(args=(a, b), kwargs={"k": v}, countdown=5)``.

    Safe when the task is defined in this file (its parameters are known and none is
    named like the option); otherwise unsafe. No fix for ``*args``/``**kwargs``.
    """
    if any(arg.star for arg in call.args) or not isinstance(call.func, cst.Attribute):
        return None
    positional = [a.value for a in call.args if a.keyword is None]
    keywords = [a for a in call.args if a.keyword is not None]
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    new_args: list[cst.Arg] = []
    if positional:
        elements = [cst.Element(v, comma=space) for v in positional]
        elements[-1] = elements[-1].with_changes(comma=cst.Comma() if len(elements) == 1 else cst.MaybeSentinel.DEFAULT)
        new_args.append(keyword_arg("args", cst.Tuple(elements)))
    task_kwargs = [a for a in keywords if a.keyword.value not in options]  # type: ignore[union-attr]
    if task_kwargs:
        items = [cst.DictElement(string(a.keyword.value), a.value, comma=space) for a in task_kwargs]  # type: ignore[union-attr]
        items[-1] = items[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        new_args.append(keyword_arg("kwargs", cst.Dict(items)))
    new_args.extend(keyword_arg(a.keyword.value, a.value) for a in keywords if a.keyword.value in options)  # type: ignore[union-attr]
    new_args = [a.with_changes(comma=space) for a in new_args[:-1]] + new_args[-1:]
    new = call.with_changes(func=call.func.with_changes(attr=cst.Name("apply_async")), args=new_args)
    return replace(call, new, "Use `apply_async()` with the option as an execution option", applicability)
