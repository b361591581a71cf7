from __future__ import annotations

import libcst as cst

from ..model.context import Dispatch
from ..model.edits import UNSAFE, add_arg, keyword_arg, replace
from .base import DISPATCH_NEEDLES, Example, Rule


class FireAndForgetStoresResult(Rule):
    """Result of `apply_async`/`send_task` thrown away while the task stores it.

    ## What it does
    Reports `task.apply_async(...)` and `app.send_task(...)` used as a statement (the
    `AsyncResult` is discarded) without `ignore_result=True`, when the task is not known
    to ignore its result: it is not defined with an explicit `ignore_result=` (in this
    file, or with the project index anywhere in the project; `base=` classes of this file
    too) and neither the file nor the project's configuration sets `task_ignore_result`.
    Only tasks the file can name are judged (defined here, imported, or a literal
    `send_task` name): canvas objects (`group(...)`, `chain(...)`, `chord(...)`) and
    signatures held in variables are left alone, since their parts may need results. `.delay()` statements are not reported (the catalogue
    keeps this rule to the explicit calling API).

    ## Why is this bad?
    With a result backend configured, every run writes its return value (often `None`)
    and state to the backend, where it sits until `result_expires`. Nobody reads it: that
    is pure load on Redis or the database, and it grows with traffic.

    ## Example
    ```python
    send_welcome.apply_async(args=(user.pk,))
    ```

    ## Use instead
    ```python
    send_welcome.apply_async(args=(user.pk,), ignore_result=True)
    ```
    or `@shared_task(ignore_result=True)` on the task.

    ## Fix safety
    Unsafe: adding `ignore_result=True` makes `AsyncResult.get()` elsewhere wait forever.

    ## Options
    - `result-backend`: `auto` (default), `configured` or `none`. Results exist only where a
      result backend does: with `auto` the rule is silent when the project's code disables
      the backend (`None`, `"disabled"`, or read from the environment without a default) or
      sets none anywhere (needs the project index). Set `configured` when the backend comes
      from outside the code (the `CELERY_RESULT_BACKEND` environment variable).
      The rule is also silent when the project sets `task_track_started` or
      `result_extended` (`CELERY_TASK_TRACK_STARTED = True`): those only change what the
      backend holds, so something reads it (Flower, a status page), and `ignore_result=True`
      would drop the very states it reads.

    ## References
    - [Celery: Ignore results you don't want](https://docs.celeryq.dev/en/stable/userguide/tasks.html#ignore-results-you-don-t-want)
    - [Celery: apply_async ignore_result](https://docs.celeryq.dev/en/stable/reference/celery.app.task.html#celery.app.task.Task.apply_async)
    """

    code = "CLY402"
    name = "fire-and-forget-stores-result"
    fix = "unsafe"
    needles = DISPATCH_NEEDLES
    text_pattern = None

    VALID = [
        # No result backend anywhere in the project: Celery stores nothing.
        """
from proj.tasks import send_welcome

def view(request):
    send_welcome.apply_async(args=(request.user.pk,))
""",
        # The backend is read from the environment without a default: none unless set there.
        Example(
            """
from proj.tasks import send_welcome

def view(request):
    send_welcome.apply_async(args=(request.user.pk,))
""",
            files={"proj/settings.py": "import os\n\nCELERY_RESULT_BACKEND = os.environ.get(\"CELERY_RESULT_BACKEND\", None)\n"},
        ),
        """
from celery import shared_task, group

@shared_task(ignore_result=True)
def ping():
    return 1

def view(request, app):
    ping.apply_async()
    result = app.send_task("proj.report")
    app.send_task("proj.report", ignore_result=True)
    group(ping.s(), ping.s()).apply_async()
    workflow = ping.s() | ping.s()
    workflow.apply_async()
    ping.delay()
    return result
""",
        """
from celery import Celery

app = Celery("proj", task_ignore_result=True)

def view(request):
    app.send_task("proj.report")
""",
    ]
    INVALID = [
        # The project stores results: its settings name a backend.
        Example(
            """
from proj.tasks import send_welcome

def view(request, app):
    send_welcome.apply_async(args=(request.user.pk,))  # error
    app.send_task("proj.tasks.report", args=(1,))  # error
""",
            files={"proj/settings.py": "CELERY_RESULT_BACKEND = \"redis://localhost:6379/1\"\n"},
        ),
        # The backend comes from outside the code: say so in the configuration.
        Example(
            """
from proj.tasks import send_welcome

def view(request):
    send_welcome.apply_async(args=(request.user.pk,))  # error
""",
            options={"result-backend": "configured"},
        ),
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._candidates: list[Dispatch] = []

    def dispatch(self, dispatch: Dispatch) -> None:
        if not dispatch.is_statement or dispatch.method not in ("apply_async", "send_task"):
            return
        if "ignore_result" in dispatch.keywords or any(a.star == "**" for a in dispatch.call.args):
            return
        if not dispatch.names_a_task and dispatch.method != "send_task":
            return  # a canvas object or a variable: its parts may need results
        if dispatch.task is not None and dispatch.task.option("ignore_result") is not None:
            return  # the task decides (True: ignored; False or opaque: its author chose)
        indexed = self.ctx.dispatched_task(dispatch) if dispatch.task is None else None
        if indexed is not None and (indexed.option("ignore_result") is not None or indexed.opaque):
            return  # the same, for a task defined in another module (project index)
        self._candidates.append(dispatch)

    def module_leave(self) -> None:
        if self.ctx.project_setting("task_ignore_result") is not None:
            return  # set in this file: True ignores results, anything else is unknown or deliberate
        if not self._candidates or not self.ctx.results_unread():
            return  # no result backend: nothing is stored
        for dispatch in self._candidates:
            call = dispatch.call
            fix = replace(call, add_arg(call, keyword_arg("ignore_result", cst.Name("True"))), "Pass `ignore_result=True`", UNSAFE)
            self.report(
                call,
                f"result of {dispatch.display()} is discarded but the task stores it; pass `ignore_result=True`",
                fix,
            )
