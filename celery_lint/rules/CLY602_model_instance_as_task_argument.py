from __future__ import annotations

import libcst as cst

from ..model.context import Dispatch, keyword_args, positional_args
from .base import DISPATCH_NEEDLES, Rule

_QUERYSET_METHODS = {
    "get", "create", "first", "last", "latest", "earliest", "filter", "exclude", "all",
    "order_by", "select_related", "prefetch_related", "distinct", "only", "defer",
}
_SHORTCUTS = {"django.shortcuts.get_object_or_404", "django.shortcuts.get_list_or_404"}


class ModelInstanceAsTaskArgument(Rule):
    """A Django model instance or queryset passed to a task.

    ## What it does
    Reports an argument of `.delay(...)`, `.apply_async(args=..., kwargs=...)` or
    `.s(...)`/`.si(...)` that is evidently a model instance or queryset: `self` inside a
    Django model's method, `request.user`, or a name bound in the same function from
    `<Model>.objects.get/create/filter/first/...(...)` or `get_object_or_404(...)`.
    Other values (ids, `.pk`, `.values_list(...)` results) are not reported.

    ## Why is this bad?
    The task gets whatever the serializer makes of the object. With the default JSON
    serializer a model instance does not encode at all; with pickle the whole row crosses
    the broker and the worker acts on a stale copy, possibly hours later, after the row
    changed or was deleted.

    ## Example
    ```python
    order = Order.objects.get(pk=order_id)
    send_confirmation.delay(order)
    ```

    ## Use instead
    ```python
    send_confirmation.delay(order.pk)   # and Order.objects.get(pk=...) in the task
    ```

    ## Options
    None.

    ## References
    - [Celery: State (database example)](https://docs.celeryq.dev/en/stable/userguide/tasks.html#database-transactions)
    - [Celery: Serializers](https://docs.celeryq.dev/en/stable/userguide/calling.html#serializers)
    """

    code = "CLY602"
    name = "model-instance-as-task-argument"
    scope = "file+"
    needles = DISPATCH_NEEDLES + (".s(", ".si(")
    text_pattern = None

    VALID = [
        """
from django.db import models
from proj.tasks import confirm

def view(request, order_id):
    order = Order.objects.get(pk=order_id)
    confirm.delay(order.pk, request.user.pk)
    ids = list(Order.objects.filter(paid=True).values_list("id", flat=True))
    confirm.apply_async(args=(ids,))
    total = Order.objects.filter(paid=True).count()
    confirm.delay(total)

class Order(models.Model):
    def confirm(self):
        confirm.delay(self.pk)
""",
    ]
    INVALID = [
        """
from django.db import models
from django.shortcuts import get_object_or_404
from proj.tasks import confirm

def view(request, order_id):
    order = Order.objects.get(pk=order_id)
    confirm.delay(order)  # error
    confirm.apply_async(args=(request.user,))  # error
    paid = Order.objects.filter(paid=True)
    confirm.s(paid).delay()  # error
    other = get_object_or_404(Order, pk=order_id)
    confirm.apply_async(kwargs={"order": other})  # error

class Order(models.Model):
    def confirm(self):
        confirm.delay(self)  # error
""",
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._bound: dict[int, set[str]] = {}
        self._models: list[cst.ClassDef] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.ctx.is_django_model(node):
            self._models.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        if self._models and self._models[-1] is node:
            self._models.pop()

    def _key(self) -> int:
        function = self.ctx.current_function
        return id(function) if function is not None else 0

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._makes_instance(node.value):
            names = self._bound.setdefault(self._key(), set())
            names.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))

    def _makes_instance(self, node: cst.BaseExpression) -> bool:
        if not isinstance(node, cst.Call):
            return False
        if self.ctx.qualname(node.func) in _SHORTCUTS:
            return True
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _QUERYSET_METHODS:
            return False
        chain = func.value
        while isinstance(chain, (cst.Call, cst.Attribute)):
            if isinstance(chain, cst.Attribute) and chain.attr.value == "objects":
                return True
            chain = chain.func if isinstance(chain, cst.Call) else chain.value
        return False

    def _evident(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.Name):
            if node.value in self._bound.get(self._key(), ()):
                return f"`{node.value}` (a model instance or queryset)"
            scopes = self.ctx.scopes
            if node.value == "self" and self._models and len(scopes) >= 2 and scopes[-2] is self._models[-1]:
                return "`self` (a model instance)"
        if isinstance(node, cst.Attribute) and node.attr.value == "user" and isinstance(node.value, cst.Name) and node.value.value == "request":
            return "`request.user` (a model instance)"
        if self._makes_instance(node):
            return "a model instance or queryset"
        return None

    def _arguments(self, call: cst.Call, method: str) -> list[cst.BaseExpression]:
        if method in ("delay", "s", "si", "delay_on_commit"):
            return [a.value for a in call.args if a.star == ""]
        values: list[cst.BaseExpression] = []
        keywords = keyword_args(call)
        positional = positional_args(call)
        args = keywords.get("args") or (positional[0] if positional else None)
        if args is not None and isinstance(args.value, (cst.Tuple, cst.List)):
            values.extend(e.value for e in args.value.elements if isinstance(e, cst.Element))
        kwargs = keywords.get("kwargs") or (positional[1] if len(positional) > 1 else None)
        if kwargs is not None and isinstance(kwargs.value, cst.Dict):
            values.extend(e.value for e in kwargs.value.elements if isinstance(e, cst.DictElement))
        return values

    def _check(self, call: cst.Call, method: str) -> None:
        for value in self._arguments(call, method):
            what = self._evident(value)
            if what:
                self.report(value, f"{what} passed to a task: pass its primary key and load it inside the task")

    def dispatch(self, dispatch: Dispatch) -> None:
        if dispatch.method != "send_task" and not dispatch.via_signature:
            self._check(dispatch.call, dispatch.method)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("s", "si"):
            self._check(node, node.func.attr.value)
