from __future__ import annotations

import libcst as cst

from ..model.beat import BEAT_NEEDLES, BeatSchedule
from ..model.celery_api import SIGNATURE_FUNCTIONS
from ..model.context import Dispatch, keyword_args, positional_args
from ..model.edits import Fix, replace
from .base import Example, Rule, TextPattern

_EMPTY_MODULE = cst.Module(body=[])
_GROUPED = "a parenthesised value"
_RAISES = "Celery raises TypeError (task args must be a list or tuple); pass a tuple"


class ArgsNotASequence(Rule):
    """`args=` that is not a list or tuple.

    ## What it does
    Reports a literal `args` that is not a list or a tuple where Celery expects the task's
    positional arguments: `apply_async(args=...)` (or its first positional argument),
    `send_task(name, args=...)`, `signature(name, args=...)`, `self.retry(args=...)` in a
    bound task, `add_periodic_task(..., args=...)` and the `"args"` of a beat entry.
    Reported: a string, a number, a dict, a set, a generator, and a parenthesised
    expression without a trailing comma (`args=(user_id)`), which is not a tuple.

    Names and calls are not reported: their value is unknown. A `Pool.apply_async(func,
    args=...)` look-alike (a positional callable before `args=`, or `kwds=`) is skipped.

    ## Why is this bad?
    Celery checks the type when the message is built: `TypeError: task args must be a
    list or tuple`, raised in the web request that dispatched, or logged by beat on every
    run. `args=(user_id)` is the classic: the parentheses group, they make no tuple. A
    string passed to `add_periodic_task` is split into one argument per character.

    ## Example
    ```python
    send_receipt.apply_async(args=(order.pk), queue="mail")
    ```

    ## Use instead
    ```python
    send_receipt.apply_async(args=(order.pk,), queue="mail")
    ```

    ## Options
    None.

    ## Fix safety
    Safe: adds the trailing comma to a parenthesised single value.

    ## References
    - [Celery: apply_async](https://docs.celeryq.dev/en/stable/reference/celery.app.task.html#celery.app.task.Task.apply_async)
    - [Celery: Beat entries](https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html#available-fields)
    """

    code = "CLY406"
    in_tests = True
    name = "args-not-a-sequence"
    fix = "safe"
    needles = ("apply_async(", "send_task(", "signature(", "retry(", *BEAT_NEEDLES)
    #: `args` spelt out, or a call whose positional arguments hold them.
    # ...and a call or schedule that takes task args (two clauses: both must occur).
    text_pattern = TextPattern(
        (
            r"""apply_async\(|send_task\(|(?<!\w)signature\(|\.retry\(|add_periodic_task\(|beat_schedule|BEAT_SCHEDULE|["']schedule["']""",
            ("apply_async(", "send_task(", "signature(", ".retry(", "add_periodic_task(", "beat_schedule", "BEAT_SCHEDULE", "schedule'", 'schedule"'),
        ),
        (
            r"""\bargs\s*=|["']args["']|apply_async\(|send_task\(|add_periodic_task\(""",
            ("args", "apply_async(", "send_task(", "add_periodic_task("),
        ),
    )
    requires = (BeatSchedule,)

    VALID = [
        Example(
            """
from multiprocessing import Pool
from celery import Celery, signature
from shop.tasks import send_receipt

app = Celery("shop")

def view(order, values, pool: Pool):
    send_receipt.apply_async(args=(order.pk,), queue="mail")
    send_receipt.apply_async((order.pk,), queue="mail")
    send_receipt.apply_async(args=[order.pk], queue="mail")
    send_receipt.apply_async(args=values, queue="mail")
    send_receipt.apply_async(args=None, queue="mail")
    app.send_task("shop.tasks.x", args=tuple(values))
    signature("shop.tasks.x", args=(1, 2))
    pool.apply_async(print, args=(order.pk))
    pool.apply_async(print, (1), kwds={})

app.conf.beat_schedule = {"x": {"task": "shop.tasks.x", "schedule": 60, "args": (1,)}}
""",
            path="shop/views.py",
        ),
        # Not Celery: threads and a retry helper of another library.
        Example(
            """
import threading

threading.Thread(target=print, args=("abc")).start()

class Client:
    def retry(self, args=None):
        return args

Client().retry(args=("x"))
""",
            path="shop/util.py",
        ),
    ]
    INVALID = [
        Example(
            """
from celery import Celery, shared_task
from shop.tasks import send_receipt

app = Celery("shop")

def view(order):
    send_receipt.apply_async(args=(order.pk), queue="mail")  # error
    send_receipt.apply_async((order.pk), queue="mail")  # error
    app.send_task("shop.tasks.x", args="abc")  # error
    app.send_task("shop.tasks.x", {"a": 1})  # error

@shared_task(bind=True, name="shop.tasks.sync")
def sync(self, pk):
    raise self.retry(args=(pk), countdown=5)  # error

app.conf.beat_schedule = {
    "x": {"task": "shop.tasks.x", "schedule": 60, "args": (42)},  # error
}

@app.on_after_configure.connect
def setup(sender, **kwargs):
    sender.add_periodic_task(60, send_receipt.s(), args="abc", name="y")  # error
""",
            path="shop/views.py",
        ),
    ]

    def dispatch(self, dispatch: Dispatch) -> None:
        call = dispatch.call
        if dispatch.method in ("apply_async", "apply_async_on_commit"):
            if {"kwds", "callback", "error_callback"} & dispatch.keywords.keys():
                return  # multiprocessing.Pool.apply_async(func, args, kwds)
            positional = positional_args(call)
            if "args" in dispatch.keywords:
                if not positional:
                    self._check(dispatch.keywords["args"].value)
            elif positional and (dispatch.names_a_task or dispatch.via_signature):
                self._check(positional[0].value)
        elif dispatch.method == "send_task":
            positional = positional_args(call)
            if "args" in dispatch.keywords:
                self._check(dispatch.keywords["args"].value)
            elif len(positional) >= 2:
                self._check(positional[1].value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "retry":
                if self.ctx.task_retried_by(node) is None:
                    return
            elif method in ("signature", "subtask"):
                receiver = func.value
                known = self.ctx.is_app(receiver) or self.ctx.qualname(receiver) is not None
                if not known and not (isinstance(receiver, cst.Name) and receiver.value in self.ctx.tasks_by_function):
                    return
            else:
                return
        elif self.ctx.qualname(func) not in SIGNATURE_FUNCTIONS:
            return
        arg = keyword_args(node).get("args")
        if arg is not None:
            self._check(arg.value)

    def module_leave(self) -> None:
        for entry in self.ctx.analyses[BeatSchedule].entries:
            value = entry.field("args")
            if value is None:
                continue
            if entry.is_call:
                effect = "`add_periodic_task` turns it into a tuple of its items (a str gives one argument per character); pass a tuple"
            else:
                effect = "every run fails with TypeError"
            self._check(value, f"{entry.label}: ", effect)

    def _check(self, value: cst.BaseExpression, prefix: str = "", effect: str = _RAISES) -> None:
        kind = _not_a_sequence(value)
        if kind is None:
            return
        if not value.lpar or isinstance(value, cst.GeneratorExp):
            self.report(value, f"{prefix}task args are {kind}, not a list or tuple: {effect}")
            return
        shown = _shown(value)
        fixed = f"{shown[:-1]},)" if shown != "(...)" else "(value,)"
        fix = _tuple_fix(value)
        if kind == _GROUPED:
            self.report(value, f"{prefix}task args `{shown}` are not a tuple: parentheses without a trailing comma only group; write `{fixed}`", fix)
        else:
            self.report(value, f"{prefix}task args `{shown}` are {kind}, not a tuple: write `{fixed}`", fix)


def _tuple_fix(value: cst.BaseExpression) -> Fix:
    """``(x)`` -> ``(x,)``: the outer parentheses become the tuple's own."""
    inner = value.with_changes(lpar=value.lpar[1:], rpar=value.rpar[:-1])
    element = cst.Element(inner, comma=cst.Comma())
    return replace(value, cst.Tuple([element], lpar=[value.lpar[0]], rpar=[value.rpar[-1]]), "Add the trailing comma")


def _name(node: cst.BaseExpression) -> str:
    return node.value if isinstance(node, cst.Name) else ""


def _shown(node: cst.BaseExpression) -> str:
    text = _EMPTY_MODULE.code_for_node(node)
    return text if len(text) <= 40 and "\n" not in text else "(...)"


def _not_a_sequence(node: cst.BaseExpression) -> str | None:
    """What ``node`` is when it certainly is not a list or tuple; None otherwise."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return "a str"
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
        return "a number"
    if isinstance(node, (cst.Dict, cst.DictComp)):
        return "a dict"
    if isinstance(node, (cst.Set, cst.SetComp)):
        return "a set"
    if isinstance(node, cst.GeneratorExp):
        return "a generator"
    if node.lpar and not isinstance(node, (cst.Tuple, cst.List, cst.ListComp)):
        if isinstance(node, cst.Name) and node.value == "None":
            return None
        return _GROUPED
    return None
