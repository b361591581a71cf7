from __future__ import annotations

import libcst as cst

from ..model.context import dotted_name
from .base import Rule

_BROAD = {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}


def _catches(handler: cst.ExceptHandler) -> set[str]:
    if handler.type is None:
        return {"BaseException"}
    items = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    names = set()
    for item in items:
        value = item.value if isinstance(item, cst.Element) else item
        name = dotted_name(value)
        if name:
            names.add(name)
    return names


def _reraises(handler: cst.ExceptHandler) -> bool:
    """The handler has a bare ``raise`` at its top level."""
    body = handler.body.body if isinstance(handler.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            if any(isinstance(s, cst.Raise) and s.exc is None for s in statement.body):
                return True
    return False


def swallowing_handler(node: cst.Try) -> cst.ExceptHandler | None:
    """The first handler that would catch ``celery.exceptions.Retry`` and not re-raise it."""
    for handler in node.handlers:
        caught = _catches(handler)
        if any(name == "Retry" or name.endswith(".Retry") for name in caught):
            return None  # Retry is handled (usually re-raised) before any broad handler
        if caught & _BROAD:
            return None if _reraises(handler) else handler
    return None


class RetrySwallowedByBroadExcept(Rule):
    """`self.retry()` inside a `try` whose broad `except` swallows `Retry`.

    ## What it does
    Reports `self.retry(...)`/`<task>.retry(...)` in the body of a `try` whose handlers
    include a bare `except:`, `except Exception` or `except BaseException` that comes
    before any handler for `Retry` and does not re-raise (no bare `raise` in it).

    ## Why is this bad?
    `retry()` works by raising `celery.exceptions.Retry`, a subclass of `Exception`. The
    broad handler catches it: the task is not retried, the handler runs as if a real error
    happened, and the task usually finishes "successfully" having done nothing.

    ## Example
    ```python
    @shared_task(bind=True)
    def sync(self):
        try:
            if not ready():
                raise self.retry(countdown=30)
            push()
        except Exception:
            log.exception("sync failed")
    ```

    ## Use instead
    ```python
        except Retry:
            raise
        except Exception:
            log.exception("sync failed")
    ```
    or call `self.retry()` outside the `try`.

    ## Options
    None.

    ## References
    - [Celery: Retrying](https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying)
    - [Celery: celery.exceptions.Retry](https://docs.celeryq.dev/en/stable/reference/celery.exceptions.html#celery.exceptions.Retry)
    """

    code = "CLY303"
    name = "retry-swallowed-by-broad-except"

    VALID = [
        """
from celery import shared_task
from celery.exceptions import Retry

@shared_task(name="proj.sync", bind=True)
def sync(self):
    try:
        raise self.retry(countdown=30)
    except Retry:
        raise
    except Exception:
        return None

@shared_task(name="proj.push", bind=True)
def push(self):
    try:
        raise self.retry(countdown=30)
    except Exception:
        raise

@shared_task(name="proj.pull", bind=True)
def pull(self):
    try:
        return 1
    except Exception as exc:
        raise self.retry(exc=exc)
""",
    ]
    INVALID = [
        """
from celery import shared_task

@shared_task(name="proj.sync", bind=True)
def sync(self):
    try:
        raise self.retry(countdown=30)  # error
    except Exception:
        return None

@shared_task(name="proj.push", bind=True)
def push(self):
    try:
        self.retry(countdown=30)  # error
    except:
        pass
""",
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._bodies: dict[int, cst.Try] = {}
        self._active: list[tuple[cst.Try, int]] = []

    def visit_Try(self, node: cst.Try) -> None:
        self._bodies[id(node.body)] = node

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        owner = self._bodies.get(id(node))
        if owner is not None:
            self._active.append((owner, len(self.ctx.scopes)))

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if self._active and self._active[-1][0].body is node:
            self._active.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not self._active:
            return
        if self.ctx.task_retried_by(node, body_only=True) is None:
            return
        receiver = node.func.value.value  # type: ignore[attr-defined]
        for try_node, depth in reversed(self._active):
            if depth != len(self.ctx.scopes):
                break
            handler = swallowing_handler(try_node)
            if handler is not None:
                caught = "bare `except:`" if handler.type is None else "`except Exception`"
                self.report(node, f"`{receiver}.retry()` raises `Retry`, which the {caught} of this `try` swallows: the task is not retried; re-raise it first (`except Retry: raise`) or narrow the `except`")
                return
