from __future__ import annotations

import libcst as cst

from ..model.callgraph import waits_sink
from ..model.celery_api import CANVAS_CALLS, DISPATCH_METHODS, RESULT_WAIT_METHODS
from ..model.context import TaskDef, keyword_args, literal_value
from .base import Example, Rule



class ResultAwaitedInsideTask(Rule):
    """A task waits for another task's result.

    ## What it does
    Reports, inside a task's body, `.get()`/`.wait()`/`.join()` on the result of
    `.delay(...)`, `.apply_async(...)`, `send_task(...)` or a called `group(...)`/`chord`
    (directly, or through a local name bound to it), any
    `.get(disable_sync_subtasks=False)`, and `allow_join_result()`. `dict.get` and other
    `.get()` calls on values that are not task results are never reported.

    A call the task makes to a function of the project is followed (any depth, across
    modules, bounded): when that function (or one it calls) waits on a subtask's result,
    the task's call is reported and the message names the path and the line that waits.

    ## Why is this bad?
    The waiting task occupies a worker slot while the subtask needs one too. With all slots
    busy waiting, nothing runs the subtasks: the pool deadlocks. Celery raises
    `RuntimeError("Never call result.get() within a task!")` for the plain case; the
    escape hatches only hide the deadlock.

    ## Example
    ```python
    @shared_task
    def report(ids):
        parts = group(render.s(i) for i in ids)()
        return combine(parts.get())
    ```

    ## Use instead
    ```python
    @shared_task
    def report(ids):
        return chord(render.s(i) for i in ids)(combine.s())
    ```

    ## Options
    None.

    ## References
    - [Celery: Avoid launching synchronous subtasks](https://docs.celeryq.dev/en/stable/userguide/tasks.html#avoid-launching-synchronous-subtasks)
    """

    code = "CLY501"
    name = "result-awaited-inside-task"
    scope = "file+"

    VALID = [
        """
from celery import shared_task

@shared_task(name="proj.report")
def report(settings, ids):
    handle = render.delay(ids)
    timeout = settings.get("timeout")
    return handle.id, timeout

def view(ids):
    return render.delay(ids).get(timeout=10)
""",
    ]
    INVALID = [
        # Through a helper of another module.
        Example(
            """
from celery import shared_task
from shop.reports import totals

@shared_task(name="shop.report")
def report(ids):
    return totals(ids)  # error
""",
            path="shop/tasks.py",
            files={
                "shop/reports.py": (
                    "from shop.jobs import render\n\n"
                    "def totals(ids):\n    return [render.delay(i).get() for i in ids]\n"
                )
            },
        ),
        """
from celery import group, shared_task
from celery.result import allow_join_result

@shared_task(name="proj.report")
def report(ids):
    result = render.delay(ids)
    parts = group(render.s(i) for i in ids)()
    first = render.apply_async(args=(ids,)).get()  # error
    with allow_join_result():  # error
        return result.get(), parts.join()  # error
""",
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._results: dict[int, set[str]] = {}

    def task_enter(self, task: TaskDef) -> None:
        if task.func is not None:
            self._results[id(task.func)] = set()

    def task_leave(self, task: TaskDef) -> None:
        if task.func is not None:
            self._results.pop(id(task.func), None)

    def _names(self) -> set[str] | None:
        task = self.ctx.current_task
        return None if task is None or task.func is None else self._results.get(id(task.func))

    def _is_result(self, node: cst.BaseExpression, names: set[str]) -> bool:
        if isinstance(node, cst.Name):
            return node.value in names
        if not isinstance(node, cst.Call):
            return False
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in DISPATCH_METHODS:
            return True
        if isinstance(func, cst.Call):  # group(...)() / chord(...)(callback)
            inner = func.func
            name = inner.value if isinstance(inner, cst.Name) else inner.attr.value if isinstance(inner, cst.Attribute) else ""
            return name in CANVAS_CALLS
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        names = self._names()
        if names is None or not self._is_result(node.value, names):
            return
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                names.add(target.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        names = self._names()
        if names is None:
            return
        func = node.func
        if isinstance(func, cst.Name) and self.ctx.qualname(func) == "celery.result.allow_join_result":
            self.report(node, "`allow_join_result()` inside a task lets it wait on subtasks, which can deadlock the pool; "
                "chain the work (`chain`, `chord`) instead of waiting")
            return
        if not isinstance(func, cst.Attribute) or func.attr.value not in RESULT_WAIT_METHODS:
            self._through_helper(node)
            return
        keywords = keyword_args(node)
        sync = keywords.get("disable_sync_subtasks")
        if func.attr.value == "get" and sync is not None and literal_value(sync.value) is False:
            self.report(node, "`.get(disable_sync_subtasks=False)` inside a task waits on a subtask, which can deadlock the pool; "
                "chain the work (`chain`, `chord`) instead of waiting")
        elif self._is_result(func.value, names):
            self.report(node, f"`.{func.attr.value}()` on a subtask's result inside a task can deadlock the worker pool; "
                "chain the work (`chain`, `chord`) instead of waiting")

    def _through_helper(self, node: cst.Call) -> None:
        if self.ctx.is_decorator(node) or (isinstance(node.func, cst.Attribute) and node.func.attr.value in DISPATCH_METHODS):
            return
        reach = self.ctx.reach(node.func, waits_sink)
        if reach is not None:
            task = self.ctx.current_task
            name = task.name if task is not None else "?"
            self.report(
                node,
                f"task `{name}` waits on a subtask's result through `{reach.chain()}` ({reach.where}), which can deadlock the pool; "
                "chain the work (`chain`, `chord`) instead of waiting",
            )
