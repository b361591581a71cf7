"""The one recogniser: what a Celery app, task decorator, task name and setting are.

Two readers use these decisions. The per-file context (``context.py``) reads libcst
trees, for rules that need positions and fixes; the project index (``index.py``) reads
CPython's ``ast``, about 8x cheaper, for every file of the project. Each turns a node
into names (``app.task``, ``celery.shared_task``) through its file's imports and asks
here; nothing here knows either tree. ``tests/test_recogniser.py`` runs both readers on
every fixture and rule example and requires the same tasks, names, options, apps and
project settings; ``bench/agreement.py`` does the same on real trees. Beat entries have
one reader (``beat.py``), so they are decided there.
"""

from __future__ import annotations

import re
from typing import Iterable, Protocol, TypeVar

from .celery_api import APP_MODULE_NAMES


class AppFinder(Protocol):
    """What the recogniser asks of the project's modules (``apps.AppLocator`` answers,
    reading them with ``ast``, never importing them)."""

    def defines_app(self, module: str, name: str, importer: str, importer_module: str | None) -> bool: ...

    def makes_app(self, module: str, name: str, importer: str, importer_module: str | None) -> bool: ...

    def makes_app_here(self, path: str, module: str | None, name: str) -> bool: ...


#: Functions whose call (or bare use) decorates a task: ``@shared_task``, ``@shared_task(...)``.
SHARED_TASK_FUNCTIONS = frozenset({"celery.shared_task", "celery.app.shared_task"})
#: Classes whose call makes a Celery app (a subclass defined in the file counts too).
APP_CLASSES = frozenset({"celery.Celery"})
#: The proxy to the app in use; ``current_app.task`` decorates a task like ``app.task``.
CURRENT_APP = "celery.current_app"
#: Task base classes; a class deriving directly from one sets task options as attributes.
TASK_BASE_CLASSES = frozenset({"celery.Task", "celery.app.task.Task", "celery.task.Task"})

V = TypeVar("V")

SHARED_TASK = "shared_task"
APP_TASK = "app.task"

#: Settings the project index keeps (the project-aware rules read these).
INDEXED_SETTINGS = frozenset(
    {
        "task_ignore_result",
        "task_acks_late",
        "task_reject_on_worker_lost",
        "task_create_missing_queues",
        "task_track_started",
        "result_extended",
        "task_routes",
        "task_queues",
        "task_default_queue",
        "broker_transport_options",
        "broker_url",
        "result_backend",
        "task_always_eager",
        "beat_scheduler",
        # the modules a worker imports (CLY108): `include=`, `imports`/`CELERY_IMPORTS`
        "include",
        "imports",
    }
)

# Old uppercase setting names (Django's ``CELERY_`` namespace, Celery 3) -> Celery 4+ names.
_OLD_SETTING_NAMES = {
    "IGNORE_RESULT": "task_ignore_result",
    "ACKS_LATE": "task_acks_late",
    "CREATE_MISSING_QUEUES": "task_create_missing_queues",
    "TRACK_STARTED": "task_track_started",
    "ROUTES": "task_routes",
    "QUEUES": "task_queues",
    "DEFAULT_QUEUE": "task_default_queue",
    "ALWAYS_EAGER": "task_always_eager",
    "RESULT_BACKEND": "result_backend",
    "BROKER_TRANSPORT_OPTIONS": "broker_transport_options",
}
#: Celery 3 names read without the ``CELERY_`` prefix.
_BARE_OLD_NAMES = {"BROKER_URL": "broker_url", "BROKER_TRANSPORT_OPTIONS": "broker_transport_options"}
_SETTING_PREFIXES = ("task_", "broker_", "result_", "worker_", "beat_")
_SETTINGS_PATH = re.compile(r"(^|/)(settings|config|conf)(/|\.py$|_)")
_CONFIG_MODULES = ("celeryconfig.py", "celery_config.py")


def is_app_class(qualified: str | None, local_name: str | None = None, app_classes: frozenset[str] | set[str] = frozenset()) -> bool:
    """Does calling this make an app? ``qualified``: the callee through the file's imports;
    ``local_name``: the callee when it is a bare name (a ``Celery`` subclass defined here)."""
    return qualified in APP_CLASSES or (local_name is not None and local_name in app_classes)


def alias_of(qualified: str | None) -> str | None:
    """What ``X = <expression>`` binds ``X`` to as an alias: the expression's name through the
    file's imports (``Celery = celery.Celery`` makes ``Celery`` mean ``celery.Celery``), or
    None when the expression is not a name reached through an import (a plain value)."""
    return qualified


def makes_app(
    qualified: str | None,
    local_name: str | None,
    app_classes: frozenset[str] | set[str],
    locator: AppFinder | None,
    path: str,
    module: str | None,
) -> bool:
    """Does calling this make an app? ``Celery`` (any alias) or a subclass defined here
    (:func:`is_app_class`), or a project function or class that makes one: a factory such
    as Flask's ``make_celery(app)``, defined here (``local_name``) or imported."""
    if is_app_class(qualified, local_name, app_classes):
        return True
    if locator is None:
        return False
    if qualified is None:
        return local_name is not None and locator.makes_app_here(path, module, local_name)
    source, _, name = qualified.rpartition(".")
    if not source or source == "celery" or source.startswith("celery.") or source.startswith("."):
        return False
    return locator.makes_app(source, name, path, module)


def is_app_name(qualified: str | None, locator: AppFinder | None, path: str, module: str | None) -> bool:
    """Is a name an app, given what it refers to through the file's imports?

    ``celery.current_app``; a name from a module called ``celery``/``celery_app``/
    ``worker`` (trusted by its name); or a name that the project module it comes from
    defines as an app (read from disk by ``locator``, never imported). Names bound to an
    app in the file itself are the caller's to know.
    """
    if qualified is None:
        return False
    if qualified == CURRENT_APP:
        return True
    source, _, name = qualified.rpartition(".")
    if not source or source == "celery" or source.startswith("celery."):
        return False
    if source.rpartition(".")[2] in APP_MODULE_NAMES:
        return True
    if locator is None or source.startswith("."):
        return False
    return locator.defines_app(source, name, path, module)


def decorator_kind(callee: str | None, attribute: str | None, receiver_is_app: bool) -> str | None:
    """:data:`SHARED_TASK` or :data:`APP_TASK` when a decorator (or the callee of a decorator
    call) makes a task. ``callee``: its name through the imports; ``attribute``: the last
    part when it is an attribute (``task`` in ``app.task``); ``receiver_is_app``: whether
    what stands before that attribute is an app."""
    if callee in SHARED_TASK_FUNCTIONS:
        return SHARED_TASK
    if attribute == "task" and receiver_is_app:
        return APP_TASK
    return None


def spread_options(entries: Iterable[tuple[object, V]]) -> dict[str, V] | None:
    """The options a ``**NAME`` spread on a task decorator passes, when ``NAME`` is bound at
    module level to a dict display: its ``(key, value)`` entries (a key ``None`` for a
    ``**other`` inside it). Known when every key is a string literal; the values are the
    reader's (a value that is not a literal is unknown on its own, it does not hide the
    other options). None: the spread is opaque."""
    options: dict[str, V] = {}
    for key, value in entries:
        if not isinstance(key, str):
            return None
        options[key] = value
    return options


#: What a ``send_task`` receiver may be called when nothing proves it is an app: a name
#: (``app.send_task``) or the last attribute (``self.app.send_task`` in a bound task).
APP_LIKE_NAMES = frozenset({"app", "celery_app", "celery", "current_app", "capp"})


def sends_tasks(receiver_is_app: bool, receiver_name: str | None) -> bool:
    """Can ``receiver.send_task(...)`` be Celery's? An app, or something named like one
    (``receiver_name``: the receiver's name or last attribute); ``cache.send_task`` or
    ``client.send_task`` are not."""
    return receiver_is_app or receiver_name in APP_LIKE_NAMES


#: Calls that read an environment variable: ``os.environ.get("X")``, ``os.getenv("X", None)``.
ENVIRONMENT_LOOKUPS = frozenset({"os.environ.get", "os.getenv"})
#: A setting's value when the code reads it from the environment with no default (or
#: ``None``): set outside the code, else unset (``ModuleFacts`` store it as JSON). Only
#: the settings in :data:`ENVIRONMENT_SETTINGS` are read this way; for the others such a
#: value is simply unknown.
FROM_ENVIRONMENT = {"__environment__": True}
ENVIRONMENT_SETTINGS = frozenset({"result_backend"})


def environment_value(callee: str | None, arguments: list[object], keywords: dict[str, object]) -> dict[str, bool] | None:
    """:data:`FROM_ENVIRONMENT` for ``os.environ.get("X")``/``os.getenv("X", None)``
    (``arguments``: the literal values of the positional arguments); None otherwise."""
    if callee not in ENVIRONMENT_LOOKUPS or not arguments or not isinstance(arguments[0], str):
        return None
    default = arguments[1] if len(arguments) > 1 else keywords.get("default")
    return FROM_ENVIRONMENT if default is None and len(arguments) <= 2 else None


def results_stored(backend: object, *, backend_set: bool, ignore_result: object, mode: str, whole_project: bool) -> bool:
    """Does the project store task results (so CLY402 and CLY502 have something to say)?

    ``mode`` is the ``result-backend`` setting: ``none`` (never), ``configured`` (a backend is
    set outside the code, in the environment: always), ``auto`` (the code says): no when
    ``task_ignore_result = True``, or ``result_backend`` is ``None``/``"disabled"``, or read
    from the environment with no default (``os.environ.get("CELERY_RESULT_BACKEND")``), or,
    when the whole project is indexed (``whole_project``), set nowhere (``backend_set``):
    Celery's default is no backend. Yes for anything else, unknown values included.
    """
    if mode != "auto":
        return mode == "configured"
    if ignore_result is True:
        return False
    if not backend_set:
        return not whole_project
    return not (backend is None or backend == "disabled" or backend == FROM_ENVIRONMENT)


#: Settings that only change what the result backend holds about a task (its STARTED state,
#: its name and arguments): a project that turns one on reads the backend (Flower, a status
#: page), and `ignore_result=True` would drop exactly those states.
STATE_READER_SETTINGS = ("task_track_started", "result_extended")


def task_app(receiver_local: str | None, receiver_qualified: str | None, local_apps: frozenset[str] | set[str], rel: str) -> str | None:
    """Which app a ``<receiver>.task`` decorator registers on: an app made in this file
    (``<path>:app``: two example projects' ``tasks.py`` share a module name, not a file),
    or the imported name (``proj.celery.app``). None for ``shared_task`` and
    ``current_app`` (every app), or when it cannot be told."""
    if receiver_local is not None and receiver_local in local_apps and receiver_qualified is None:
        return f"{rel}:{receiver_local}"
    if receiver_qualified is None or receiver_qualified == CURRENT_APP:
        return None
    return receiver_qualified


def may_share_app(first: str | None, second: str | None) -> bool:
    """Can two tasks be registered on one app? Yes unless both are on known, different apps
    (two example projects, each with its own ``Celery()``). Two names for one app through a
    re-export count as different: the rule errs toward silence."""
    return first is None or second is None or first == second


#: ``kombu.Queue`` under the names a settings module calls it by.
QUEUE_CLASSES = frozenset({"kombu.Queue", "kombu.entity.Queue", "celery.Queue"})


def queue_call_name(callee: str | None, local_name: str | None, arguments: list[object], keywords: dict[str, object]) -> str | None:
    """The name of a queue ``Queue("emails", ...)`` declares (the first argument or
    ``name=``), when the callee is ``kombu.Queue`` (or a local ``Queue`` whose import is
    not seen); None otherwise. Both readers (``ast`` and libcst) judge calls with this."""
    if callee not in QUEUE_CLASSES and not (callee is None and local_name == "Queue"):
        return None
    name = arguments[0] if arguments else keywords.get("name")
    return name if isinstance(name, str) and name else None


def declared_queues(value: object) -> list[str] | None:
    """The queue names a ``task_queues`` value declares: a list of ``Queue(...)`` names (as
    the readers give them) or the keys of a dict; None when it cannot be told (a name
    computed at run time, an opaque value)."""
    if isinstance(value, dict):
        keys = list(value)
        return keys if all(isinstance(k, str) for k in keys) else None
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def is_database_scheduler(scheduler: object) -> bool:
    """Is ``beat_scheduler`` django-celery-beat's model scheduler? Its dotted path
    (``django_celery_beat.schedulers:DatabaseScheduler``) or its entry-point alias ``django``."""
    return isinstance(scheduler, str) and (scheduler == "django" or scheduler.startswith("django_celery_beat."))


def generated_task_name(module: str | None, function: str) -> str | None:
    """The name Celery generates for a task without ``name=``: ``<module>.<function>``.

    None when the module is unknown, or is ``__main__`` (Celery then uses the app's
    ``main`` name, which the linter does not know).
    """
    if not module or module == "__main__":
        return None
    return f"{module}.{function}"


def setting_name(name: str) -> str | None:
    """The Celery setting a module-level name sets (``CELERY_TASK_ACKS_LATE`` ->
    ``task_acks_late``); None for a name that sets none."""
    if name.startswith(_SETTING_PREFIXES):
        return name
    if name == "CELERYBEAT_SCHEDULE":
        return "beat_schedule"
    if name == "CELERYBEAT_SCHEDULER":
        return "beat_scheduler"
    if name in _BARE_OLD_NAMES:
        return _BARE_OLD_NAMES[name]
    if name.startswith("CELERY_"):
        rest = name[len("CELERY_") :]
        return _OLD_SETTING_NAMES.get(rest) or rest.lower()
    return None


#: Test code: a `tests`/`testing` directory or module, `test_*.py`, `*_test(s).py`,
#: `conftest.py` (the path below the project root, POSIX style).
TEST_MODULE = re.compile(r"(^|[._/])(tests?|testing|conftest)([._/]|$)|(^|/)test_|_tests?\.py$")


def is_test_module(rel: str) -> bool:
    """Test code, whose tasks and settings describe no deployment (RULES.md: the project's
    settings come from non-test modules; the test-code policy in the README)."""
    return TEST_MODULE.search(rel) is not None


def is_config_module(rel: str) -> bool:
    """A Celery config module by its conventional name (``celeryconfig.py``): lowercase
    setting names in it are settings, whatever words the file holds."""
    return rel.endswith(_CONFIG_MODULES)


def is_settings_module(rel: str) -> bool:
    """Does a file describe the project's configuration (its module-level setting names
    count project-wide)? Django settings, ``config``/``conf`` modules, Celery config modules."""
    return bool(_SETTINGS_PATH.search(rel)) or is_config_module(rel)


def project_setting(name: str, rel: str) -> str | None:
    """The indexed setting an assignment to ``name`` in file ``rel`` sets for the whole
    project: uppercase names in settings modules, lowercase ones in Celery config modules
    (``celeryconfig.py``). The assignment counts outside functions: at module level, or in
    a class body of a settings module (class-based settings, as readthedocs.org's and
    django-configurations' ``class Base: CELERY_TASK_ACKS_LATE = True``)."""
    if not is_settings_module(rel):
        return None
    key = setting_name(name)
    if key is None or key not in INDEXED_SETTINGS:
        return None
    if name == key and not is_config_module(rel):
        return None  # a lowercase name in Django settings is not a Celery setting
    return key
