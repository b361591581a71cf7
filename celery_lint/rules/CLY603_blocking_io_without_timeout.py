from __future__ import annotations

import re

import libcst as cst

from ..model.context import keyword_args, literal_value, positional_args
from ..model.side_effects import SideEffects
from .base import Rule

_HTTP = r"(?:get|post|put|patch|delete|head|options|request)"
#: dotted call name -> index of a positional `timeout` argument (None: keyword only).
_BLOCKING = [
    (re.compile(rf"requests\.{_HTTP}"), None),
    (re.compile(rf"requests\.(?:\w+\.)*Session\(\)\.{_HTTP}"), None),
    (re.compile(rf"requests\.session\(\)\.{_HTTP}"), None),
    (re.compile(r"urllib\.request\.urlopen"), 2),
    (re.compile(r"socket\.create_connection"), 1),
    (re.compile(r"smtplib\.SMTP(?:_SSL)?"), 3),
]
_HTTPX = re.compile(rf"httpx\.(?:{_HTTP}|(?:Async)?Client)")
#: Context managers that bound everything inside them with a timeout of their own.
TIMEOUT_CONTEXTS = frozenset(
    {"eventlet.Timeout", "eventlet.timeout.Timeout", "gevent.Timeout", "gevent.timeout.Timeout", "func_timeout.func_timeout"}
)


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
        if task is None or task.func is None or self._bounded:
            return
        name = self.ctx.analyses[SideEffects].call_name(node.func)
        if not name:
            return
        keywords = keyword_args(node)
        if _HTTPX.fullmatch(name):
            if "timeout" in keywords and literal_value(keywords["timeout"].value) is None:
                self.report(node, f"`{name}(timeout=None)` in task `{task.name}` can block the worker forever")
            return
        for pattern, position in _BLOCKING:
            if not pattern.fullmatch(name):
                continue
            has_positional = position is not None and len(positional_args(node)) > position
            if "timeout" in keywords or has_positional or any(a.star == "**" for a in node.args):
                return
            self.report(node, f"`{name}` without `timeout=` in task `{task.name}`: a silent server blocks the worker forever")
            return
