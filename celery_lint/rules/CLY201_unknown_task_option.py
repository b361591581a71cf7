from __future__ import annotations

import libcst as cst

from ..model.celery_api import TASK_OPTIONS, TASK_OPTION_SINCE, closest, task_options_for
from ..model.context import TaskDef
from ..model.edits import UNSAFE, Fix, replace
from .base import Example, Rule


class UnknownTaskOption(Rule):
    """Keyword to a task decorator that is not a Celery task option.

    ## What it does
    Reports a keyword of `@app.task(...)`/`@shared_task(...)` that Celery does not know as
    a task option for the target Celery version, and suggests the closest real option.
    Valid without question are: Celery's task options (checked against the installed
    Celery by the test suite), the Task handler methods a keyword may replace
    (`on_failure=`, `on_success=`, `on_retry=`, `after_return=`, `before_start=`,
    `on_replace=`, `shadow_name=`), attributes of a `base=` class defined in the same file, and
    `extra-task-options`. When `base=` names a class from another module, the project
    index supplies its attributes (a direct `celery.Task` subclass); when it cannot
    (`--no-index`, a deeper hierarchy), only evident misspellings of real options are
    reported.

    ## Why is this bad?
    Celery does not reject unknown options: it turns every keyword into an attribute of
    the generated task class. `@shared_task(ignore_results=True)` therefore creates a
    useless `ignore_results` attribute and leaves `ignore_result` False, and results pile
    up in the backend with no error anywhere.

    ## Example
    ```python
    @shared_task(ignore_results=True, max_retry=5)
    def ping(): ...
    ```

    ## Use instead
    ```python
    @shared_task(ignore_result=True, max_retries=5)
    def ping(): ...
    ```

    ## Fix safety
    Unsafe: renaming to the single close match changes behaviour (that is the point), so
    it needs `--unsafe-fixes`.

    ## Options
    - `extra-task-options`: keywords your custom Task classes read.
    - `target-version`: the Celery release whose options count (default: newest).

    ## References
    - [Celery: Task options](https://docs.celeryq.dev/en/stable/userguide/tasks.html#list-of-options)
    """

    code = "CLY201"
    in_tests = True
    name = "unknown-task-option"
    scope = "file+"
    fix = "unsafe"

    VALID = [
        """
from celery import shared_task, Task

class Tracked(Task):
    audit_channel = "ops"

@shared_task(base=Tracked, audit_channel="billing", autoretry_for=(IOError,), retry_backoff=True)
def ping():
    return 1

def alert(self, exc, task_id, args, kwargs, einfo):
    pass

@shared_task(on_failure=alert, shadow_name=lambda task, args, kwargs, options: "x")
def risky():
    return 1

@shared_task(cur=0, bind=True, last=None)
def counter(self):
    counter.cur += 1
    self.last = counter.cur
    return self.last
""",
        Example(
            """
from celery import shared_task

@shared_task(tenant_aware=True)
def ping():
    return 1
""",
            options={"extra-task-options": ["tenant_aware"]},
        ),
        # Keywords of an unrelated `.task` decorator are not Celery's.
        """
import prefect

@prefect.task(retries=3, log_prints=True)
def flow_step():
    return 1
""",
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task(ignore_results=True, max_retry=5)  # error
def ping():
    return 1
""",
        """
from celery import Celery
from proj.base import CustomTask

app = Celery("proj")

@app.task(base=CustomTask, colour="blue", acks_lat=True)  # error
def ping():
    return 1
""",
        Example(
            """
from celery import shared_task

@shared_task(pydantic=True)  # error
def ping():
    return 1
""",
            options={"target-version": "5.4"},
        ),
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pending: list[tuple[TaskDef, str, cst.Arg, str, Fix | None]] = []
        self._read_back: set[tuple[str, str]] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name):
            owner = node.value.value
            task = self.ctx.current_task
            if task is not None and owner == task.bound_parameter():
                owner = task.name
            self._read_back.add((owner, node.attr.value))

    def module_leave(self) -> None:
        for task, keyword, arg, message, fix in self._pending:
            if (task.name, keyword) not in self._read_back:
                assert arg.keyword is not None
                self.report(arg.keyword, message, fix)

    def task_enter(self, task: TaskDef) -> None:
        valid = task_options_for(self.settings.target_version)
        extra = set(self.settings.extra_task_options)
        base_unseen = "base" in task.options and task.base is None
        base_attributes: set[str] = set()
        if base_unseen and self.ctx.index is not None:
            # file+: the base class defined in another module, from the project index
            ref = self.ctx.qualname(task.options["base"].value)
            if ref is not None and ref in self.ctx.index.classes:
                base_attributes = set(self.ctx.index.classes[ref])
                base_unseen = False
        for keyword, arg in task.options.items():
            if keyword in valid or keyword in extra or keyword in base_attributes:
                continue
            if task.base is not None and keyword in task.base.attributes:
                continue
            suggestion = closest(keyword, valid)
            if keyword in TASK_OPTIONS:
                since = ".".join(map(str, TASK_OPTION_SINCE[keyword]))
                target = ".".join(map(str, self.settings.target_version))
                message = (
                    f"task `{task.name}`: `{keyword}` is not a task option in Celery {target} (added in {since}); "
                    "upgrade Celery (and `target-version`) or remove it"
                )
            elif base_unseen and suggestion is None:
                continue  # may be an attribute of the base class in another module
            elif suggestion:
                message = f"task `{task.name}`: `{keyword}` is not a Celery task option; did you mean `{suggestion}`?"
            else:
                message = (
                    f"task `{task.name}`: `{keyword}` is not a Celery task option "
                    "(Celery stores it as a task attribute and ignores it); remove it or correct its name"
                )
            fix = None
            if suggestion and keyword not in TASK_OPTIONS and suggestion not in task.options:
                assert arg.keyword is not None
                fix = replace(arg.keyword, cst.Name(suggestion), f"Rename to `{suggestion}`", UNSAFE)
            self._pending.append((task, keyword, arg, message, fix))
