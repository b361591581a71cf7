from __future__ import annotations

import libcst as cst

from ..model.celery_api import RETRY_POLICY_KEYS, closest
from ..model.context import keyword_args, literal_value
from .base import Rule


class InvalidRetryPolicy(Rule):
    """`retry_policy` with a key kombu does not know.

    ## What it does
    Reports keys of a literal `retry_policy={...}` (on `apply_async`, `send_task`, a
    signature's `.set`/`signature`) and of a literal `task_publish_retry_policy` setting
    that are not `max_retries`, `interval_start`, `interval_step`, `interval_max` or
    `retry_errors` (kombu `Connection.ensure`'s parameters; the test suite checks them).

    ## Why is this bad?
    The policy is unpacked into `Connection.ensure(**retry_policy)`: an unknown key raises
    `TypeError` on every publish, so every call of this task fails at the call site, and
    only when the broker is reachable enough to get that far.

    ## Example
    ```python
    notify.apply_async(args=(1,), retry_policy={"max_retries": 3, "interval": 0.2})
    ```

    ## Use instead
    ```python
    notify.apply_async(args=(1,), retry_policy={"max_retries": 3, "interval_start": 0.2})
    ```

    ## Options
    None.

    ## References
    - [Celery: Message sending retry](https://docs.celeryq.dev/en/stable/userguide/calling.html#message-sending-retry)
    """

    code = "CLY206"
    in_tests = True
    name = "invalid-retry-policy"
    needles = ("retry_policy",)
    text_pattern = None

    VALID = [
        """
from proj.tasks import notify

notify.apply_async(args=(1,), retry_policy={"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 1})
policy = {"interval": 1}
""",
    ]
    INVALID = [
        """
from celery import Celery
from proj.tasks import notify

app = Celery("proj")
app.conf.task_publish_retry_policy = {"max_retries": 3, "max_interval": 1}  # error
notify.apply_async(args=(1,), retry_policy={"max_retries": 3, "interval": 0.2})  # error
""",
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Attribute) or node.func.attr.value not in ("apply_async", "send_task", "set", "signature"):
            return
        policy = keyword_args(node).get("retry_policy")
        if policy is not None:
            self._check(policy.value)

    def module_leave(self) -> None:
        policy = self.ctx.file_config.get("task_publish_retry_policy")
        if policy is not None:
            self._check(policy)

    def _check(self, node: cst.BaseExpression) -> None:
        if not isinstance(node, cst.Dict):
            return
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                continue
            key = literal_value(element.key)
            if isinstance(key, str) and key not in RETRY_POLICY_KEYS:
                suggestion = closest(key, RETRY_POLICY_KEYS)
                hint = f"; did you mean `{suggestion}`?" if suggestion else ""
                self.report(element.key, f"`retry_policy` key `{key}` is not accepted: every publish raises TypeError{hint or _KEYS_HINT}")




#: What to do when no key is close to the one written.
_KEYS_HINT = "; use one of " + ", ".join(f"`{k}`" for k in sorted(RETRY_POLICY_KEYS))
