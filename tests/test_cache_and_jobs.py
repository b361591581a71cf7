"""The result cache never returns stale findings; --jobs output equals --jobs 1 output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from celery_lint.run import cache as cache_module
from celery_lint.doors import cli

TASK = "from celery import shared_task\n\n@shared_task\ndef ping():\n    return 1\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "tasks.py").write_text(TASK)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict]]:
    code = cli.run_in_process(["--output-format", "json", "--jobs", "1", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import libcst

    from celery_lint.engine import core as engine

    seen: list[str] = []
    original = libcst.parse_module

    def counting(source: str, *args: object, **kwargs: object) -> object:
        seen.append(source)
        return original(source, *args, **kwargs)

    monkeypatch.setattr(engine.cst, "parse_module", counting)
    return seen


def test_warm_run_parses_nothing_and_gives_the_same_findings(project: Path, capsys, parses: list[str]) -> None:
    first = lint(capsys, ".")
    assert len(parses) == 1
    assert (project / ".celery_lint_cache" / ".gitignore").exists()
    second = lint(capsys, ".")
    assert second == first and len(parses) == 1


def test_edited_file_is_linted_again(project: Path, capsys, parses: list[str]) -> None:
    lint(capsys, ".")
    (project / "tasks.py").write_text(TASK.replace("@shared_task", "@shared_task(name='tasks.ping')"))
    code, findings = lint(capsys, ".")
    assert code == 0 and findings == [] and len(parses) == 2


def test_same_content_new_mtime_is_a_hit(project: Path, capsys, parses: list[str]) -> None:
    lint(capsys, ".")
    os.utime(project / "tasks.py", ns=(1, 1))
    assert lint(capsys, ".")[0] == 1 and len(parses) == 1


def test_config_change_invalidates(project: Path, capsys) -> None:
    assert lint(capsys, ".")[0] == 1
    (project / "pyproject.toml").write_text("[tool.celery-lint]\nignore = ['CLY101']\n")
    assert lint(capsys, ".") == (0, [])
    assert lint(capsys, "--select", "CLY101", ".")[0] == 1


def test_version_change_invalidates(project: Path, capsys, parses: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    lint(capsys, ".")
    monkeypatch.setattr(cache_module, "__version__", "99.0.0")
    lint(capsys, ".")
    assert len(parses) == 2


def test_app_module_edit_invalidates_dependent_files(project: Path, capsys) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "__init__.py").touch()
    (project / "pkg" / "celeryconf.py").write_text("from celery import Celery\napp = Celery('x')\n")
    (project / "pkg" / "jobs.py").write_text("from pkg.celeryconf import app\n\n@app.task\ndef job():\n    return 1\n")
    codes = lambda findings: sorted((Path(f["filename"]).name, f["code"]) for f in findings)  # noqa: E731
    assert ("jobs.py", "CLY101") in codes(lint(capsys, ".")[1])
    (project / "pkg" / "celeryconf.py").write_text("class Flask:\n    pass\napp = Flask()\n")
    assert ("jobs.py", "CLY101") not in codes(lint(capsys, ".")[1])


def test_corrupt_cache_falls_back(project: Path, capsys) -> None:
    first = lint(capsys, ".")
    for entry in (project / ".celery_lint_cache").glob("*.json"):
        entry.write_text("{not json")
    assert lint(capsys, ".") == first


def test_cache_entries_of_the_wrong_shape_fall_back(project: Path, capsys) -> None:
    """Valid JSON whose entries hold the wrong types: the files are linted again."""
    import json

    first = lint(capsys, ".")
    for cache_file in (project / ".celery_lint_cache").glob("*.json"):
        data = json.loads(cache_file.read_text())
        if "files" not in data:
            continue  # the project index's cache
        for entry in data["files"].values():
            entry["deps"] = ["not", "a", "table"]
            entry["findings"] = [["not", "a", "finding"]]
        cache_file.write_text(json.dumps(data))
    assert lint(capsys, ".") == first


def test_unwritable_cache_falls_back_with_a_warning(project: Path, capsys) -> None:
    blocker = project / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    code = cli.run_in_process(["--jobs", "1", "--cache-dir", str(blocker / "cache"), "."])
    captured = capsys.readouterr()
    assert code == 1 and "CLY101" in captured.out
    assert "celery-lint: warning: cache not written" in captured.err


def test_no_cache_writes_nothing(project: Path, capsys) -> None:
    lint(capsys, "--no-cache", ".")
    assert not (project / ".celery_lint_cache").exists()


def test_jobs_output_is_deterministic(tmp_path: Path) -> None:
    from tests.conftest import REPO

    outputs = []
    for jobs in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-m", "celery_lint", "--no-cache", "--jobs", jobs, "--output-format", "json", "fixtures"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1] and json.loads(outputs[0])


def test_jobs_pool_is_used_for_many_files(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"t{i}.py").write_text(TASK)
    proc = subprocess.run(
        [sys.executable, "-m", "celery_lint", "--no-cache", "--jobs", "2", "--statistics", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.stdout.splitlines()[0] == "40  CLY101  task-without-name"


def test_bad_jobs_value_is_a_usage_error(project: Path, capsys) -> None:
    assert cli.run_in_process(["--jobs", "0", "."]) == 2
