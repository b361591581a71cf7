"""The call graph kept with the index cache (issue 16, item 4): what walks through helpers
learned of each module is stored per file, trusted by the one freshness rule, and a warm
run that re-lints a file reads the helpers it walks through from there, finding exactly
what a ``--no-cache`` run finds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from celery_lint.config import stamp
from celery_lint.doors import cli
from celery_lint.model import callgraph, graph_store
from celery_lint.model.graph_store import GraphStore, RecordedSummary
from tests.conftest import begin_settled_run

APP = "from celery import Celery\n\napp = Celery('shop')\n"
TASKS = "from shop.celery_setup import app\n\n\n@app.task(name='shop.crop')\ndef crop(pk, size):\n    return pk\n"
VIEW = (
    "from django.db import transaction\nfrom shop.helpers import notify\n\n\n"
    "def view():\n    with transaction.atomic():\n        notify(1)\n"
)
#: Two hops to a dispatch, through a function-local import.
HELPERS = (
    "def notify(pk):\n    return _send(pk)\n\n\n"
    "def _send(pk):\n    from shop.tasks import crop\n    crop.delay(pk, 2)\n"
)
QUIET_HELPERS = "def notify(pk):\n    return _send(pk)\n\n\ndef _send(pk):\n    return pk\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    (shop / "celery_setup.py").write_text(APP)
    (shop / "tasks.py").write_text(TASKS)
    (shop / "helpers.py").write_text(HELPERS)
    (shop / "views.py").write_text(VIEW)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(stamp, "_run_start_ns", time.time_ns() + 10 * stamp.GRANULARITY_NS)
    monkeypatch.setattr(cli, "begin_run", begin_settled_run)
    return tmp_path


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> list[tuple[str, str, int, str]]:
    cli.run_in_process(["--output-format", "json", "--jobs", "1", *args, "."])
    return sorted((f["filename"], f["code"], f["line"], f["message"]) for f in json.loads(capsys.readouterr().out))


def graph_file(root: Path) -> dict:  # type: ignore[type-arg]
    files = list((root / ".celery_lint_cache").glob("graph-*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The modules the call graph reads from disk in this test."""
    seen: list[str] = []
    real = graph_store.read_module

    def counting(path: str, module: str | None) -> object:
        seen.append(os.path.basename(path))
        return real(path, module)

    monkeypatch.setattr(callgraph, "read_module", counting)
    monkeypatch.setattr(graph_store, "read_module", counting)
    return seen


def touch_view(root: Path) -> None:
    with open(root / "shop" / "views.py", "a") as handle:
        handle.write("# edited\n")


def test_a_rerun_walks_unchanged_helpers_from_the_store(project: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = lint(capsys)
    assert [f[1] for f in first] == ["CLY601"] and "notify() -> _send() -> shop.tasks.crop.delay" in first[0][3]
    entry = graph_file(project)[str(project / "shop" / "helpers.py")]
    assert entry["module"] == "shop.helpers" and set(entry["functions"]) == {"notify", "_send"}

    touch_view(project)  # the view is linted again; its walk goes through helpers.py
    seen = reads(monkeypatch)
    assert lint(capsys) == first
    assert "helpers.py" not in seen
    assert lint(capsys, "--no-cache") == first


def test_an_edited_helper_is_read_again(project: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert len(lint(capsys)) == 1
    (project / "shop" / "helpers.py").write_text(QUIET_HELPERS)
    seen = reads(monkeypatch)
    assert lint(capsys) == lint(capsys, "--no-cache") == []
    assert "helpers.py" in seen
    entry = graph_file(project)[str(project / "shop" / "helpers.py")]
    assert entry["functions"]["_send"][1] == []  # the new text's calls: none


def test_a_helper_renamed_by_an_added_init_is_not_answered_from_its_old_entry(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The module name is part of an entry: relative imports resolve through it."""
    (project / "shop" / "helpers.py").write_text("from .tasks import crop\n\n\ndef notify(pk):\n    crop.delay(pk, 1)\n")
    first = lint(capsys)
    assert "shop.tasks.crop.delay" in first[0][3]
    os.unlink(project / "shop" / "__init__.py")  # shop/ is no longer a package: module names change
    assert lint(capsys) == lint(capsys, "--no-cache")


def test_a_corrupt_or_foreign_graph_file_is_ignored(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    first = lint(capsys)
    path = next((project / ".celery_lint_cache").glob("graph-*.json"))
    helpers = str(project / "shop" / "helpers.py")
    for text in ("{not json", "[]", json.dumps({helpers: {"stat": "x"}})):
        path.write_text(text)
        touch_view(project)
        assert lint(capsys) == first
    # a well-formed entry whose function is of the wrong shape is read again
    entry = graph_file(project)[helpers]
    entry["functions"]["_send"] = ["oops"]
    path.write_text(json.dumps({helpers: entry}))
    touch_view(project)
    assert lint(capsys) == first


def test_workers_hand_their_entries_back(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A pool run (16 files or more): each worker's new entries reach the one file written."""
    for number in range(20):
        (project / "shop" / f"view{number}.py").write_text(VIEW)
    cli.run_in_process(["--output-format", "json", "--jobs", "2", "."])
    found = json.loads(capsys.readouterr().out)
    assert len(found) == 21
    assert set(graph_file(project)[str(project / "shop" / "helpers.py")]["functions"]) == {"notify", "_send"}


def test_no_cache_and_flake8_never_write_it(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    lint(capsys, "--no-cache")
    assert not (project / ".celery_lint_cache").exists()
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=CLY", "."], cwd=project, capture_output=True, text=True
    )
    assert proc.returncode == 1 and "CLY601" in proc.stdout, proc.stderr
    assert not list((project / ".celery_lint_cache").glob("graph-*.json"))


def test_an_entry_is_dropped_when_its_file_changes_under_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored entry asked for something it does not hold reads the file; when the file
    changed meanwhile, the entry is not kept (and not written)."""
    monkeypatch.setattr(stamp, "_run_start_ns", time.time_ns() + 10 * stamp.GRANULARITY_NS)
    helper = tmp_path / "helpers.py"
    helper.write_text(HELPERS)
    store = GraphStore(tmp_path / "cache")
    entry = store.add(str(helper), stamp.snapshot(str(helper)), "helpers", ["notify", "_send"])
    summary = RecordedSummary(str(helper), "helpers", entry, store)
    helper.write_text(QUIET_HELPERS + "\n")
    function = summary.function("_send")
    assert function is not None and function.calls == ()  # what the file says now
    assert store.drain() is None
    store.save()
    assert not (tmp_path / "cache").exists() or not json.loads(next((tmp_path / "cache").glob("graph-*")).read_text())
