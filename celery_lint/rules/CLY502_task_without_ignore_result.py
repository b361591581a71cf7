from __future__ import annotations

import libcst as cst

from ..model.context import TaskDef, literal_value
from ..model.definitions import retry_receiver
from ..model.edits import UNSAFE, replace, with_keyword
from .base import Example, Rule


class TaskWithoutIgnoreResult(Rule):
    """Task that returns nothing but has its result stored.

    ## What it does
    In the default mode `no-return`, reports a task without an explicit `ignore_result=`
    (on the decorator or a `base=` class of the same file) whose own body never returns a
    value: no `return <expr>` other than `return None`, no `yield`, no `self.replace(...)`
    (the replacing signature's result becomes the task's). Returns inside nested
    functions do not count. In mode `strict`, every task without an explicit
    `ignore_result=` is reported. The rule is silent in a file that sets
    `task_ignore_result` (`app.conf`, `Celery(...)`, `CELERY_TASK_IGNORE_RESULT`); with the
    project index it also knows the project's setting, and a task whose result is awaited
    anywhere in the project (`t.delay(...).get()`, `r = t.apply_async(...)` then
    `r.get()`, `send_task("name").get()`) is not reported: its caller waits for it.

    ## Why is this bad?
    Celery stores every task's state and return value in the result backend unless told
    not to. For a task that returns nothing, that is a write per run for a `None` nobody
    reads, plus the key's memory until `result_expires`.

    ## Example
    ```python
    @shared_task
    def send_welcome(user_id):
        mail_user(user_id)
    ```

    ## Use instead
    ```python
    @shared_task(ignore_result=True)
    def send_welcome(user_id):
        mail_user(user_id)
    ```

    ## Fix safety
    Unsafe: a caller elsewhere may wait on the result (`.get()`), which would then block.

    ## Options
    - `ignore-result-mode`: `no-return` (default), `strict` or `off`.
    - `result-backend`: `auto` (default), `configured` or `none`. Results exist only where a
      result backend does. With `auto` the rule is silent when the project's code disables
      the backend (`result_backend`/`CELERY_RESULT_BACKEND` set to `None` or `"disabled"`,
      or read from the environment without a default, as
      `os.environ.get("CELERY_RESULT_BACKEND")`), or sets none anywhere (Celery's default is
      no backend; this needs the project index). Set `configured` when the backend comes
      from outside the code (the `CELERY_RESULT_BACKEND` environment variable).
      The rule is also silent when the project sets `task_track_started` or
      `result_extended` (`CELERY_TASK_TRACK_STARTED = True`): those only change what the
      backend holds, so something reads it (Flower, a status page), and `ignore_result=True`
      would drop the very states it reads.

    ## References
    - [Celery: Ignore results you don't want](https://docs.celeryq.dev/en/stable/userguide/tasks.html#ignore-results-you-don-t-want)
    """

    code = "CLY502"
    name = "task-without-ignore-result"
    scope = "file+"
    fix = "unsafe"

    VALID = [
        # The project tracks started states: something reads the backend.
        Example(
            """
from celery import shared_task

@shared_task(name="shop.sync")
def sync(pk):
    print(pk)
""",
            path="shop/tasks.py",
            files={"shop/settings.py": 'CELERY_RESULT_BACKEND = "redis://"\nCELERY_TASK_TRACK_STARTED = True\n'},
        ),
        # `self.replace(...)` hands the task's result to the signature that replaces it.
        Example(
            """
from celery import shared_task

@shared_task(bind=True)
def fan_out(self, ids):
    raise self.replace(process.s(ids))
""",
            options={"result-backend": "configured"},
        ),
        # The project disables the result backend.
        Example(
            """
from celery import shared_task

@shared_task
def notify(user_id):
    print(user_id)
""",
            files={"proj/settings.py": "CELERY_RESULT_BACKEND = None  # we don't need to store the results\n"},
        ),
        # With the index: another module waits for the task to finish.
        Example(
            """
from celery import shared_task

@shared_task(name="shop.rebuild")
def rebuild():
    print("rebuilt")
""",
            path="shop/tasks.py",
            files={"shop/admin.py": "from shop.tasks import rebuild\n\ndef action():\n    rebuild.delay().get(timeout=60)\n"},
        ),
        """
from celery import shared_task

@shared_task
def add(x, y):
    return x + y

@shared_task(ignore_result=True)
def notify(user_id):
    print(user_id)

@shared_task
def stream(n):
    yield n
""",
        """
from celery import Celery

app = Celery("proj")
app.conf.task_ignore_result = True

@app.task
def notify(user_id):
    print(user_id)
""",
        Example(
            """
from celery import shared_task

@shared_task
def notify(user_id):
    print(user_id)
""",
            options={"ignore-result-mode": "off"},
        ),
    ]
    INVALID = [
        Example(
            """
from celery import shared_task

@shared_task  # error
def notify(user_id):
    def helper():
        return 1
    if not user_id:
        return None
    print(helper())
""",
            files={"proj/settings.py": "CELERY_RESULT_BACKEND = \"redis://localhost:6379/1\"\n"},
        ),
        Example(
            """
from celery import shared_task

@shared_task  # error
def add(x, y):
    return x + y
""",
            options={"ignore-result-mode": "strict", "result-backend": "configured"},
        ),
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._returns: dict[int, bool] = {}
        self._pending: list[tuple[TaskDef, str, bool]] = []

    def task_enter(self, task: TaskDef) -> None:
        if task.func is not None:
            self._returns[id(task.func)] = False

    def visit_Return(self, node: cst.Return) -> None:
        task = self.ctx.in_task_body()
        if task is not None and node.value is not None and literal_value(node.value) is not None:
            self._returns[id(task.func)] = True

    def visit_Yield(self, node: cst.Yield) -> None:
        task = self.ctx.in_task_body()
        if task is not None:
            self._returns[id(task.func)] = True

    def visit_Call(self, node: cst.Call) -> None:
        """``raise self.replace(sig)``: the task's result is the replacement's."""
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "replace" and isinstance(func.value, cst.Name)):
            return
        task = self.ctx.in_task_body()
        if task is not None and func.value.value in retry_receiver(task):
            self._returns[id(task.func)] = True

    def task_leave(self, task: TaskDef) -> None:
        mode = self.settings.ignore_result_mode
        if mode == "off" or task.func is None or task.has_option("ignore_result") or task.opaque_options:
            return
        returns = self._returns.pop(id(task.func), False)
        if mode == "no-return" and returns:
            return
        index = self.ctx.index
        if index is not None and (self.ctx.task_ref(task) in index.awaited or task.registered_name in index.awaited):
            return  # someone waits for its result (to know it finished): storing it is needed
        if returns:
            message = f"task `{task.name}` has no explicit `ignore_result=`; say whether its result is stored (`ignore_result=True` or `False`)"
        else:
            message = f"task `{task.name}` never returns a value but its result is stored; set `ignore_result=True`"
        self._pending.append((task, message, returns))

    def module_leave(self) -> None:
        if self.ctx.project_setting("task_ignore_result") is not None:
            return  # the file decides for every task (True), or we cannot tell
        if not self._pending or not self.ctx.results_unread():
            return  # no result backend: nothing is stored
        for task, message, returns in self._pending:
            fix = None
            if not returns and not task.alias:  # a task that returns something may have callers waiting for it
                expr = task.decorator_expr
                fix = replace(expr, with_keyword(expr, "ignore_result", cst.Name("True")), "Set `ignore_result=True`", UNSAFE)
            self.report(task.decorator_expr, message, fix)
