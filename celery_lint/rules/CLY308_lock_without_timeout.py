from __future__ import annotations

import libcst as cst

from ..model.context import dotted_name, keyword_args
from .base import Rule

#: Lock classes, by qualified name, whose lifetime keyword is given.
_LOCK_CLASSES = {"redis.lock.Lock": "timeout", "redis_lock.Lock": "expire"}
_RECEIVER_HINTS = ("cache", "redis", "client", "conn")


class LockWithoutTimeout(Rule):
    """Distributed lock taken in a task without a timeout.

    ## What it does
    Reports, inside a task's body, `cache.lock(...)` (django-redis), `<redis>.lock(...)`
    (redis-py: a receiver imported from `redis`/`django_redis`, or whose name mentions
    `cache`, `redis`, `client` or `conn`), `redis.lock.Lock(...)` and
    `redis_lock.Lock(...)` without a lifetime (`timeout=`, or `expire=` for
    python-redis-lock). `threading.Lock()` and other in-process locks are not this rule's
    business.

    ## Why is this bad?
    A task holding a lock with no expiry keeps it forever if the worker dies mid-task
    (OOM, deploy, `SIGKILL` after the hard time limit). Every later run waits for or skips
    on a lock nobody will release: the periodic task silently never runs again.

    ## Example
    ```python
    @shared_task
    def rebuild_index():
        with cache.lock("rebuild-index"):
            rebuild()
    ```

    ## Use instead
    ```python
        with cache.lock("rebuild-index", timeout=15 * 60):
            rebuild()
    ```

    ## Options
    None.

    ## References
    - [Celery: Ensuring a task is only executed one at a time](https://docs.celeryq.dev/en/stable/tutorials/task-cookbook.html#ensuring-a-task-is-only-executed-one-at-a-time)
    - [redis-py: Lock](https://redis.readthedocs.io/en/stable/lock.html)
    """

    code = "CLY308"
    name = "lock-without-timeout"
    needles = ("lock(", "Lock(")  # and, by the default text_pattern, a task definition

    VALID = [
        """
import threading
from celery import shared_task
from django.core.cache import cache

@shared_task(name="proj.rebuild")
def rebuild():
    with cache.lock("rebuild", timeout=900):
        mutex = threading.Lock()
        return mutex

def outside_a_task():
    with cache.lock("x"):
        return 1
""",
    ]
    INVALID = [
        """
import redis
from celery import shared_task
from django.core.cache import cache
from redis.lock import Lock

@shared_task(name="proj.rebuild")
def rebuild(key):
    with cache.lock("rebuild"):  # error
        client = redis.Redis()
        lock = client.lock(key, blocking_timeout=5)  # error
        other = Lock(client, "x")  # error
        return lock, other
""",
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.current_task is None:
            return
        func = node.func
        lifetime = None
        if isinstance(func, cst.Attribute) and func.attr.value == "lock":
            receiver = dotted_name(func.value) or ""
            qualified = self.ctx.qualname(func.value) or ""
            if qualified.startswith(("django.core.cache", "django_redis", "redis")) or any(
                hint in receiver.lower() for hint in _RECEIVER_HINTS
            ):
                lifetime = "timeout"
        else:
            lifetime = _LOCK_CLASSES.get(self.ctx.qualname(func) or "")
        if lifetime is None:
            return
        keywords = keyword_args(node)
        if lifetime in keywords or "timeout" in keywords or "expire" in keywords or any(a.star == "**" for a in node.args):
            return
        self.report(node, f"lock taken in task `{self.ctx.current_task.name}` without `{lifetime}=`: if the worker dies, it is never released; pass `{lifetime}=`")
