from __future__ import annotations

import libcst as cst

from ..model.celery_api import CALLING_OPTIONS, RETRY_PARAMETERS, SIGNATURE_METHODS, closest
from ..model.context import keyword_args
from ..model.edits import UNSAFE, replace
from .base import DISPATCH_NEEDLES, Rule, TextPattern


class UnknownCallingOption(Rule):
    """Misspelt keyword to `apply_async`/`send_task`/`retry`/`.set`.

    ## What it does
    Reports a keyword of `apply_async(...)`, `send_task(...)`, a signature's `.set(...)` or
    `signature(...)`, or the task's own `retry(...)`, that is not a calling option but is
    a close misspelling of one (`countdwon=`, `expire=`, `routingkey=`), and `max_retries=`
    outside `retry()`, where it is a task option and does nothing. Other unknown keywords
    are not reported: Celery passes them on as message properties, which some transports
    use on purpose (`MessageGroupId=` for SQS FIFO queues). The option table is checked
    against Celery's and kombu's signatures by the test suite.

    ## Why is this bad?
    Celery does not reject unknown keywords. `countdwon=30` becomes a message property
    nobody reads, and the task runs at once instead of in 30 seconds.

    ## Example
    ```python
    send_reminder.apply_async(args=(user.pk,), countdwon=3600)
    ```

    ## Use instead
    ```python
    send_reminder.apply_async(args=(user.pk,), countdown=3600)
    ```

    ## Fix safety
    Unsafe: renaming to the single close match changes behaviour (that is the point).

    ## Options
    None.

    ## References
    - [Celery: Calling tasks](https://docs.celeryq.dev/en/stable/userguide/calling.html)
    """

    code = "CLY207"
    in_tests = True
    name = "unknown-calling-option"
    fix = "unsafe"
    # `.set(` alone would match every `cache.set(`; a signature's `.set(` needs `.s(`/`.si(`
    needles = DISPATCH_NEEDLES + ("retry(", ".s(", ".si(", "signature(")
    # the calls it checks (`get_signature(` is not one of them)
    text_pattern = TextPattern(
        (
            r"apply_async\(|send_task\(|\.retry\(|\.s\(|\.si\(|(?<!\w)signature\(",
            ("apply_async(", "send_task(", ".retry(", ".s(", ".si(", "signature("),
        )
    )

    VALID = [
        """
from proj.tasks import remind

remind.apply_async(args=(1,), countdown=60, queue="q", MessageGroupId="g")
remind.s(1).set(countdown=5, priority=3).delay()
settings.set(countdwon=1)
""",
        """
from celery import shared_task

@shared_task(name="proj.fetch", bind=True)
def fetch(self, url):
    raise self.retry(countdown=10, max_retries=5, exc=None)
""",
    ]
    INVALID = [
        """
from proj.tasks import remind

remind.apply_async(args=(1,), countdwon=60)  # error
remind.s(1).set(expire=30).delay()  # error
remind.apply_async(args=(1,), max_retries=3)  # error
""",
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method in ("apply_async", "send_task", "signature"):
            valid = CALLING_OPTIONS
        elif method == "set" and _is_signature(func.value):
            valid = CALLING_OPTIONS
        elif method == "retry" and self.ctx.task_retried_by(node) is not None:
            valid = CALLING_OPTIONS | RETRY_PARAMETERS
        else:
            return
        for keyword, arg in keyword_args(node).items():
            if keyword in valid:
                continue
            assert arg.keyword is not None
            if keyword == "max_retries":
                self.report(arg.keyword, f"`max_retries` is a task option, not a calling option: `{method}()` ignores it; set it on the task or pass it to `self.retry()`")
                continue
            suggestion = closest(keyword, valid)
            if suggestion:
                fix = None
                if suggestion not in keyword_args(node):
                    fix = replace(arg.keyword, cst.Name(suggestion), f"Rename to `{suggestion}`", UNSAFE)
                self.report(arg.keyword, f"`{keyword}` is not a calling option; did you mean `{suggestion}`? (`{method}()` passes it on as a message property)", fix)


def _is_signature(node: cst.BaseExpression) -> bool:
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        if node.func.attr.value in SIGNATURE_METHODS:
            return True
        node = node.func.value
    return False
