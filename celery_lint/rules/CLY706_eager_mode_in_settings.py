from __future__ import annotations

import re

from ..model.recognise import TEST_MODULE, is_test_module
from ..model.values import is_unknown
from .base import Example, Rule


class EagerModeInSettings(Rule):
    """`task_always_eager = True` outside test settings.

    ## What it does
    Reports `task_always_eager = True` set in a module that is not a test module: the
    Django spellings `CELERY_TASK_ALWAYS_EAGER`/`CELERY_ALWAYS_EAGER`, a lowercase
    `task_always_eager` in a config module, `app.conf.task_always_eager = True`,
    `app.conf.update(task_always_eager=True)` and `Celery(..., task_always_eager=True)`.
    Modules whose path below the project root names tests (`tests/`, `test_*.py`,
    `settings/test.py`, `conftest.py`) are exempt. In a settings module, class bodies count
    too (class-based settings: `class Base: CELERY_TASK_ALWAYS_EAGER = True`). With the
    project index, the finding is left out when another non-test module of the project sets
    the setting to something else: a base settings module whose deployments override it
    (readthedocs.org's `base.py` sets `True`, its `docker_compose.py` `False`) is a
    development default, not production in eager mode.

    ## Why is this bad?
    In eager mode `.delay()` runs the task inline, in the web process, and never touches
    the broker: production requests block on background work, retries and time limits do
    not apply, and the worker configuration is never exercised. Celery's docs: eager mode
    is for tests only.

    ## Example
    ```python
    # settings/production.py
    CELERY_TASK_ALWAYS_EAGER = True
    ```

    ## Use instead
    ```python
    # settings/test.py
    CELERY_TASK_ALWAYS_EAGER = True
    ```

    ## Options
    None.

    ## References
    - [Celery: task_always_eager](https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-always-eager)
    - [Celery: Testing with Celery](https://docs.celeryq.dev/en/stable/userguide/testing.html)
    """

    code = "CLY706"
    name = "eager-mode-in-settings"
    needles = ("EAGER", "eager")
    text_pattern = None
    #: Not test modules (the rule exempts them; do not even parse them).
    path_pattern = re.compile(rf"^(?!.*(?:{TEST_MODULE.pattern}))")

    VALID = [
        Example("CELERY_TASK_ALWAYS_EAGER = True\n", path="proj/settings/test.py"),
        Example("CELERY_TASK_ALWAYS_EAGER = False\nEAGER = True\n", path="proj/settings/production.py"),
        Example("task_always_eager = True\n", path="tests/celeryconfig.py"),
        Example(
            "class Base:\n    CELERY_TASK_ALWAYS_EAGER = True\n",
            path="proj/settings/base.py",
            files={"proj/settings/production.py": "from .base import Base\n\nclass Production(Base):\n    CELERY_TASK_ALWAYS_EAGER = False\n"},
        ),
    ]
    INVALID = [
        Example("import os\n\nCELERY_TASK_ALWAYS_EAGER = True  # error\n", path="proj/settings/production.py"),
        Example(
            """
from celery import Celery

app = Celery("proj")
app.conf.task_always_eager = True  # error
""",
            path="proj/celery.py",
        ),
        Example("class Base:\n    CELERY_TASK_ALWAYS_EAGER = True  # error\n", path="proj/settings/base.py"),
    ]

    def module_leave(self) -> None:
        if is_test_module(self.ctx.rel):
            return
        node = self.ctx.file_config.get("task_always_eager")
        if node is None or self.ctx.setting("task_always_eager") is not True:
            return
        project = self.ctx.index.setting("task_always_eager") if self.ctx.index is not None else None
        if project is False or is_unknown(project):
            return  # overridden in another settings module
        self.report(node, "`task_always_eager = True` outside test settings: `.delay()` runs tasks inline, without a broker; "
            "set it in test settings only")
