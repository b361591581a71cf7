"""The pre-commit hook, exercised for real with `pre-commit try-repo` on this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from celery_lint.doors import daemon

from tests.conftest import FIXTURES, REPO

TASK = "from celery import shared_task\n\n@shared_task\ndef ping():\n    return 1\n"


def test_hook_metadata_matches_the_well_known_shape() -> None:
    lint, fix = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    # as ruff-pre-commit: in the hook's process (the daemon is `args: [--daemon]`, opted into),
    # one process per commit
    # --force-exclude: pre-commit names every staged file; `exclude` and .gitignore still apply
    assert (lint["id"], lint["entry"]) == ("celery-lint", "celery-lint --force-exclude")
    assert (fix["id"], fix["entry"]) == ("celery-lint-fix", "celery-lint --force-exclude --fix")
    for hook in (lint, fix):
        assert hook["require_serial"] is True and "--daemon" not in hook["entry"]
        assert hook["language"] == "python"
        assert hook["types"] == ["python"]
        assert set(hook) >= {"id", "name", "description", "entry", "language", "types", "minimum_pre_commit_version"}


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    yield home
    directory = home / "daemon"
    if directory.exists():  # the hooks' background servers (none when CI is set)
        for _ in range(50):
            daemon.stop_servers(str(directory))
            if not list(directory.glob("*.sock")):
                break
            time.sleep(0.2)


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


def _try_repo(
    user_repo: Path, home: Path, *files: str, hook: str = "celery-lint", daemon_allowed: bool = False
) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        daemon.ENV_DIR: str(home / "daemon"),
        # a belt to the hooks' braces (they do not ask for the daemon): try-repo installs
        # a new hook environment for every run, and a server started from it would outlive
        # its interpreter; test_second_commit_is_served_by_the_daemon covers the opt-in.
        daemon.ENV_SWITCH: "0",
    }
    if daemon_allowed:
        del env[daemon.ENV_SWITCH]
        env[daemon.ENV_VERBOSE] = "1"  # a run that asks for the daemon says so
        for name in daemon.CI_VARIABLES:
            env.pop(name, None)
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


def test_the_shipped_hooks_leave_no_process_behind(user_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """With the daemon allowed (not CI, no CELERY_LINT_DAEMON=0), the hooks as shipped run
    in their own process: the daemon is never asked for, no server is started (a hook
    with `--daemon` would say "started a server for the next run")."""
    home = tmp_path_factory.mktemp("pre-commit-home-no-daemon")
    for hook in ("celery-lint", "celery-lint-fix"):
        proc = _try_repo(user_repo, home, "tasks.py", hook=hook, daemon_allowed=True)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "celery-lint: daemon:" not in proc.stdout, proc.stdout
        assert ("CLY101" in proc.stdout) if hook == "celery-lint" else ("files were modified" in proc.stdout)
    assert not (home / "daemon").exists() or not list((home / "daemon").iterdir())


def test_the_hook_skips_excluded_and_gitignored_files(user_repo: Path, pre_commit_home: Path) -> None:
    """pre-commit names each staged file; `--force-exclude` in the hooks keeps `exclude`,
    `extend-exclude` and .gitignore in force, as ruff-pre-commit does."""
    (user_repo / "pyproject.toml").write_text("[tool.celery-lint]\nextend-exclude = ['legacy']\n")
    for rel in ("legacy/tasks.py", "generated/tasks.py"):
        (user_repo / rel).parent.mkdir()
        (user_repo / rel).write_text(TASK)
    (user_repo / ".gitignore").write_text("generated/\n")
    _git(user_repo, "add", "-f", ".")
    proc = _try_repo(user_repo, pre_commit_home, "legacy/tasks.py", "generated/tasks.py", "clean.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _try_repo(user_repo, pre_commit_home, "legacy/tasks.py", "tasks.py")
    assert proc.returncode == 1 and "legacy" not in proc.stdout.split("Using config")[-1].split("====")[-1]


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


@pytest.fixture(scope="module")
def committed_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree (uncommitted changes too) as a clean one-commit repository.

    ``try-repo`` on a dirty checkout builds a new commit, hence a new hook environment,
    every time; on a clean one both runs use the same environment, as a developer's
    commits do.
    """
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    checkout = tmp_path_factory.mktemp("checkout")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, checkout / name)
    _git(checkout, "init", "-q")
    _git(checkout, "config", "user.email", "test@example.invalid")
    _git(checkout, "config", "user.name", "test")
    _git(checkout, "add", ".")
    _git(checkout, "commit", "-q", "-m", "snapshot")
    return checkout


def test_second_commit_is_served_by_the_daemon(user_repo: Path, pre_commit_home: Path, committed_checkout: Path) -> None:
    """As a developer who opted in (``args: [--daemon]``) commits: ``pre-commit run`` with
    this checkout as the hook repo.

    The first run installs the hook environment, runs in its own process and starts a
    server; a later run is served by it and reports the same findings.
    """
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=committed_checkout, capture_output=True, text=True, check=True)
    config = user_repo / "hooks.yaml"
    config.write_text(
        f"repos:\n-   repo: {committed_checkout}\n    rev: {rev.stdout.strip()}\n    hooks:\n"
        "    -   id: celery-lint\n        args: [--daemon]\n"  # the documented opt-in
    )
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(pre_commit_home),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        daemon.ENV_DIR: str(pre_commit_home / "daemon"),
        daemon.ENV_VERBOSE: "1",
    }
    for name in (daemon.ENV_SWITCH, *daemon.CI_VARIABLES):
        env.pop(name, None)
    command = [sys.executable, "-m", "pre_commit", "run", "-c", str(config), "--verbose", "celery-lint", "--files", "tasks.py"]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=user_repo, env=env, capture_output=True, text=True, timeout=900)

    try:
        first = run()
        assert first.returncode == 1, first.stdout + first.stderr
        assert "celery-lint: daemon: ran in this process" in first.stdout, first.stdout
        served = None
        for _ in range(60):  # the server imports libcst in the background
            again = run()
            if "celery-lint: daemon: served by" in again.stdout:
                served = again
                break
            time.sleep(0.25)
        assert served is not None, "no run was served"
        assert served.returncode == 1
        findings = [line for line in first.stdout.splitlines() if ": CLY" in line]
        assert findings and findings == [line for line in served.stdout.splitlines() if ": CLY" in line]
    finally:
        daemon.stop_servers(str(pre_commit_home / "daemon"))
