"""The smaller trust items of issue 17 (item 10 of "Why"), each as its reproduction."""

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
from tests.conftest import begin_settled_run
from celery_lint.run import files

TASK = "from celery import shared_task\n\n\n@shared_task\ndef t(a):\n    return a\n"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "celery_lint", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_a_pyproject_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.celery-lint]\n# caf\xe9\nselect = ["CLY1"]\n')
    (tmp_path / "tasks.py").write_text(TASK)
    proc = run(tmp_path, ".")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "not UTF-8" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_cached_result_does_not_survive_chmod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """chmod moves the ctime: the stat no longer vouches for the entry, the file is read
    again (CLY000 where it cannot be read: not as root, who reads anything)."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    tasks = tmp_path / "tasks.py"
    tasks.write_text(TASK)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(stamp, "_run_start_ns", time.time_ns() + 10 * stamp.GRANULARITY_NS)
    monkeypatch.setattr(cli, "begin_run", begin_settled_run)
    cli.run_in_process(["--output-format", "json", "--jobs", "1", "."])
    capsys.readouterr()
    [cache_file] = [p for p in (tmp_path / ".celery_lint_cache").glob("*.json") if not p.name.startswith("index-")]
    stored = json.loads(cache_file.read_text())["files"][str(tasks)]["stat"]
    assert stored == stamp.current_stat(str(tasks))
    tasks.chmod(0)
    try:
        assert stamp.current_stat(str(tasks)) != stored
        cli.run_in_process(["--output-format", "json", "--jobs", "1", "."])
        cached = json.loads(capsys.readouterr().out)
        cli.run_in_process(["--output-format", "json", "--jobs", "1", "--no-cache", "."])
        assert cached == json.loads(capsys.readouterr().out)
        if os.geteuid() != 0:
            assert [f["code"] for f in cached] == ["CLY000"]
    finally:
        tasks.chmod(0o644)


def test_an_unreadable_directory_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "ok.py").write_text(TASK)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "hidden.py").write_text(TASK)
    real = os.scandir

    def scandir(path: object = ".") -> object:  # as for a directory without read permission
        if str(path).rstrip("/").endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(files.os, "scandir", scandir)
    monkeypatch.chdir(tmp_path)
    for extra in ([], ["--follow-symlinks"]):
        cli.run_in_process(["--output-format", "json", "--jobs", "1", "--no-cache", *extra, "."])
        found = json.loads(capsys.readouterr().out)
        locked = [f for f in found if f["filename"].rstrip("/").endswith("locked")]
        assert [f["code"] for f in locked] == ["CLY000"], found
        assert "cannot read this directory" in locked[0]["message"]
        assert any(f["filename"].endswith("ok.py") for f in found)  # every other file still linted


def test_cr_only_line_endings_survive_a_fix(tmp_path: Path) -> None:
    source = TASK.replace("\n", "\r")
    (tmp_path / "tasks.py").write_bytes(source.encode())
    proc = run(tmp_path, "--no-cache", "--fix", "tasks.py")
    assert "Fixed 1" in proc.stdout, proc.stdout + proc.stderr
    fixed = (tmp_path / "tasks.py").read_bytes()
    assert fixed.endswith(b"\r") and b"\n" not in fixed
    assert fixed.count(b"\r") == source.count("\r")


def test_a_line_break_in_a_path_stays_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "a\nb.py").write_text(TASK)
    proc = run(tmp_path, "--no-cache", ".")
    finding, summary = proc.stdout.splitlines()[:2]
    assert finding.startswith("a\\nb.py:4:2: CLY101") and summary.startswith("Found 1 finding")


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="`except A, B:` compiles from Python 3.14")
def test_no_fix_is_offered_where_the_fixed_file_could_not_compile(tmp_path: Path) -> None:
    source = TASK.replace("    return a\n", "    try:\n        return a\n    except ValueError, TypeError:\n        return 0\n")
    (tmp_path / "tasks.py").write_text(source)
    proc = run(tmp_path, "--no-cache", "tasks.py")
    assert "CLY101" in proc.stdout and "[*]" not in proc.stdout and "fixable" not in proc.stdout
    proc = run(tmp_path, "--no-cache", "--output-format", "json", "tasks.py")
    assert all(f["fix"] is None for f in json.loads(proc.stdout))
