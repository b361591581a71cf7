"""The task name celery-lint computes equals the name Celery itself registers."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import libcst as cst
import pytest

from celery_lint.config.settings import Settings
from celery_lint.model.apps import AppLocator
from celery_lint.model.context import FileContext
from celery_lint.engine.core import Engine

from tests.conftest import FIXTURES

pytest.importorskip("celery")

MODULES = ["proj.celery", "proj.cly101", "proj.orders.tasks", "proj.workerconf", "proj.cross_module", "proj.jobs.nightly"]

IMPORT_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import importlib
for name in sys.argv[2:]:
    importlib.import_module(name)
from proj.celery import app
from proj.workerconf import app as workers
workers.finalize(auto=True)
app.finalize(auto=True)
print(json.dumps(sorted({n for a in (app, workers) for n in a.tasks if not n.startswith("celery.")})))
"""


def _celery_registered() -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPT, str(FIXTURES), *MODULES], capture_output=True, text=True, check=True
    )
    return set(json.loads(proc.stdout))


def _linter_names() -> set[str]:
    names: set[str] = set()
    settings = Settings(project_root=FIXTURES)
    for module in MODULES:
        path = FIXTURES / (module.replace(".", "/") + ".py")
        engine = Engine(settings)
        contexts: list[FileContext] = []
        original = FileContext.__init__

        def capture(self: FileContext, *args: object, _original=original, _seen=contexts, **kwargs: object) -> None:
            _original(self, *args, **kwargs)  # type: ignore[arg-type]
            _seen.append(self)

        FileContext.__init__ = capture  # type: ignore[method-assign]
        try:
            engine.lint_path(str(path))
        finally:
            FileContext.__init__ = original  # type: ignore[method-assign]
        for ctx in contexts:
            names.update(t.registered_name for t in ctx.tasks if t.registered_name)
    return names


def test_registered_names_match_celery() -> None:
    assert _linter_names() == _celery_registered()


def test_cly101_messages_name_what_celery_generates() -> None:
    registered = _celery_registered()
    settings = Settings(project_root=FIXTURES)
    generated = []
    for module in MODULES:
        result = Engine(settings).lint_path(str(FIXTURES / (module.replace(".", "/") + ".py")))
        for finding in result.findings:
            if finding.code == "CLY101":
                generated.append(re.search(r"Celery generates `([^`]+)`", finding.message).group(1))
    assert generated and set(generated) <= registered


FACTORY_MODULES = ["common.factory", "common.tasks", "common.jobs"]

FACTORY_SCRIPT = """
import json, sys, types
sys.path.insert(0, sys.argv[1])
django = types.ModuleType("django"); django.db = types.ModuleType("django.db")
django.db.transaction = types.SimpleNamespace(atomic=None)
sys.modules.update({"django": django, "django.db": django.db})  # common.jobs imports it
import importlib
for name in sys.argv[2:]:
    importlib.import_module(name)
from common.factory import celery_app
celery_app.finalize(auto=True)
print(json.dumps(sorted(n for n in celery_app.tasks if not n.startswith("celery."))))
"""


def test_names_of_a_factory_made_app_match_celery() -> None:
    """An app made by a project function through an alias (``fixtures/factory_app``): the
    tasks celery-lint sees on it and the names it computes are Celery's own."""
    root = FIXTURES / "factory_app"
    proc = subprocess.run(
        [sys.executable, "-c", FACTORY_SCRIPT, str(root), *FACTORY_MODULES], capture_output=True, text=True, check=True
    )
    registered = set(json.loads(proc.stdout))
    settings = Settings(project_root=FIXTURES)
    names: set[str] = set()
    for module in FACTORY_MODULES:
        path = root / (module.replace(".", "/") + ".py")
        ctx = FileContext(str(path), settings, AppLocator())
        ctx.read(cst.parse_module(path.read_text()))
        names.update(t.registered_name for t in ctx.tasks if t.registered_name)
    assert registered == {"common.tasks.resize", "common.tasks.crop", "common.jobs.archive"}
    assert names == registered
