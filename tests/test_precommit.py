"""The pre-commit hook, exercised for real with `pre-commit try-repo` on this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import FIXTURES, REPO

TASK = "from celery import shared_task\n\n@shared_task\ndef ping():\n    return 1\n"


def test_hook_metadata_matches_the_well_known_shape() -> None:
    lint, fix = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert (lint["id"], lint["entry"]) == ("celery-lint", "celery-lint")
    assert (fix["id"], fix["entry"]) == ("celery-lint-fix", "celery-lint --fix")
    for hook in (lint, fix):
        assert hook["language"] == "python"
        assert hook["types"] == ["python"]
        assert set(hook) >= {"id", "name", "description", "entry", "language", "types", "minimum_pre_commit_version"}


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "test@example.invalid")
    _git(tmp_path, "config", "user.name", "test")
    (tmp_path / "tasks.py").write_text(TASK)
    (tmp_path / "clean.py").write_text("def f():\n    return 1\n")
    _git(tmp_path, "add", ".")
    return tmp_path


def _try_repo(user_repo: Path, home: Path, *files: str, hook: str = "celery-lint") -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), hook, "--files", *files],
        cwd=user_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_try_repo_reports_a_finding(user_repo: Path, pre_commit_home: Path) -> None:
    proc = _try_repo(user_repo, pre_commit_home, "tasks.py", "clean.py")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "tasks.py:3:2: CLY101 [*] task `ping` has no explicit `name=`" in proc.stdout


def test_try_repo_passes_a_clean_file(user_repo: Path, pre_commit_home: Path) -> None:
    proc = _try_repo(user_repo, pre_commit_home, "clean.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout


def test_try_repo_fix_hook_pins_the_name(user_repo: Path, pre_commit_home: Path) -> None:
    proc = _try_repo(user_repo, pre_commit_home, "tasks.py", "clean.py", hook="celery-lint-fix")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in proc.stdout
    assert '@shared_task(name="tasks.ping")' in (user_repo / "tasks.py").read_text()
    assert (user_repo / "clean.py").read_text() == "def f():\n    return 1\n"
    again = _try_repo(user_repo, pre_commit_home, "tasks.py", hook="celery-lint-fix")
    assert again.returncode == 0, again.stdout + again.stderr


def test_try_repo_with_one_file_still_sees_the_whole_project(tmp_path: Path, pre_commit_home: Path) -> None:
    """pre-commit passes only the changed file; the project index still covers every task."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES, project, ignore=shutil.ignore_patterns(".celery_lint_cache", "__pycache__"))
    _git(project, "init", "-q")
    _git(project, "config", "user.email", "test@example.invalid")
    _git(project, "config", "user.name", "test")
    _git(project, "add", ".")
    proc = _try_repo(project, pre_commit_home, "proj/billing/views.py")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    reported = [line for line in proc.stdout.splitlines() if ": CLY" in line]
    assert reported and all(line.startswith("proj/billing/views.py:") for line in reported), reported
    assert any("CLY408" in line and "registered as `proj.billing.charge`" in line for line in reported)
    assert any("CLY407" in line for line in reported) and any("CLY503" in line for line in reported)
