from __future__ import annotations


import libcst as cst

from ..model.callgraph import blocking_sink, blocking_without_timeout
from ..model.summaries import TIMEOUT_CONTEXTS
from ..model.context import keyword_args, literal_value, positional_args
from ..model.side_effects import SideEffects
from .base import Example, Rule

class BlockingIoWithoutTimeout(Rule):
    """Network call without a timeout inside a task.

    ## What it does
    Reports, inside a task's body, `requests` calls (`requests.get(...)`, a
    `requests.Session()`'s methods), `urllib.request.urlopen`, `socket.create_connection`
    and `smtplib.SMTP`/`SMTP_SSL` without a timeout (`timeout=` or the positional slot).
    Calls are resolved through imports and simple local bindings
    (`s = requests.Session(); s.get(url)`). httpx sets a 5-second timeout by default, so
    its calls are reported only with an explicit `timeout=None`. Calls inside
    `with eventlet.Timeout(...)` or `with gevent.Timeout(...)` are bounded by that block and
    not reported.

    Calls the task makes to functions of the project are followed (any depth, across
    modules, bounded: see "Calls through helpers" in the README): a task that calls
    `fetch(url)`, whose body calls `requests.get(url)` without a timeout, is reported at its
    call of `fetch`, and the message names the path and where the timeout is missing
    (`fetch() -> requests.get`, `shop/net.py:5`): that line is where the fix goes. A task
    that reaches the same call from several places is reported once, at the first.

    ## Why is this bad?
    Without a timeout, a server that accepts the connection and never answers blocks the
    call forever. The worker slot is gone: the task never finishes, never retries, and only
    a hard time limit (if one is set) kills it. A few such hangs stop a whole worker.

    ## Example
    ```python
    @shared_task
    def ping_partner(url):
        return requests.get(url).status_code
    ```

    ## Use instead
    ```python
    @shared_task
    def ping_partner(url):
        return requests.get(url, timeout=(3.05, 27)).status_code
    ```

    ## Options
    None.

    ## References
    - [Requests: Timeouts](https://requests.readthedocs.io/en/latest/user/advanced/#timeouts)
    - [Celery: Time limits](https://docs.celeryq.dev/en/stable/userguide/workers.html#time-limits)
    """

    code = "CLY603"
    name = "blocking-io-without-timeout"
    requires = (SideEffects,)

    VALID = [
        """
import httpx
import requests
from celery import shared_task

@shared_task(name="proj.ping")
def ping(url):
    session = requests.Session()
    session.get(url, timeout=5)
    httpx.get(url)
    return requests.get(url, timeout=(3, 10)).status_code

def not_a_task(url):
    return requests.get(url)
""",
        # A block under eventlet's (or gevent's) own timeout is bounded.
        """
import eventlet
import requests
from celery import shared_task

@shared_task(name="proj.ping")
def ping(url):
    with eventlet.Timeout(30):
        return requests.get(url).status_code
""",
        # `get` on something that is not requests.
        """
from celery import shared_task

@shared_task(name="proj.read")
def read(cache, key):
    return cache.get(key)
""",
    ]
    INVALID = [
        # Through a helper of another module, two calls deep.
        Example(
            """
from celery import shared_task
from shop.net import refresh

@shared_task(name="shop.refresh")
def refresh_rates():
    return refresh()  # error
""",
            path="shop/tasks.py",
            files={
                "shop/net.py": (
                    "import requests\n\ndef refresh():\n    return fetch('https://rates')\n\n"
                    "def fetch(url):\n    return requests.get(url).json()\n"
                )
            },
        ),
        """
import httpx
import requests
from celery import shared_task
from urllib.request import urlopen

@shared_task(name="proj.ping")
def ping(url):
    session = requests.Session()
    session.post(url, json={})  # error
    urlopen(url)  # error
    httpx.get(url, timeout=None)  # error
    return requests.get(url).status_code  # error
""",
    ]

    _bounded = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._reached: set[tuple[int, str]] = set()

    def visit_With(self, node: cst.With) -> None:
        if self._bounds(node):
            self._bounded += 1

    def leave_With(self, node: cst.With) -> None:
        if self._bounds(node):
            self._bounded -= 1

    def _bounds(self, node: cst.With) -> bool:
        """``with eventlet.Timeout(30):``: the block has a timeout of its own."""
        return any(
            isinstance(item.item, cst.Call) and self.ctx.qualname(item.item.func) in TIMEOUT_CONTEXTS for item in node.items
        )

    def visit_Call(self, node: cst.Call) -> None:
        task = self.ctx.current_task
        if task is None or task.func is None or self._bounded or self.ctx.is_decorator(node):
            return
        name = self.ctx.analyses[SideEffects].call_name(node.func)
        if name:
            keywords = keyword_args(node)
            timeout = keywords.get("timeout")
            found = blocking_without_timeout(
                name,
                keywords,
                len(positional_args(node)),
                any(a.star == "**" for a in node.args),
                timeout is not None and literal_value(timeout.value) is None,
            )
            if found:
                self.report(node, f"{found} in task `{task.name}` can block the worker forever; pass a timeout")
                return
        reach = self.ctx.reach(node.func, blocking_sink)
        if reach is not None and (id(task.func), reach.where) not in self._reached:
            self._reached.add((id(task.func), reach.where))  # one finding per task and missing timeout
            self.report(
                node,
                f"task `{task.name}` reaches `{reach.what}` without a timeout through `{reach.chain()}` "
                f"({reach.where}): it can block the worker forever; pass a timeout",
            )
