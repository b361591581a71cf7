"""The project index's facts and the questions rules ask of them.

:class:`ModuleFacts` are one file's facts (its tasks, the settings it sets, ...), as
``index.py`` extracts them with ``ast`` and caches them as JSON; :class:`ProjectIndex`
merges every file's and answers the project rules ("which task has this name?", "what
is the project's ``task_default_queue``?"). Values that are not literals are
:data:`~celery_lint.model.values.UNKNOWN_VALUE`.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .celery_api import closest
from .recognise import declared_queues, is_test_module
from .registration import Registration
from .workers import Consumers, WorkerCommand, consumed_queues
from .values import UNKNOWN_VALUE, is_unknown

__all__ = ["UNKNOWN_VALUE", "IndexedTask", "ModuleFacts", "ProjectIndex", "has_facts", "is_unknown"]




@dataclass
class IndexedTask:
    function: str
    module: str | None
    path: str
    line: int
    #: The registered name: the explicit literal ``name=``, or the generated one; None
    #: when ``name=`` is not a literal or the module is unknown.
    name: str | None
    explicit: bool
    #: Literal options (``UNKNOWN_VALUE`` for non-literals); ``opaque``: ``**options`` seen.
    options: dict[str, Any] = field(default_factory=dict)
    opaque: bool = False
    #: Parameters: names in order, how many positional ones are required, keyword-only
    #: names, required keyword-only names, ``*args``/``**kwargs`` present. None: unknown
    #: (the call form, or another decorator that may change the signature).
    params: dict[str, Any] | None = None
    #: The app it registers on (``recognise.task_app``); None: every app, or unknown.
    app: str | None = None

    @property
    def ref(self) -> str | None:
        """``module.function``: how imports name it."""
        return f"{self.module}.{self.function}" if self.module else None

    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def option(self, key: str) -> Any:
        return self.options.get(key)


@dataclass
class ModuleFacts:
    module: str | None = None
    tasks: list[IndexedTask] = field(default_factory=list)
    #: setting -> [value, line] as set in this module.
    settings: dict[str, list[Any]] = field(default_factory=dict)
    #: Task-class attributes of classes defined here: class name -> attribute names.
    classes: dict[str, list[str]] = field(default_factory=dict)
    #: Modules this file loads configuration from: ``app.config_from_object("proj.celeryconfig")``.
    config_modules: list[str] = field(default_factory=list)
    #: Tasks whose results this file waits for (``t.delay(...).get()``, ``r = t.delay(); r.get()``):
    #: import paths (``shop.tasks.render``) and literal ``send_task`` names.
    awaited: list[str] = field(default_factory=list)
    #: Celery's discovery in this module (``imports.discovery_record``): ``{"kind":
    #: "app"}`` where an app is made, ``{"kind": "autodiscover", "packages": [...] |
    #: "installed_apps" | None, "related_name": "tasks" | None}``, ``{"kind": "config"}``
    #: for configuration read from where the index cannot see (``config_from_envvar``).
    discovery: list[dict[str, Any]] = field(default_factory=list)
    #: Django's ``INSTALLED_APPS`` as this module sets it (``imports.installed_apps``).
    installed_apps: Any = None
    #: Worker command lines of a non-Python file (``workers.WorkerCommand`` as dicts).
    workers: list[dict[str, Any]] = field(default_factory=list)


class ProjectIndex:
    """The facts of a project, merged."""

    def __init__(
        self, root: Path, modules: dict[str, ModuleFacts], external: Iterable[str] = (), packages: Iterable[str] = ()
    ) -> None:
        self.root = root
        self.modules = modules
        self.external = tuple(external)
        #: Top-level packages and modules of the project (``shop``, ``manage``).
        self.packages = frozenset(packages)
        self.tasks: list[IndexedTask] = [t for facts in modules.values() for t in facts.tasks]
        self.by_name: dict[str, list[IndexedTask]] = {}
        self.by_ref: dict[str, IndexedTask] = {}
        for task in self.tasks:
            if task.name is not None:
                self.by_name.setdefault(task.name, []).append(task)
            if task.ref is not None:
                self.by_ref.setdefault(task.ref, task)
        self.task_modules = {t.module for t in self.tasks if t.module}
        #: Import paths and names of tasks whose results something waits for.
        self.awaited = frozenset(a for facts in modules.values() for a in facts.awaited)
        self.name_heads = frozenset(re.split(r"[.:]", n, maxsplit=1)[0] for n in self.by_name)
        #: True when some task's name is not known: "no such task" cannot be claimed.
        self.names_complete = all(t.name is not None for t in self.tasks)
        self.config = self._merge_config()
        #: Worker command lines found in the repository (CLY409), in path order.
        self.workers: list[WorkerCommand] = [
            WorkerCommand(**{**w, "queues": tuple(w["queues"]) if w["queues"] is not None else None, "exclude": tuple(w["exclude"])})
            for _, facts in sorted(modules.items())
            for w in facts.workers
        ]
        #: The ``worker-queues`` setting (queues of workers the repository does not show).
        self.worker_queues: tuple[str, ...] | None = None
        self._consumers: Consumers | None = None
        #: What the workers import (CLY108); set by ``index.build_index``.
        self.registration = Registration(False, "the project index was not built from files")
        self.classes: dict[str, list[str]] = {}
        for facts in modules.values():
            for name, attrs in facts.classes.items():
                if facts.module:
                    self.classes[f"{facts.module}.{name}"] = attrs

    def _merge_config(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for path, facts in sorted(self.modules.items()):
            if is_test_module(path):
                continue  # test settings do not describe production
            for key, (value, _line) in facts.settings.items():
                if key in merged and merged[key] != value:
                    merged[key] = UNKNOWN_VALUE  # set differently in two places: cannot tell
                else:
                    merged[key] = value
        return merged

    # -- queries ------------------------------------------------------------------

    def setting(self, key: str) -> Any:
        """A project setting's literal value; None when not set; ``UNKNOWN_VALUE`` when opaque."""
        return self.config.get(key)

    def consumers(self) -> Consumers:
        """The queues the project's workers consume (``workers.consumed_queues``; worked
        out once: the index does not change once built)."""
        if self._consumers is None:
            task_queues = self.setting("task_queues")
            self._consumers = consumed_queues(
                self.workers, declared_queues(task_queues), task_queues is not None, self.setting("task_default_queue"), self.worker_queues
            )
        return self._consumers

    def is_external(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.external)

    def closest_name(self, name: str) -> str | None:
        """A registered name in the same module part whose last part is close to ``name``'s.

        Comparing whole dotted names would call `proj.tasks.report` close to
        `proj.tasks.refund` for their long common prefix.
        """
        prefix, last = _split_name(name)
        siblings = {}
        for known in self.by_name:
            known_prefix, known_last = _split_name(known)
            if known_prefix == prefix:
                siblings[known_last] = known
        match = closest(last, siblings)
        return siblings[match] if match is not None else None

    def task_for_ref(self, ref: str | None) -> IndexedTask | None:
        return self.by_ref.get(ref) if ref else None

    def is_foreign(self, name: str) -> bool:
        """A dotted name outside the project: its first part is no package of the project
        and no prefix of a registered name (``post_office.tasks.send_queued_mail`` is a
        library's task)."""
        head = re.split(r"[.:]", name, maxsplit=1)[0]
        if head == name:
            return False
        return head not in self.packages and head not in self.name_heads

    def unknown_name(self, name: str) -> tuple[str, str | None] | None:
        """Why ``name`` names no task, and the one name to use instead (None: no single match).

        None when the name is known, served elsewhere (``external-tasks``, or a package
        that is not part of the project), or when some task's name is not a literal (then
        "no such task" cannot be claimed).
        """
        if name in self.by_name or self.is_external(name) or not self.names_complete or self.is_foreign(name):
            return None
        by_path = self.by_ref.get(name)
        if by_path is not None and by_path.name and by_path.name != name:
            return (
                f"`{name}` is the import path of task `{by_path.function}` ({by_path.where()}), "
                f"which is registered as `{by_path.name}`",
                by_path.name,
            )
        suggestion = self.closest_name(name)
        hint = f"; did you mean `{suggestion}`?" if suggestion else ""
        return f"no task in the project is registered as `{name}`{hint}", None

    def digest(self) -> str:
        """Changes whenever a fact any rule could read changes (part of the result cache key)."""
        # The C encoder walks the dataclasses through `default` (asdict deep-copies every
        # fact first: 0.03 s of a one-file run on saleor).
        payload = json.dumps(
            [self.modules, self.registration.digest_part(), self.worker_queues], sort_keys=True, default=_jsonable_fact
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def has_facts(facts: ModuleFacts | None) -> bool:
    return facts is not None and bool(
        facts.tasks
        or facts.settings
        or facts.classes
        or facts.config_modules
        or facts.awaited
        or facts.discovery
        or facts.installed_apps is not None
        or facts.workers
    )


def _jsonable_fact(value: Any) -> Any:
    return vars(value) if dataclasses.is_dataclass(value) else str(value)


def _split_name(name: str) -> tuple[str, str]:
    """``"shop.tasks.send"`` -> ``("shop.tasks", "send")``; ``"proj:cleanup"`` -> ``("proj", "cleanup")``."""
    cut = max(name.rfind("."), name.rfind(":"))
    return (name[:cut], name[cut + 1 :]) if cut >= 0 else ("", name)
