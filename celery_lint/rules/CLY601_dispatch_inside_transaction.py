from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from ..model.callgraph import CallGraph, dispatch_sink
from ..model.transactions import snippet_calls, transaction_calls, transaction_snippet
from ..model.celery_api import DISPATCH_METHODS, ON_COMMIT_DISPATCH_METHODS
from ..model.context import Dispatch, keyword_args
from ..model.needles import TRANSACTION_NEEDLES
from ..model.source import quiet_ast_parse
from ..model.edits import SAFE, UNSAFE, Fix, replace
from .base import DISPATCH_NEEDLES, Example, Rule

_ATOMIC = ("django.db.transaction.atomic",)
#: ``atomic(using=...)`` naming a read replica (``DATABASE_CONNECTION_REPLICA_NAME``, ``"replica"``).
_READ_ONLY = re.compile(r"replica|read_?only|readonly|reader", re.IGNORECASE)
_ON_COMMIT = {"delay": "delay_on_commit", "apply_async": "apply_async_on_commit"}
#: Calls in a transaction that are not followed as helpers.
_NOT_HELPERS = DISPATCH_METHODS | ON_COMMIT_DISPATCH_METHODS | {"on_commit", "atomic"}


@dataclass
class _Region:
    node: cst.CSTNode
    depth: int
    what: str


class DispatchInsideTransaction(Rule):
    """Task sent from inside a database transaction.

    ## What it does
    Reports `.delay(...)`, `.apply_async(...)` and `send_task(...)` lexically inside
    `with transaction.atomic():`, inside a function decorated with `@transaction.atomic`
    (with or without arguments), or inside the `save()`/`delete()` method of a Django
    model (a class deriving from `django.db.models.Model`, or, in a file that imports
    Django, from a base whose name ends in `Model`). `atomic` is recognised through
    imports (`from django.db import transaction`, `from django.db.transaction import
    atomic`). A dispatch inside a `lambda` or nested function (the usual
    `transaction.on_commit(lambda: task.delay(pk))`) is not reported, nor are
    `delay_on_commit`/`apply_async_on_commit` (Celery >= 5.4).

    A call made inside such a region to a function of the project is followed (any depth,
    across modules, bounded: see "Calls through helpers" in the README). When that function
    (or one it calls) sends a task at once (not inside `on_commit(...)` or a `lambda`), the
    call inside the transaction is reported, because the transaction is what the fix must
    respect, and the message names the path to the dispatch and its line
    (`create_invoice() -> notify_customer() -> shop.tasks.send_invoice.delay`). No fix is
    offered there: whether the helper or the caller should defer is the team's choice.

    A transaction on a read replica (`atomic(using=...)` whose database name or
    expression mentions `replica`, `readonly` or `reader`) writes nothing, so it is not a
    region.

    ## Why is this bad?
    The message reaches the broker at once, but the rows the task needs are only visible
    to other connections after the transaction commits. A fast worker starts, does not find
    the row (`DoesNotExist`) or reads the old version; if the transaction rolls back, the
    task runs for something that never happened.

    ## Example
    ```python
    with transaction.atomic():
        order = Order.objects.create(...)
        send_confirmation.delay(order.pk)
    ```

    ## Use instead
    ```python
    with transaction.atomic():
        order = Order.objects.create(...)
        send_confirmation.delay_on_commit(order.pk)   # Celery >= 5.4
        # or: transaction.on_commit(lambda: send_confirmation.delay(order.pk))
    ```

    ## Fix safety
    Offered when the call's result is unused (the on-commit methods return None), the
    target Celery is >= 5.4 and the call is on a task, not a signature: the fix rewrites
    `delay` to `delay_on_commit` (`apply_async` to `apply_async_on_commit`). Safe when the
    task is defined in the same file without `base=`, so it uses the default Django task
    class that has these methods; unsafe for an imported task, whose base is not visible.

    ## Options
    - `target-version`: `delay_on_commit` exists from Celery 5.4.

    ## References
    - [Celery: Trigger tasks at the end of the database transaction](https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html#trigger-tasks-at-the-end-of-the-database-transaction)
    - [Django: Performing actions after commit](https://docs.djangoproject.com/en/stable/topics/db/transactions/#performing-actions-after-commit)
    """

    code = "CLY601"
    name = "dispatch-inside-transaction"
    scope = "file+"
    fix = "safe"
    #: A dispatch here, or a region whose calls may reach one through helpers.
    needles = (*DISPATCH_NEEDLES, *TRANSACTION_NEEDLES)
    precheck_needles = TRANSACTION_NEEDLES
    text_pattern = None

    VALID = [
        """
from django.conf import settings
from django.db import transaction
from proj.tasks import notify

def report(order):
    with transaction.atomic(using=settings.DATABASE_CONNECTION_REPLICA_NAME, savepoint=False):
        notify.delay(order.pk)
""",
        """
from django.db import transaction
from proj.tasks import notify

def view(order):
    with transaction.atomic():
        order.save()
        transaction.on_commit(lambda: notify.delay(order.pk))
        notify.delay_on_commit(order.pk)
    notify.delay(order.pk)
""",
        # The helper defers its dispatch to the commit.
        Example(
            """
from django.db import transaction
from shop.billing import create_invoice

def checkout(order):
    with transaction.atomic():
        create_invoice(order)
""",
            path="shop/views.py",
            files={
                "shop/billing.py": (
                    "from django.db import transaction\nfrom shop.tasks import send_invoice\n\n"
                    "def create_invoice(order):\n"
                    "    transaction.on_commit(lambda: send_invoice.delay(order.pk))\n"
                    "    transaction.on_commit(lambda: notify(order))\n\n"
                    "def notify(order):\n    send_invoice.delay(order.pk)\n"
                )
            },
        ),
        # Not Django's atomic.
        """
from contextlib import nullcontext as atomic
from proj.tasks import notify

def view(order):
    with atomic():
        notify.delay(order.pk)
""",
    ]
    INVALID = [
        # A dispatch two calls away, in another module, reached from inside the transaction.
        Example(
            """
from django.db import transaction
from shop.billing import create_invoice

def checkout(order):
    with transaction.atomic():
        order.save()
        create_invoice(order)  # error
""",
            path="shop/views.py",
            files={
                "shop/billing.py": (
                    "from shop.tasks import send_invoice\n\n"
                    "def create_invoice(order):\n    notify_customer(order)\n\n"
                    "def notify_customer(order):\n    send_invoice.delay(order.pk)\n"
                )
            },
        ),
        """
from django.db import models, transaction
from django.db.transaction import atomic
from proj.tasks import notify

def view(order):
    with transaction.atomic():
        order.save()
        notify.delay(order.pk)  # error

@transaction.atomic
def create(order):
    notify.apply_async(args=(order.pk,))  # error

@atomic(using="default")
def create2(app, order):
    app.send_task("proj.notify", args=(order.pk,))  # error

class Order(models.Model):
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        notify.delay(self.pk)  # error
""",
        # A task defined here, without `base=`: the fix to `delay_on_commit` is safe.
        """
from celery import shared_task
from django.db import transaction

@shared_task(name="proj.audit", ignore_result=True)
def audit(pk):
    print(pk)

def view(order):
    with transaction.atomic():
        audit.delay(order.pk)  # error
""",
        # A module-level import below the function that uses it (placed there to break an
        # import cycle) still binds `transaction` there.
        """
from proj.tasks import notify

def create(order):
    with transaction.atomic():
        notify.delay(order.pk)  # error

from django.db import transaction
""",
    ]

    @classmethod
    def precheck(cls, text: str, path: str, module: str | None, graph: CallGraph) -> bool:
        """A file with a transaction but no dispatch of its own: parsed only when a call
        inside a transaction reaches one (most files with `atomic` in them do not). Read
        from the regions' text alone when it can be cut out (a fifth of the file's parse)."""
        snippet = transaction_snippet(text)
        calls = None
        if snippet is not None and not snippet[3]:
            return False  # no transaction here (`atomic = False` in a migration, a docstring)
        if snippet is not None:
            try:
                calls = snippet_calls(snippet, path, module)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                calls = None  # cut where it should not be: read the whole file
        if calls is None:
            try:
                calls = transaction_calls(quiet_ast_parse(text), path, module)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return True  # the parse reports the error
        return graph.reaches_from(calls, dispatch_sink, now=True) is not None

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._regions: list[_Region] = []
        self._model_classes: list[cst.ClassDef] = []

    def _is_atomic(self, expr: cst.BaseExpression) -> bool:
        func = expr.func if isinstance(expr, cst.Call) else expr
        if self.ctx.qualname(func) not in _ATOMIC:
            return False
        if isinstance(expr, cst.Call):
            using = keyword_args(expr).get("using")
            if using is not None and _READ_ONLY.search(cst.Module([]).code_for_node(using.value)):
                return False  # a read replica's transaction writes nothing the worker waits for
        return True

    def visit_With(self, node: cst.With) -> None:
        if any(self._is_atomic(item.item) for item in node.items):
            self._regions.append(_Region(node, len(self.ctx.scopes), "`with transaction.atomic()`"))

    def leave_With(self, node: cst.With) -> None:
        if self._regions and self._regions[-1].node is node:
            self._regions.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.ctx.is_django_model(node):
            self._model_classes.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        if self._model_classes and self._model_classes[-1] is node:
            self._model_classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        depth = len(self.ctx.scopes)  # the context has pushed the function already
        if any(self._is_atomic(d.decorator) for d in node.decorators):
            self._regions.append(_Region(node, depth, f"`{node.name.value}()` decorated with `@atomic`"))
        elif (
            node.name.value in ("save", "delete")
            and self._model_classes
            and len(self.ctx.scopes) >= 2
            and self.ctx.scopes[-2] is self._model_classes[-1]
        ):
            self._regions.append(_Region(node, depth, f"model `{node.name.value}()`"))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._regions and self._regions[-1].node is node:
            self._regions.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not self._regions or len(self.ctx.scopes) != self._regions[-1].depth or self.ctx.is_decorator(node):
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _NOT_HELPERS:
            return  # a dispatch itself (see `dispatch`), or `on_commit(...)`
        if isinstance(func, cst.Name) and func.value in _NOT_HELPERS:
            return
        reach = self.ctx.reach(func, dispatch_sink, now=True)
        if reach is None:
            return
        region = self._regions[-1]
        self.report(
            node,
            f"`{reach.functions[0]}()` runs inside a transaction ({region.what}) and sends a task at once: "
            f"`{reach.chain()}` ({reach.where}); the worker can start before the commit; send it with "
            "`delay_on_commit()` or `transaction.on_commit(...)`",
        )

    def dispatch(self, dispatch: Dispatch) -> None:
        if dispatch.on_commit or not self._regions:
            return
        region = self._regions[-1]
        if len(self.ctx.scopes) != region.depth:
            return  # inside a lambda/nested function: runs later (e.g. via on_commit)
        self.report(
            dispatch.call,
            f"{dispatch.display()} runs inside a transaction ({region.what}); the worker can start before the "
            "commit; use `delay_on_commit()` or `transaction.on_commit(...)`",
            self._fix(dispatch),
        )

    def _fix(self, dispatch: Dispatch) -> Fix | None:
        """``delay`` -> ``delay_on_commit`` (``apply_async`` -> ``apply_async_on_commit``).

        Guard: the result is unused (the on-commit methods return None), the target is
        Celery >= 5.4 and the call is on a task, not a signature. Safe when the task is
        defined in this file without `base=` (Django's default task class has the
        methods); for an imported task the base cannot be seen, so the fix is unsafe.
        """
        if dispatch.method not in _ON_COMMIT or not dispatch.is_statement or dispatch.via_signature:
            return None
        if self.settings.target_version < (5, 4) or not dispatch.names_a_task or dispatch.task_expr is None:
            return None
        func = dispatch.call.func
        assert isinstance(func, cst.Attribute)
        new = _ON_COMMIT[dispatch.method]
        local = dispatch.task is not None and not dispatch.task.has_option("base") and not dispatch.task.opaque_options
        return replace(func.attr, cst.Name(new), f"Use `{new}()`", SAFE if local else UNSAFE)
