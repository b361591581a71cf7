from __future__ import annotations

import libcst as cst

from ..model.beat import BEAT_NEEDLES, BEAT_PATTERN, BeatEntry, BeatSchedule
from ..model.context import keyword_args, string_value
from .base import Example, Rule

_ON = {"extend-select": ["CLY705"]}


class PeriodicTaskWithoutExpires(Rule):
    """Beat entry without `options={"expires": ...}`.

    ## What it does
    Reports a beat entry (as recognised by CLY704) whose `options` has no `expires`: an
    entry with no `"options"`, or with an `"options"` dict display without `"expires"`.
    For `add_periodic_task(...)`, a call without an `expires=` keyword whose signature
    does not `.set(expires=...)` either. Entries whose options are not a literal, or
    that use `**spread`, are not reported. Off by default (flake8-pie PIE785 parity).

    ## Why is this bad?
    Beat sends a message every period whether or not the workers keep up. When they are
    down or backlogged, the queue fills with runs of the same periodic task that all
    execute when the workers come back, long after they mattered. `expires` (about one
    period) lets the worker drop the stale ones.

    ## Example
    ```python
    app.conf.beat_schedule = {
        "refresh-rates": {"task": "shop.tasks.refresh_rates", "schedule": 300.0},
    }
    ```

    ## Use instead
    ```python
    app.conf.beat_schedule = {
        "refresh-rates": {
            "task": "shop.tasks.refresh_rates",
            "schedule": 300.0,
            "options": {"expires": 290},
        },
    }
    ```

    ## Options
    None.

    ## References
    - [Celery: Expiration](https://docs.celeryq.dev/en/stable/userguide/calling.html#expiration)
    - [flake8-pie PIE785](https://github.com/sbdchd/flake8-pie#pie785-celery-require-tasks-expire)
    """

    code = "CLY705"
    name = "periodic-task-without-expires"
    default_enabled = False
    needles = BEAT_NEEDLES
    text_pattern = BEAT_PATTERN
    requires = (BeatSchedule,)

    VALID = [
        Example(
            """
from celery import Celery

app = Celery("shop")
app.conf.beat_schedule = {
    "refresh": {"task": "shop.tasks.refresh", "schedule": 300.0, "options": {"expires": 290}},
    "dynamic": {"task": "shop.tasks.other", "schedule": 60.0, "options": OPTIONS},
}

@app.on_after_configure.connect
def setup(sender, **kwargs):
    sender.add_periodic_task(10.0, ping.s(), expires=9)
    sender.add_periodic_task(10.0, ping.s().set(expires=9), name="ping2")
    sender.add_periodic_task(10.0, ping.s(), **OPTIONS)
""",
            path="shop/celery.py",
            options=_ON,
        ),
        Example('LIMITS = {"refresh": {"rate": 300.0}}\n', path="shop/settings.py", options=_ON),
    ]
    INVALID = [
        Example(
            """
from celery import Celery

app = Celery("shop")
app.conf.beat_schedule = {
    "refresh": {"task": "shop.tasks.refresh", "schedule": 300.0},  # error
    "queued": {"task": "shop.tasks.other", "schedule": 60.0, "options": {"queue": "low"}},  # error
}

@app.on_after_configure.connect
def setup(sender, **kwargs):
    sender.add_periodic_task(10.0, ping.s(), name="ping")  # error
""",
            path="shop/celery.py",
            options=_ON,
        ),
    ]

    def module_leave(self) -> None:
        for entry in self.ctx.analyses[BeatSchedule].entries:
            if not entry.opaque and not self._expires(entry):
                self.report(entry.node, f"{entry.label} has no `expires` option: runs queued while the workers are down all execute late; set `expires` in its options")

    def _expires(self, entry: BeatEntry) -> bool:
        """True when the entry sets ``expires`` or its options cannot be read."""
        if isinstance(entry.node, cst.Call):
            if "expires" in keyword_args(entry.node):
                return True
            signature = entry.field("sig")
            return signature is None or _sets_expires(signature)
        options = entry.field("options")
        if options is None:
            return False
        if not isinstance(options, cst.Dict):
            return True
        keys = set()
        for element in options.elements:
            if not isinstance(element, cst.DictElement):
                return True
            keys.add(string_value(element.key))
        return "expires" in keys


def _sets_expires(node: cst.BaseExpression) -> bool:
    """Does a signature expression pass ``expires=`` anywhere along its call chain?"""
    while isinstance(node, cst.Call):
        if "expires" in keyword_args(node) or any(arg.star == "**" for arg in node.args):
            return True
        func = node.func
        node = func.value if isinstance(func, cst.Attribute) else func
    return False
