"""The annotated fixture tree: exactly the marked findings, through the CLI and flake8."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from celery_lint.rules import ALL_RULES

from tests.conftest import ANNOTATION, FIXTURES, annotated


def _expected() -> set[tuple[str, int, str]]:
    expected = set()
    for path in sorted(FIXTURES.rglob("*.py")):
        if any((parent / "pyproject.toml").exists() for parent in path.parents if parent != FIXTURES and FIXTURES in parent.parents):
            continue  # a project of its own (fixtures/pyproject.toml excludes it), tested below
        rel = path.relative_to(FIXTURES).as_posix()
        expected.update((rel, line, code) for line, code in annotated(path))
    return expected


def _cli_json(*args: str, cwd: Path = FIXTURES) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "celery_lint", "--output-format", "json", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_cli_reports_exactly_the_annotated_lines() -> None:
    off_by_default = ",".join(r.code for r in ALL_RULES if not r.default_enabled)
    found = {(os.path.normpath(f["filename"]), f["line"], f["code"]) for f in _cli_json("--extend-select", off_by_default, ".")}
    expected = _expected()
    assert found - expected == set(), "reported but not annotated"
    assert expected - found == set(), "annotated but not reported"


def test_every_rule_has_an_annotated_fixture() -> None:
    codes = {code for _, _, code in _expected()}
    for name in OWN_PROJECTS:  # CLY108 and CLY409 need a deployment: fixtures/deployed
        codes.update(code for path in (FIXTURES / name).rglob("*.py") for _, code in annotated(path))
    missing = [r.code for r in ALL_RULES if r.code != "CLY000" and r.code not in codes]
    assert missing == []


def test_flake8_reports_the_same_findings_as_the_cli() -> None:
    proc = subprocess.run(
        # no_results and django_beat are projects of their own; the plugin does not read `exclude` yet (issue 19)
        [sys.executable, "-m", "flake8", "--select=CLY", "--extend-exclude=no_results,django_beat,late_ack,default_queue,declared_queues,deployed", "--format=%(path)s|%(row)d|%(col)d|%(code)s|%(text)s", "."],
        cwd=FIXTURES,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    flake8 = sorted(tuple(line.split("|", 4)) for line in proc.stdout.splitlines())
    cli = sorted(
        (os.path.normpath(f["filename"]), str(f["line"]), str(f["column"]), f["code"], f["message"]) for f in _cli_json(".")
    )
    flake8 = sorted((os.path.normpath(p), r, c, code, text) for p, r, c, code, text in flake8)
    assert flake8 == cli


def test_annotation_format_is_strict() -> None:
    assert ANNOTATION.search("x = 1  # CLY101, CLY502")
    assert not ANNOTATION.search("x = 1  # noqa: CLY101")
    assert re.search(r"CLY\d{3}", "CLY101")


def test_flake8_on_one_file_uses_the_whole_project() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=CLY", "proj/billing/views.py"], cwd=FIXTURES, capture_output=True, text=True
    )
    assert "CLY408 `proj.billing.tasks.charge` is the import path of task `charge`" in proc.stdout, proc.stdout + proc.stderr
    assert "CLY407" in proc.stdout and "CLY503" in proc.stdout


def test_a_project_without_result_backend_gets_no_result_findings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """fixtures/no_results disables the backend: CLY402 and CLY502 stay silent there, and
    report once the configuration says a backend is set outside the code."""
    import shutil

    project = FIXTURES / "no_results"

    def codes(root: Path) -> set[str]:
        return {f["code"] for f in _cli_json(".", cwd=root)}

    assert not codes(project) & {"CLY402", "CLY502"}
    copy = tmp_path / "no_results"
    shutil.copytree(project, copy)
    (copy / "pyproject.toml").write_text('[tool.celery-lint]\nresult-backend = "configured"\n')
    assert {"CLY402", "CLY502"} <= codes(copy)
    # A project that tracks started states reads the backend: the advice would drop them.
    settings = copy / "billing" / "settings.py"
    settings.write_text(settings.read_text() + "CELERY_TASK_TRACK_STARTED = True\n")
    assert not codes(copy) & {"CLY402", "CLY502"}


def test_a_project_that_names_its_default_queue_gets_no_cly401(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """fixtures/default_queue: unrouted tasks go to the queue the project named."""
    import shutil

    project = FIXTURES / "default_queue"
    assert {f["code"] for f in _cli_json(".", cwd=project)} == set()
    copy = tmp_path / "default_queue"
    shutil.copytree(project, copy)
    settings = copy / "shop" / "settings.py"
    settings.write_text("".join(l for l in settings.read_text().splitlines(True) if "DEFAULT_QUEUE" not in l))
    found = {(f["filename"], f["line"], f["code"]) for f in _cli_json(".", cwd=copy)}
    assert found == {("shop/views.py", 6, "CLY401")}


def test_declaring_the_default_queue_in_task_queues_silences_cly401(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """fixtures/declared_queues with `Queue("celery")` added: unrouted tasks go to a declared queue."""
    import shutil

    copy = tmp_path / "declared_queues"
    shutil.copytree(FIXTURES / "declared_queues", copy)
    conf = copy / "shop" / "celeryconf.py"
    conf.write_text(conf.read_text().replace('(Queue("emails"),', '(Queue("celery"), Queue("emails"),'))
    assert [f["code"] for f in _cli_json(".", cwd=copy)] == []


OWN_PROJECTS = [
    "django_beat",  # the DatabaseScheduler: PeriodicTask fields are valid keys
    "late_ack",  # CELERY_TASK_REJECT_ON_WORKER_LOST project-wide (CLY307)
    "declared_queues",  # task_queues of kombu Queues without the default queue (CLY401)
    "deployed",  # worker command lines in a Procfile, compose and Kubernetes (CLY108, CLY409)
]


@pytest.mark.parametrize("name", OWN_PROJECTS)
def test_a_project_of_its_own_gets_its_annotated_findings(name: str) -> None:
    project = FIXTURES / name
    found = {(os.path.normpath(f["filename"]), f["line"], f["code"]) for f in _cli_json(".", cwd=project)}
    expected = set()
    for path in sorted(project.rglob("*.py")):
        rel = path.relative_to(project).as_posix()
        expected.update((rel, line, code) for line, code in annotated(path))
    assert expected and found == expected


def test_task_create_missing_queues_false_changes_what_cly401_says(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """fixtures/declared_queues with `task_create_missing_queues = False`: the send raises."""
    import shutil

    copy = tmp_path / "declared_queues"
    shutil.copytree(FIXTURES / "declared_queues", copy)
    conf = copy / "shop" / "celeryconf.py"
    assert "raises" not in _cli_json(".", cwd=copy)[0]["message"]
    conf.write_text(conf.read_text() + "app.conf.task_create_missing_queues = False\n")
    [finding] = _cli_json(".", cwd=copy)
    assert finding["code"] == "CLY401" and "raises `QueueNotFound`" in finding["message"]


def test_flake8_reports_the_deployment_findings_as_the_cli() -> None:
    """fixtures/deployed through flake8: the plugin's index reads the same worker command
    lines and discovery (CLY108, CLY409) as the CLI's."""
    project = FIXTURES / "deployed"
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=CLY", "--celery-no-cache", "--format=%(path)s|%(row)d|%(code)s", "."],
        cwd=project,
        capture_output=True,
        text=True,
    )
    flake8 = {(os.path.normpath(p), int(r), c) for p, r, c in (line.split("|") for line in proc.stdout.splitlines())}
    cli = {(os.path.normpath(f["filename"]), f["line"], f["code"]) for f in _cli_json(".", cwd=project)}
    assert {c for _, _, c in cli} >= {"CLY108", "CLY409"}
    assert flake8 == cli
