from __future__ import annotations

import libcst as cst

from ..model.context import Dispatch, positional_args
from ..model.project import IndexedTask
from .base import DISPATCH_NEEDLES, Example, Rule

_WAIT_METHODS = frozenset({"get", "wait", "ready", "successful", "failed", "join"})
_STATE_ATTRIBUTES = frozenset({"result", "status", "state", "info"})
_CHORD = frozenset({"celery.chord", "celery.canvas.chord"})


class IgnoredResultAwaited(Rule):
    """Result of a task that ignores results is read, or used in a chord.

    ## What it does
    Reports `.get()`/`.wait()`/`.ready()`/`.successful()`/`.failed()` and the
    `.result`/`.status`/`.state` attributes on the `AsyncResult` of a dispatch
    (`t.delay(...).get()`, or `r = t.delay(...)` then `r.get()` in the same function)
    when task `t` ignores its result: `ignore_result=True` on the task, or the project's
    `task_ignore_result = True` with no `ignore_result=False` on the task. Also reports
    such a task's signature in the header of a `chord(...)`. The task is found through
    the project index. `AsyncResult(task_id)` built from an id is not followed.

    ## Why is this bad?
    Nothing is stored for a task that ignores results: `get()` waits until its timeout
    (forever by default), `ready()` stays False and the state stays `PENDING`. A chord
    counts its header's results in the backend, so its callback never fires.

    ## Example
    ```python
    # shop/tasks.py: @shared_task(ignore_result=True) def render(pk): ...
    html = render.delay(page.pk).get(timeout=10)
    ```

    ## Use instead
    ```python
    # the task must store its result to be awaited
    @shared_task(ignore_result=False)
    def render(pk): ...
    ```

    ## Options
    - `project-index`: the index this rule needs (default true).

    ## References
    - [Celery: Task.ignore_result](https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.ignore_result)
    - [Celery: Chords (important notes)](https://docs.celeryq.dev/en/stable/userguide/canvas.html#chords)
    """

    code = "CLY503"
    name = "ignored-result-awaited"
    scope = "project"
    needles = (*DISPATCH_NEEDLES, "chord")
    text_pattern = None

    _TASKS = {
        "shop/tasks.py": """
from celery import shared_task

@shared_task(name="shop.render", ignore_result=True)
def render(pk):
    return pk

@shared_task(name="shop.total")
def total(pk):
    return pk
""",
    }
    VALID = [
        Example(
            """
from celery import chord
from shop.tasks import render, total

def view(page, cache):
    render.delay(page.pk)
    value = total.delay(page.pk).get(timeout=5)
    result = total.delay(page.pk)
    chord([total.s(i) for i in range(3)])(total.s())
    return cache.get(page.pk), result.get(), value
""",
            path="shop/views.py",
            files=_TASKS,
        ),
    ]
    INVALID = [
        Example(
            """
from celery import chord
from shop.tasks import render, total

def view(page):
    html = render.delay(page.pk).get(timeout=10)  # error
    pending = render.apply_async(args=(page.pk,))
    if pending.ready():  # error
        return pending.result  # error
    chord([render.s(1), total.s(2)])(total.s())  # error
    return html
""",
            path="shop/views.py",
            files=_TASKS,
        ),
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._dispatched: dict[int, IndexedTask] = {}
        self._names: dict[tuple[int, str], IndexedTask] = {}

    def dispatch(self, dispatch: Dispatch) -> None:
        task = self._ignoring(dispatch.task_expr, dispatch.task_name)
        if task is not None and not dispatch.via_signature:
            self._dispatched[id(dispatch.call)] = task

    def leave_Assign(self, node: cst.Assign) -> None:
        task = self._dispatched.get(id(node.value))
        scope = id(self.ctx.current_function)
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                key = (scope, target.target.value)
                if task is not None:
                    self._names[key] = task
                else:
                    self._names.pop(key, None)  # rebound to something else

    def leave_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _WAIT_METHODS:
            task = self._result_of(func.value)
            if task is not None:
                self.report(node, f"`.{func.attr.value}()` on a result of `{task.function}`, which ignores results ({task.where()}): {_EFFECT[func.attr.value]}; {_STORE}")
        elif self.ctx.qualname(func) in _CHORD:
            header = positional_args(node)[0].value if positional_args(node) else None
            if isinstance(header, (cst.List, cst.Tuple)):
                for element in header.elements:
                    task = self._signature_task(element.value)
                    if task is not None:
                        self.report(element.value, f"`{task.function}` ignores results ({task.where()}) but is in a chord header: the chord callback never runs; {_STORE}")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _STATE_ATTRIBUTES:
            task = self._result_of(node.value)
            if task is not None:
                self.report(node, f"`.{node.attr.value}` of a result of `{task.function}`, which ignores results ({task.where()}): it stays PENDING/None; {_STORE}")

    # -- helpers ------------------------------------------------------------------------

    def _result_of(self, node: cst.BaseExpression) -> IndexedTask | None:
        if isinstance(node, cst.Call):
            return self._dispatched.get(id(node))
        if isinstance(node, cst.Name):
            return self._names.get((id(self.ctx.current_function), node.value))
        return None

    def _signature_task(self, node: cst.BaseExpression) -> IndexedTask | None:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("s", "si", "signature"):
            return self._ignoring(node.func.value, None)
        return None

    def _ignoring(self, expr: cst.BaseExpression | None, name: str | None) -> IndexedTask | None:
        """The indexed task named by ``expr`` (or ``name``), if it ignores its results."""
        task = self.ctx.indexed_task(expr, name)
        if task is None or task.opaque:
            return None
        own = task.option("ignore_result")
        if own is True:
            return task
        if own is None and self.ctx.project_setting("task_ignore_result") is True:
            return task
        return None


_EFFECT = {
    "get": "nothing is stored, so it waits until its timeout (forever by default)",
    "wait": "nothing is stored, so it waits until its timeout (forever by default)",
    "join": "nothing is stored, so it waits until its timeout (forever by default)",
    "ready": "nothing is stored, so it is never ready",
    "successful": "nothing is stored, so it is never successful",
    "failed": "nothing is stored, so it never reports a failure",
}
#: What to do, for every message.
_STORE = "store its results (`ignore_result=False`) or stop waiting on them"
