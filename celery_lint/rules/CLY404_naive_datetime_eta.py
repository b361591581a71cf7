from __future__ import annotations

import libcst as cst

from ..model.context import keyword_args, positional_args
from ..model.edits import UNSAFE, Edit, Fix
from .base import Rule, TextPattern

_NAIVE = {"datetime.datetime.utcnow", "datetime.datetime.today"}
_MAYBE_NAIVE = {"datetime.datetime.now"}
_CALLS = ("apply_async", "send_task", "retry", "set", "signature", "apply_async_on_commit")


class NaiveDatetimeEta(Rule):
    """`eta=`/`expires=` built from a naive datetime.

    ## What it does
    Reports `eta=` and `expires=` of `apply_async`, `send_task`, `retry` and signatures'
    `.set`/`signature` whose value is, or is arithmetic on, `datetime.utcnow()`,
    `datetime.today()` or `datetime.now()` without a time zone, directly or through a
    name assigned in the same function. Aware values (`datetime.now(timezone.utc)`,
    Django's `timezone.now()`) and values the file cannot see are not reported.

    ## Why is this bad?
    Celery reads a naive `eta`/`expires` as UTC. `datetime.now()` is local time, so on a
    server outside UTC the task runs hours early or late, or expires before it runs;
    `utcnow()` happens to be right but is deprecated since Python 3.12 and breaks as soon
    as someone "fixes" it to `now()`.

    ## Example
    ```python
    remind.apply_async(args=(user.pk,), eta=datetime.now() + timedelta(hours=1))
    ```

    ## Use instead
    ```python
    remind.apply_async(args=(user.pk,), eta=datetime.now(timezone.utc) + timedelta(hours=1))
    ```

    ## Fix safety
    Unsafe: making the value aware (`datetime.now(timezone.utc)`) changes when the task
    runs on servers not set to UTC (that is the intent).

    ## Options
    None.

    ## References
    - [Celery: ETA and countdown](https://docs.celeryq.dev/en/stable/userguide/calling.html#eta-and-countdown)
    - [Python: Aware and naive objects](https://docs.python.org/3/library/datetime.html#aware-and-naive-objects)
    """

    code = "CLY404"
    name = "naive-datetime-eta"
    fix = "unsafe"
    needles = ("eta=", "expires=")
    text_pattern = TextPattern((r"\b(?:eta|expires)=", ("eta=", "expires=")))  # not `beta=`/`meta=`

    VALID = [
        """
from datetime import datetime, timedelta, timezone
from django.utils import timezone as dj_tz
from proj.tasks import remind

remind.apply_async(args=(1,), eta=datetime.now(timezone.utc) + timedelta(hours=1))
remind.apply_async(args=(1,), expires=dj_tz.now() + timedelta(days=1))

def later(when):
    remind.apply_async(args=(1,), eta=when)
""",
    ]
    INVALID = [
        """
import datetime as dt
from datetime import datetime, timedelta
from proj.tasks import remind

remind.apply_async(args=(1,), eta=datetime.now() + timedelta(hours=1))  # error

def schedule():
    deadline = dt.datetime.utcnow() + dt.timedelta(days=1)
    remind.apply_async(args=(1,), expires=deadline)  # error
""",
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._naive_names: dict[int, set[str]] = {}

    def _scope_key(self) -> int:
        function = self.ctx.current_function
        return id(function) if function is not None else 0

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._naive(node.value):
            names = self._naive_names.setdefault(self._scope_key(), set())
            names.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))

    def _naive(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.BinaryOperation):
            return self._naive(node.left) or self._naive(node.right)
        if isinstance(node, cst.Name):
            return node.value in self._naive_names.get(self._scope_key(), ())
        if not isinstance(node, cst.Call):
            return False
        name = self.ctx.qualname(node.func)
        if name in _NAIVE:
            return True
        return name in _MAYBE_NAIVE and not positional_args(node) and "tz" not in keyword_args(node)

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Attribute) or node.func.attr.value not in _CALLS:
            return
        for keyword in ("eta", "expires"):
            arg = keyword_args(node).get(keyword)
            if arg is not None and self._naive(arg.value):
                self.report(
                    arg.value,
                    f"`{keyword}=` is a naive datetime, which Celery reads as UTC; use an aware one (`datetime.now(timezone.utc)`)",
                    self._fix(arg.value),
                )

    def _fix(self, value: cst.BaseExpression) -> Fix | None:
        """Each naive call in the expression -> ``datetime.now(timezone.utc)``.

        Unsafe: the task then runs at a different moment when the code meant local time.
        Names bound elsewhere (``when = datetime.now()``) are not rewritten.
        """
        calls: list[cst.Call] = []
        stack = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.BinaryOperation):
                stack.extend((node.left, node.right))
            elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                name = self.ctx.qualname(node.func)
                if name in _NAIVE or (name in _MAYBE_NAIVE and not node.args):
                    calls.append(node)
        if not calls:
            return None
        edits = []
        imports: tuple[tuple[str, str], ...] = ()
        for call in calls:
            func = call.func
            assert isinstance(func, cst.Attribute)
            klass = func.value
            if isinstance(klass, cst.Attribute) and isinstance(klass.value, cst.Name):
                # `datetime.datetime.now()` through `import datetime [as dt]`
                utc = cst.parse_expression(f"{klass.value.value}.timezone.utc")
            else:
                bound = self.ctx.imports.get("timezone", "datetime.timezone")
                if bound != "datetime.timezone" or "timezone" in self.ctx.module_names:
                    return None  # `timezone` is something else here (django.utils.timezone)
                utc = cst.parse_expression("timezone.utc")
                imports = (("datetime", "timezone"),)
            new = call.with_changes(func=func.with_changes(attr=cst.Name("now")), args=[cst.Arg(utc)])
            edits.append(Edit(call, new))
        return Fix(UNSAFE, "Use `datetime.now(timezone.utc)`", tuple(edits), imports)
