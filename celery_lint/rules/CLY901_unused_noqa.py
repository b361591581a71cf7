from __future__ import annotations

from .base import Example, Rule


class UnusedNoqa(Rule):
    """A `# noqa: CLY...` code that suppresses nothing.

    ## What it does
    Reports, in the CLI, each CLY code in a `# noqa: ...` comment for which no finding of
    that code was reported on the line (a noqa on the last line of a multi-line string
    covers the whole string, as in flake8). Codes of rules that are not running in this
    run are not judged (the code may matter under another configuration); codes of other
    tools (`E501`, `B008`) and bare `# noqa` comments are left alone. Off by default:
    select it with `--extend-select CLY901`. It is computed after the other rules, so it is
    not available through flake8 (flake8 has no notion of unused noqa).

    ## Why is this bad?
    A stale `# noqa` hides the next real problem on that line. After `--add-noqa` adopted
    a legacy codebase, this rule shows which suppressions the fixes made unnecessary.

    ## Example
    ```python
    @shared_task(name="shop.ping")  # noqa: CLY101
    def ping(): ...
    ```

    ## Use instead
    ```python
    @shared_task(name="shop.ping")
    def ping(): ...
    ```

    ## Fix safety
    Safe: removing a code that suppresses nothing changes no finding and no behaviour.

    ## Options
    None.

    ## References
    - [flake8: Selecting and ignoring violations](https://flake8.pycqa.org/en/latest/user/violations.html)
    - [Celery: Tasks](https://docs.celeryq.dev/en/stable/userguide/tasks.html)
    """

    code = "CLY901"
    in_tests = True  # judged only for the codes of rules that run in the file
    name = "unused-noqa"
    default_enabled = False
    fix = "safe"
    needles = ()
    text_pattern = None

    VALID = [
        Example(
            """
from celery import shared_task

@shared_task  # noqa: CLY101
def ping():
    return 1

x = 1  # noqa: E501
""",
            options={"extend-select": ["CLY901"]},
        ),
    ]
    INVALID = [
        Example(
            """
from celery import shared_task

@shared_task(name="proj.ping")  # noqa: CLY101  # error
def ping():
    return 1
""",
            options={"extend-select": ["CLY901"]},
        ),
    ]
