"""What a worker imports (CLY108) and what it consumes (CLY409): the import scan, Django's
INSTALLED_APPS, discovery, checked against a real Celery worker's registry; and the
caches after the edits that change the answer."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from celery_lint.config.settings import load_settings
from celery_lint.model.imports import installed_apps, scan_imports
from celery_lint.model.registration import registration
from celery_lint.model.values import is_unknown
from celery_lint.run.project import project_index

from tests.conftest import FIXTURES

DEPLOYED = FIXTURES / "deployed"


def _scan(text: str, module: str = "shop.views", package: bool = False) -> list[str]:
    return scan_imports(textwrap.dedent(text).encode(), module, package)


def test_import_statements_of_every_form() -> None:
    found = _scan(
        """
        import shop.models, billing as b
        from orders import tasks, (jobs)
        from . import signals
        from .api import (
            client,
            schema as s,
        )
        from ..core import *
        from reports.tasks import \\
            rollup
        import os, json
        x = "import nothing"  # the word, not a statement
        def later():
            from legacy import tasks
        """,
        module="shop.web.views",
    )
    assert found == sorted(
        [
            "shop.models", "billing", "orders", "orders.tasks", "orders.jobs", "shop.web", "shop.web.signals",
            "shop.web.api", "shop.web.api.client", "shop.web.api.schema", "shop.core", "shop.core.*", "reports.tasks",
            "reports.tasks.rollup", "legacy", "legacy.tasks",
        ]
    )


def test_imports_after_a_semicolon_or_a_compound_statement() -> None:
    assert _scan("x = 1; import shop.jobs\ntry: from billing import tasks\nexcept ImportError: pass\n") == [
        "billing", "billing.tasks", "shop.jobs"
    ]


def test_relative_imports_in_a_package_init() -> None:
    assert _scan("from .tasks import send\nfrom . import jobs\n", module="shop", package=True) == [
        "shop", "shop.jobs", "shop.tasks", "shop.tasks.send"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("importlib.import_module('shop.plugins.mail')\n", ["shop.plugins.mail"]),
        ("import_module(f'{app}.signals')\n", ["*.signals"]),
        ("import_module(name)\n", ["*"]),
        ("import_string(settings.BACKEND)\n", ["*"]),
        ("__import__('shop.legacy')\n", ["shop.legacy"]),
        ("autodiscover_modules('jobs')\n", ["*.jobs"]),
    ],
)
def test_imports_of_names_computed_at_run_time(text: str, expected: list[str]) -> None:
    assert [n for n in _scan(text) if n != "importlib"] == expected


def _apps(text: str):  # type: ignore[no-untyped-def]
    return installed_apps(ast.parse(textwrap.dedent(text)))


def test_installed_apps_literal_lists_names_and_additions() -> None:
    assert _apps(
        """
        DJANGO_APPS = ["django.contrib.auth"]
        LOCAL_APPS = ("shop", "orders.apps.OrdersConfig")
        INSTALLED_APPS = DJANGO_APPS + [*LOCAL_APPS]
        if DEBUG:
            INSTALLED_APPS += ["debug_toolbar"]
        """
    ) == ["django.contrib.auth", "shop", "orders.apps.OrdersConfig", "debug_toolbar"]
    assert _apps('INSTALLED_APPS = ["a", "b"]\nINSTALLED_APPS += ["c"]\n') == ["a", "b", "c"]
    assert _apps('BASE = ["a"]\nINSTALLED_APPS = BASE + ["b"]\n') == ["a", "b"]
    assert _apps("X = 1\n") is None


def test_installed_apps_that_cannot_be_read() -> None:
    assert is_unknown(_apps("INSTALLED_APPS = get_apps()\n"))
    assert is_unknown(_apps('INSTALLED_APPS = ["a"] + env.list("EXTRA_APPS")\n'))
    assert is_unknown(_apps('class Base:\n    @property\n    def INSTALLED_APPS(self):\n        return ["a"] + plugins()\n'))


def test_installed_apps_of_a_settings_class_property() -> None:
    """readthedocs.org's shape: a literal list, then conditional appends."""
    text = """
    class Settings:
        @property
        def INSTALLED_APPS(self):
            apps = ["django.contrib.auth", "shop"]
            if self.EXT:
                apps.append("shop_ext")
            return apps
    """
    assert _apps(text) == ["django.contrib.auth", "shop", "shop_ext"]


def _registration(modules, discovery=(), installed=(), settings=None, apps=()):  # type: ignore[no-untyped-def]
    return registration(modules, list(discovery), list(installed), settings or {}, list(apps))


def test_registration_follows_imports_transitively_and_runs_parent_packages() -> None:
    modules = {
        "shop": [], "shop.celery": ["shop.tasks"], "shop.tasks": ["shop.helpers.mail"], "shop.helpers": [],
        "shop.helpers.mail": [], "shop.jobs": [], "shop.plugins": [], "shop.plugins.a": [], "shop.plugins.b": [],
    }
    found = _registration(modules, [("shop.celery", {"kind": "app"})], apps=["shop"])
    assert found.known and found.reached == {"shop", "shop.celery", "shop.tasks", "shop.helpers", "shop.helpers.mail"}
    assert found.registers("shop.jobs") is False
    modules["shop.tasks"] = ["shop.plugins.*"]
    assert _registration(modules, [("shop.celery", {"kind": "app"})], apps=["shop"]).registers("shop.plugins.b")


def test_without_discovery_or_a_worker_command_the_worker_may_start_on_any_module() -> None:
    """`celery -A shop.tasks worker` with the app imported there: nothing can be claimed."""
    modules = {"shop": [], "shop.celery": [], "shop.tasks": ["shop.celery"]}
    found = _registration(modules, [("shop.celery", {"kind": "app"})])
    assert not found.known and "-A" in (found.reason or "")
    assert _registration(modules, [("shop.celery", {"kind": "app"})], apps=["shop.celery"]).registers("shop.tasks") is False


@pytest.mark.parametrize(
    ("discovery", "installed", "settings", "why"),
    [
        ([], [], {}, "no Celery app"),
        ([("shop.celery", {"kind": "app"}), ("shop.celery", {"kind": "config"})], [], {}, "configuration"),
        ([("shop.celery", {"kind": "app"}), ("shop.celery", {"kind": "autodiscover", "packages": None, "related_name": "tasks"})], [], {}, "not literal"),
        ([("shop.celery", {"kind": "app"}), ("shop.celery", {"kind": "autodiscover", "packages": "installed_apps", "related_name": "tasks"})], [], {}, "INSTALLED_APPS"),
        ([("shop.celery", {"kind": "app"})], [("shop.settings", {"__unknown__": True})], {}, "INSTALLED_APPS"),
        ([("shop.celery", {"kind": "app"})], [], {"include": {"__unknown__": True}}, "include"),
    ],
)
def test_registration_unknown(discovery, installed, settings, why) -> None:  # type: ignore[no-untyped-def]
    found = _registration({"shop": [], "shop.celery": [], "shop.settings": []}, discovery, installed, settings)
    assert not found.known and why in (found.reason or "")
    assert found.registers("shop.jobs") is None


def test_a_dynamic_import_in_a_module_the_worker_loads_makes_it_unknown() -> None:
    modules = {"shop": [], "shop.celery": ["shop.loader"], "shop.loader": ["*"], "shop.jobs": [], "shop.web": ["*"]}
    assert not _registration(modules, [("shop.celery", {"kind": "app"})], apps=["shop"]).known
    modules["shop.celery"] = []  # only the web code loads names at run time: the worker's answer stands
    assert _registration(modules, [("shop.celery", {"kind": "app"})], apps=["shop"]).registers("shop.jobs") is False


# -- the fixture project, against a real worker -------------------------------------------


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "deployed"
    shutil.copytree(DEPLOYED, copy)
    return copy


def _findings(root: Path, *args: str) -> set[tuple[str, int, str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "celery_lint", "--output-format", "json", "--select", "CLY108,CLY409", *args, "."],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return {(f["filename"], f["line"], f["code"]) for f in json.loads(proc.stdout)}


def test_cly108_agrees_with_what_a_real_django_worker_registers(tmp_path: Path) -> None:
    """Import the fixture project as a worker does (django.setup(), the app, Celery's
    default modules with autodiscovery) and compare its registry with CLY108's answer."""
    pytest.importorskip("django")
    copy = _copy(tmp_path)
    script = textwrap.dedent(
        """
        import json, os, sys
        sys.path.insert(0, os.getcwd())
        os.environ["DJANGO_SETTINGS_MODULE"] = "shop.settings"
        from shop.celery import app  # as `celery -A shop worker` finds it
        import django
        django.setup()
        app.loader.import_default_modules()
        print(json.dumps(sorted(n for n in app.tasks if not n.startswith("celery."))))
        """
    )
    (copy / "shop" / "settings.py").write_text((copy / "shop" / "settings.py").read_text() + '\nSECRET_KEY = "x"\n')
    proc = subprocess.run([sys.executable, "-c", script], cwd=copy, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    registered = set(json.loads(proc.stdout))
    index = project_index(load_settings(copy), None)
    assert index is not None and index.registration.known
    for task in index.tasks:
        assert (task.name in registered) == index.registration.registers(task.module), task.name
    assert {"orders.jobs.expire_carts", "legacy.tasks.purge"}.isdisjoint(registered)
    assert "orders.pricing.reprice" in registered  # through orders/tasks.py's import


def test_silent_when_a_worker_takes_its_queues_from_the_environment(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    before = {f for f in _findings(copy, "--no-cache") if f[2] == "CLY409"}
    assert len(before) == 3
    script = copy / "bin" / "worker.sh"
    script.parent.mkdir()
    script.write_text('#!/bin/sh\nexec celery -A shop worker -Q "$QUEUES" --loglevel INFO\n')
    assert not {f for f in _findings(copy, "--no-cache") if f[2] == "CLY409"}
    # `worker-queues` says what those workers consume: the rule speaks again
    (copy / "pyproject.toml").write_text('[tool.celery-lint]\nworker-queues = ["exports", "archive"]\n')
    assert {f for f in _findings(copy, "--no-cache") if f[2] == "CLY409"} == {("shop/settings.py", 12, "CLY409")}


def test_silent_without_worker_command_lines_and_with_a_helm_template(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    for name in ("Procfile", "docker-compose.yml", "deploy/k8s/worker.yaml"):
        (copy / name).unlink()
    assert not {f for f in _findings(copy, "--no-cache") if f[2] == "CLY409"}
    template = copy / "chart" / "templates" / "worker.yaml"
    template.parent.mkdir(parents=True)
    template.write_text('command: ["celery", "-A", "shop", "worker", "-Q", "{{ .Values.queues }}"]\n{{- if .Values.x }}\n')
    (copy / "Procfile").write_text("worker: celery -A shop worker -Q default\n")
    assert not {f for f in _findings(copy, "--no-cache") if f[2] == "CLY409"}


def test_silent_when_discovery_is_computed_at_run_time(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    assert {f[0] for f in _findings(copy, "--no-cache") if f[2] == "CLY108"} == {"orders/jobs.py", "legacy/tasks.py"}
    celery_module = copy / "shop" / "celery.py"
    celery_module.write_text(celery_module.read_text().replace("app.autodiscover_tasks()", "app.autodiscover_tasks(lambda: discover())"))
    assert not {f for f in _findings(copy, "--no-cache") if f[2] == "CLY108"}


def test_cached_runs_follow_the_edits_that_change_the_answer(tmp_path: Path) -> None:
    """Edits to another file than the one reported (a worker command line, an import in a
    module the worker loads, INSTALLED_APPS) change the findings of a cached run exactly
    as of an uncached one."""
    copy = _copy(tmp_path)
    cache = str(tmp_path / "cache")

    def both() -> set[tuple[str, int, str]]:
        cached = _findings(copy, "--cache-dir", cache)
        assert cached == _findings(copy, "--no-cache")
        return cached

    first = both()
    assert ("orders/tasks.py", 18, "CLY409") in first and ("orders/jobs.py", 6, "CLY108") in first
    procfile = copy / "Procfile"
    procfile.write_text(procfile.read_text().replace("-Q default,emails", "-Q default,emails,exports"))
    assert ("orders/tasks.py", 18, "CLY409") not in both()
    tasks = copy / "orders" / "tasks.py"
    tasks.write_text("from orders import jobs  # noqa: F401\n" + tasks.read_text())
    after = both()
    assert ("orders/jobs.py", 6, "CLY108") not in after and ("orders/tasks.py", 19, "CLY409") not in after
    settings = copy / "shop" / "settings.py"
    settings.write_text(settings.read_text().replace('"orders",', '"orders",\n    "legacy",'))
    assert not {f for f in both() if f[2] == "CLY108"}
    routed = {f for f in both() if f[0] == "shop/settings.py"}
    os.remove(copy / "deploy" / "k8s" / "worker.yaml")  # `reports` is no longer consumed
    assert len({f for f in both() if f[0] == "shop/settings.py"}) == len(routed) + 1


@pytest.mark.parametrize(
    ("call", "packages", "related"),
    [
        ("app.autodiscover_tasks()", "installed_apps", "tasks"),
        ("app.autodiscover_tasks(None)", "installed_apps", "tasks"),  # readthedocs.org
        ("app.autodiscover_tasks(lambda: settings.INSTALLED_APPS)", "installed_apps", "tasks"),
        ("app.autodiscover_tasks(['shop', 'billing'], related_name='jobs')", ["shop", "billing"], "jobs"),
        ("app.autodiscover_tasks(['shop'], None)", ["shop"], None),
        ("app.autodiscover_tasks(lambda: discover_plugins(settings.PLUGINS))", None, "tasks"),  # saleor
        ("app.autodiscover_tasks(['shop'], related_name=name)", ["shop"], {"unknown": True}),
    ],
)
def test_discovery_read_from_the_app_module(call: str, packages: object, related: object) -> None:
    from celery_lint.model.imports import discovery_record

    node = ast.parse(call).body[0].value  # type: ignore[attr-defined]
    record = discovery_record(node)
    assert (record["packages"], record["related_name"]) == (packages, related)


def test_include_and_imports_reach_the_index(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    shop = tmp_path / "shop"
    shop.mkdir()
    for name in ("__init__", "jobs", "mail"):
        (shop / f"{name}.py").write_text("")
    (shop / "celery.py").write_text("from celery import Celery\n\napp = Celery('shop', include=['shop.jobs'])\n")
    (shop / "settings.py").write_text("CELERY_IMPORTS = ('shop.mail',)\n")
    index = project_index(load_settings(tmp_path), None)
    assert index is not None and index.registration.known
    assert {"shop.jobs", "shop.mail", "shop.celery"} <= index.registration.reached
    assert index.registration.sources == ("`include` names 1 module", "`imports` names 1 module")


def test_installed_apps_grown_by_method_calls() -> None:
    """paperless-ngx's shape: `INSTALLED_APPS.append("channels")` under a condition."""
    text = 'INSTALLED_APPS = ["a"]\nif DEBUG:\n    INSTALLED_APPS.append("b")\nINSTALLED_APPS.extend(["c"])\nINSTALLED_APPS.remove("a")\n'
    assert sorted(_apps(text)) == ["a", "b", "c"]
    assert is_unknown(_apps('INSTALLED_APPS = ["a"]\nINSTALLED_APPS.extend(plugins())\n'))
    assert is_unknown(_apps('INSTALLED_APPS = ["a"]\nINSTALLED_APPS.insert(0, name)\n'))
