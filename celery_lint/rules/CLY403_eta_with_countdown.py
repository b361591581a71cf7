from __future__ import annotations

import libcst as cst

from ..model.context import keyword_args, literal_value
from .base import Rule

_CALLS = ("apply_async", "send_task", "retry", "set", "signature", "apply_async_on_commit")


class EtaWithCountdown(Rule):
    """`eta=` and `countdown=` in the same call.

    ## What it does
    Reports a call of `apply_async`, `send_task`, `retry`, `signature` or a signature's
    `.set` that passes both `eta=` and `countdown=`. Forwarding two plain variables
    (`eta=eta, countdown=countdown`, as a command-line wrapper does, where either may be
    `None`) and an explicit `None` are not reported.

    ## Why is this bad?
    Both say when the task should run; Celery turns `countdown` into an `eta` and silently
    lets `countdown` win, so the `eta` the reader sees is ignored.

    ## Example
    ```python
    remind.apply_async(args=(user.pk,), eta=tomorrow_9am, countdown=60)
    ```

    ## Use instead
    ```python
    remind.apply_async(args=(user.pk,), eta=tomorrow_9am)
    ```

    ## Options
    None.

    ## References
    - [Celery: ETA and countdown](https://docs.celeryq.dev/en/stable/userguide/calling.html#eta-and-countdown)
    """

    code = "CLY403"
    in_tests = True
    name = "eta-with-countdown"
    needles = ("countdown",)
    text_pattern = None

    VALID = [
        """
from proj.tasks import remind

remind.apply_async(args=(1,), countdown=60)
remind.apply_async(args=(1,), eta=None, countdown=30)

def call(name, eta, countdown, app):
    return app.send_task(name, eta=eta, countdown=countdown)
schedule = {"eta": 1, "countdown": 2}
""",
    ]
    INVALID = [
        """
from datetime import datetime, timezone
from proj.tasks import remind

remind.apply_async(args=(1,), eta=datetime.now(timezone.utc), countdown=60)  # error
remind.s(1).set(eta=datetime.now(timezone.utc), countdown=5).delay()  # error
""",
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Attribute) or node.func.attr.value not in _CALLS:
            return
        keywords = keyword_args(node)
        if "eta" not in keywords or "countdown" not in keywords:
            return
        values = (keywords["eta"].value, keywords["countdown"].value)
        if all(isinstance(v, (cst.Name, cst.Attribute)) for v in values):
            return  # forwarding two variables (e.g. CLI options), either of which may be None
        if any(literal_value(v) is None for v in values):
            return  # an explicit None is no schedule
        self.report(node, f"`{node.func.attr.value}()` gets both `eta=` and `countdown=`; `countdown` wins and `eta` is ignored; pass only one of them")
