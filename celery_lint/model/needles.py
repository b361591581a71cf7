"""What makes a file worth parsing: the needles and limits, importable without libcst.

The rules take their needles from here, and the CLI's fast path (a commit that touches
no Celery code never imports libcst) reads them before anything heavy is imported.
"""

from __future__ import annotations

import re

#: Text that makes a file worth parsing for rules about task definitions: every task
#: decorator resolves through an import from ``celery`` or from an app module
#: (``celery``/``celery_app``/``worker``). Known limit: a file whose only app import is
#: from a module named otherwise (``from proj.app import app``) is not parsed.
TASK_DEFINITION_NEEDLES = ("celery", "worker")


class TextPattern:
    """Regexes a file must all match, each searched only if the file holds one of its literals.

    ``re`` has no fast path for a pattern that starts with ``\\b``, a lookbehind or an
    alternation: it tries the pattern at every offset, 0.1-0.45 s per pattern over
    readthedocs.org's 953 files. Every match of a clause's regex contains one of its
    ``literals`` (a test checks each clause on every rule example and fixture), so
    ``str.__contains__`` turns most files away first, and only files holding a literal pay
    for the regex. Several clauses express "both occur" (CLY406) without the anchored
    lookaheads that scan the whole text once per alternative.
    """

    __slots__ = ("clauses", "pattern")

    def __init__(self, *clauses: tuple[str, tuple[str, ...]]) -> None:
        if not clauses or any(not literals for _, literals in clauses):
            raise ValueError("TextPattern needs clauses, each with at least one literal")
        self.clauses = tuple((re.compile(regex), tuple(literals)) for regex, literals in clauses)
        #: The regex, for messages and the index's combined pattern (one clause), or the
        #: clauses joined by `` & ``.
        self.pattern = " & ".join(regex for regex, _ in clauses)

    def matches(self, text: str) -> bool:
        for regex, literals in self.clauses:
            if not any(literal in text for literal in literals) or regex.search(text) is None:
                return False
        return True

    def __repr__(self) -> str:
        return f"TextPattern({self.pattern!r})"


#: ... and every task definition spells ``.task`` or ``shared_task`` (``@app.task``,
#: ``@shared_task(...)``, ``app.task(fn)``).
TASK_DEFINITION_PATTERN = TextPattern((r"(?:\.|\bshared_)task\b", (".task", "shared_task")))
#: Text that makes a file worth parsing for rules about sending tasks: a call, not a
#: mock attribute (``task.delay.assert_called_once_with``) or a patch target string.
DISPATCH_NEEDLES = (".delay(", "apply_async(", "send_task(", "delay_on_commit(")
#: CLY601: a transaction whose calls may reach a dispatch through helpers (the call graph).
TRANSACTION_NEEDLES = ("atomic", "def save(", "def delete(")
#: CLY107: a models module importing a tasks module (with the project index, any module
#: defining tasks: then the CLI's fast path never answers for a models module).
MODELS_NEEDLES = ("tasks",)
#: ``models.py`` or a module of a ``models/`` package, not in a test directory and not a
#: ``test_*.py`` module (``tests/models/test_order.py`` is a test, not a models module).
MODELS_PATH_PATTERN = re.compile(r"^(?!(?:.*/)?(?:tests?|testing)/)(?!(?:.*/)?test_[^/]*$)(?:.*/)?(?:models\.py|models/[^/]+\.py)$")

#: Needles of rules about one option or call wherever it appears (settings modules,
#: beat schedules, ``retry(...)``): CLY204, CLY205, CLY206, CLY207, CLY308, CLY403,
#: CLY404, CLY706 and the beat rules. A test checks that every rule's needles are here.
OPTION_NEEDLES = (
    "priority",
    "soft_time_limit",
    "retry_policy",
    "retry(",
    ".s(",
    ".si(",
    "signature(",
    "countdown",
    "default_retry_delay",
    "eta=",
    "expires=",
    "lock(",
    "Lock(",
    "EAGER",
    "eager",
    # the project rules
    "task_routes",
    "TASK_ROUTES",
    "CELERY_ROUTES",
    "chord",
    "Signature(",
    # CLY409: the default queue's setting (a task's or a call's `queue=` comes with a
    # task definition or a dispatch)
    "default_queue",
    "DEFAULT_QUEUE",
)

#: Needles that count only where they start a word: ``get_signature(`` is not a call to
#: Celery's ``signature`` (no rule reads a call whose name merely ends in one of these).
WORD_START_NEEDLES = {"signature(": re.compile(r"(?<!\w)signature\(")}

#: Beat schedules (CLY406, CLY704, CLY705): every spelling of the setting contains
#: one of these, and the call form is ``add_periodic_task``.
BEAT_NEEDLES = ("schedule", "SCHEDULE", "add_periodic_task")
#: CLY703.
CRONTAB_NEEDLES = ("crontab",)

#: Every needle of every rule, or a substring of it: a file containing none of them
#: cannot be reported on. The CLI's fast path relies on this being complete.
ALL_NEEDLES = TASK_DEFINITION_NEEDLES + DISPATCH_NEEDLES + TRANSACTION_NEEDLES + MODELS_NEEDLES + OPTION_NEEDLES + BEAT_NEEDLES + CRONTAB_NEEDLES

#: Files larger than this are reported (CLY000) instead of parsed.
MAX_FILE_BYTES = 20 * 1024 * 1024

#: ``Celery`` as a word: a file without it defines no app factory or subclass (they call
#: or derive from ``Celery``); ``CeleryScheduler`` does not count.
CELERY_WORD = re.compile(r"(?<![\w])Celery(?![\w])")
CELERY_WORD_BYTES = re.compile(rb"(?<![\w])Celery(?![\w])")


#: Substrings shared by several needles (``Lock(`` and ``lock(``; ``retry(``,
#: ``retry_policy`` and ``default_retry_delay``): the prefilter looks for the group's
#: needles only in files holding the guard (:meth:`celery_lint.engine.Engine.active_rules`).
NEEDLE_GUARDS = ("ock(", "ignature(", "retry", "delay", "ROUTES")
