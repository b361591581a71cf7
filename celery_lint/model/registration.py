"""Which modules a worker imports, so which tasks it registers (CLY108), from the project
index's facts: Celery's discovery and the import graph (issue 18).

A worker started with ``celery -A proj worker`` imports the app's module, then what the
app's configuration names: ``include=``, ``imports`` (``CELERY_IMPORTS``), and
``autodiscover_tasks()`` (each package's ``tasks`` module, or its ``related_name``; with
no packages given, every Django app in ``INSTALLED_APPS``). With Django, the worker also
runs ``django.setup()``: the settings module, each installed app's package, its
``apps`` and ``models`` modules (and ``admin`` when ``django.contrib.admin`` is
installed). A module is registered when one of these *roots* imports it, transitively
(importing ``a.b.c`` runs ``a`` and ``a.b`` too).

The answer is ``known`` only when every part of it can be read statically: an
``autodiscover_tasks`` over something unknown, a non-literal ``INSTALLED_APPS``,
``include`` or ``imports``, configuration read from an environment variable, or an
import of a name computed at run time (``importlib.import_module(name)``) in a module the
worker loads, each makes it unknown, and CLY108 silent. Errors go one way: an import the
text scan sees that Python would not run (under ``if TYPE_CHECKING:``, in a string) adds
a module, which can only silence the rule.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .values import is_unknown

_DJANGO_SUBMODULES = ("apps", "models")


@dataclass
class Registration:
    """What the workers of a project import (see the module docstring)."""

    #: False when discovery or an import cannot be read statically: nothing is claimed.
    known: bool
    #: Why it is unknown, with where (``bench/deployment.py`` prints it).
    reason: str | None = None
    #: Modules a worker imports.
    reached: frozenset[str] = frozenset()
    #: How the roots were found, in words (for CLY108's message): "include=", ...
    sources: tuple[str, ...] = ()

    def registers(self, module: str) -> bool | None:
        """True/False: whether a worker imports ``module``; None: cannot be told."""
        if not self.known:
            return None
        return module in self.reached

    def digest_part(self) -> list[Any]:
        return [self.known, self.reason, sorted(self.reached), list(self.sources)]


def registration(
    modules: Mapping[str, list[str]],
    discovery: Iterable[tuple[str, dict[str, Any]]],
    installed: Iterable[tuple[str, Any]],
    settings: Mapping[str, Any],
    worker_apps: Iterable[str],
) -> Registration:
    """What the workers import.

    ``modules``: every module of the project -> what it can import
    (``imports.scan_imports``); ``discovery``: (module, record) of every
    ``ModuleFacts.discovery`` record; ``installed``: (module, ``INSTALLED_APPS`` as that
    settings module sets it); ``settings``: the merged project settings (``include``,
    ``imports``); ``worker_apps``: the ``-A`` values of the worker command lines.
    """
    roots: dict[str, str] = {}
    sources: list[str] = []
    records = list(discovery)
    if not any(record.get("kind") == "app" for _, record in records):
        return Registration(False, "no Celery app is made in the project")
    for module, record in records:
        kind = record.get("kind")
        if kind == "config":
            return Registration(False, f"`{module}` reads Celery's configuration from where the index cannot see")
        if kind == "app":
            roots.setdefault(module, "the app's module")
    for app in worker_apps:
        name = app.partition(":")[0]
        for candidate in (name, f"{name}.celery"):
            if candidate in modules:
                roots.setdefault(candidate, "`-A` of a worker command")
                sources.append(f"workers run `-A {app}`")

    # Django: the settings modules, and what django.setup() imports of each installed app.
    apps: list[str] = []
    settings_modules = []
    for module, value in installed:
        if is_unknown(value):
            return Registration(False, f"`INSTALLED_APPS` in `{module}` is not a literal list")
        settings_modules.append(module)
        apps.extend(a for a in value if a not in apps)
    packages = _app_packages(apps, modules)
    for module in settings_modules:
        roots.setdefault(module, "Django's settings")
    admin = any(a == "django.contrib.admin" or a.startswith("django.contrib.admin.apps.AdminConfig") for a in apps)
    for package, config_module in packages:
        roots.setdefault(package, "an installed Django app")
        for name in (*_DJANGO_SUBMODULES, *(("admin",) if admin else ())):
            if f"{package}.{name}" in modules:
                roots.setdefault(f"{package}.{name}", "an installed Django app")
        if config_module:
            roots.setdefault(config_module, "an installed Django app")

    for module, record in records:
        if record.get("kind") != "autodiscover":
            continue
        related = record.get("related_name", "tasks")
        listed = record.get("packages")
        if related is not None and not isinstance(related, str):
            return Registration(False, f"`autodiscover_tasks` in `{module}` is given a `related_name` that is not a literal")
        if listed == "installed_apps":
            if not settings_modules:
                # Django's INSTALLED_APPS, which no module sets in a way the index reads
                # (or a project that is not Django, where the call discovers nothing)
                return Registration(False, f"`autodiscover_tasks` in `{module}` reads `INSTALLED_APPS`, which no settings module sets literally")
            targets = [package for package, _ in packages]
            sources.append(f"`autodiscover_tasks()` loads `{related or '<package>'}` of each installed app")
        elif isinstance(listed, list) and all(isinstance(p, str) for p in listed):
            targets = listed
            sources.append(f"`autodiscover_tasks()` loads `{related or '<package>'}` of {', '.join(f'`{p}`' for p in listed)}")
        else:
            return Registration(False, f"`autodiscover_tasks` in `{module}` is given packages that are not literal")
        for package in targets:
            target = f"{package}.{related}" if related else package
            roots.setdefault(target, f"`autodiscover_tasks` in `{module}`")

    for key in ("include", "imports"):
        value = settings.get(key)
        if value is None:
            continue
        if is_unknown(value) or not isinstance(value, (list, str)):
            return Registration(False, f"the `{key}` setting is not a literal list")
        names = [value] if isinstance(value, str) else value
        if not all(isinstance(n, str) for n in names):
            return Registration(False, f"the `{key}` setting is not a literal list")
        sources.append(f"`{key}` names {len(names)} module{'s' if len(names) != 1 else ''}")
        for name in names:
            roots.setdefault(name, f"the `{key}` setting")
    if not sources:
        # No discovery and no worker command line: the worker may be started on the tasks
        # module itself (`celery -A shop.tasks worker`, the app imported there).
        return Registration(False, "the app names no task module (no `include=`, `imports` or `autodiscover_tasks()`) and no worker command line shows its `-A`")
    return _walk(modules, roots, tuple(dict.fromkeys(sources)))


def _app_packages(apps: list[str], modules: Mapping[str, list[str]]) -> list[tuple[str, str | None]]:
    """(package, AppConfig module) of each installed app that is part of the project.
    ``"shop"`` is the package; ``"shop.apps.ShopConfig"`` names a class in ``shop.apps``,
    whose app is (by Django's convention, and whatever ``name`` says otherwise only
    moves the app within the project) the package holding that module."""
    found = []
    for entry in apps:
        if entry in modules:
            found.append((entry, None))
            continue
        config_module = entry.rpartition(".")[0]
        if config_module in modules:
            package = config_module.rpartition(".")[0] or config_module
            found.append((package, config_module))
    return found


def _walk(modules: Mapping[str, list[str]], roots: dict[str, str], sources: tuple[str, ...]) -> Registration:
    """Every module the roots import, transitively (``roots``: module -> why it is one)."""
    reached: set[str] = set()
    pending: list[str] = []

    def reach(name: str) -> None:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):  # `a.b.c` runs `a` and `a.b` first
            module = ".".join(parts[:end])
            if module in modules and module not in reached:
                reached.add(module)
                pending.append(module)

    for root in roots:
        reach(root)
    names: list[str] | None = None
    while pending:
        module = pending.pop()
        for imported in modules[module]:
            if imported == "*":
                return Registration(False, f"`{module}` (which a worker imports) imports a module named at run time")
            if "*" in imported:
                names = names if names is not None else sorted(modules)
                for name in fnmatch.filter(names, imported):
                    reach(name)
                if imported.endswith(".*"):
                    reach(imported[:-2])
                continue
            reach(imported)
    return Registration(True, None, frozenset(reached), sources)
