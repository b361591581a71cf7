"""Fits like ruff (issue 19): paths, file-level suppression, stdin and CLI habits, each as
a ruff user expects them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from celery_lint.doors import cli

TASKS = "from celery import shared_task\n\n\n@shared_task\ndef resize(pk):\n    return pk\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "tasks.py").write_text(TASKS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.run_in_process(["--no-cache", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- item 7: paths as ruff prints them -----------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_paths_are_printed_without_dot_slash(project: Path, capsys, fmt: str) -> None:  # type: ignore[no-untyped-def]
    for argv in (["."], ["./shop"], ["./shop/tasks.py"], [str(project)], [str(project / "shop" / "tasks.py")]):
        code, out, _ = run(capsys, "--output-format", fmt, *argv)
        assert code == 1
        if fmt == "json":
            assert [f["filename"] for f in json.loads(out)] == ["shop/tasks.py"], argv
        elif fmt == "text":
            assert out.startswith("shop/tasks.py:4:2: CLY101"), (argv, out)
        else:
            assert "file=shop/tasks.py," in out, (argv, out)


def test_a_path_outside_the_working_directory_keeps_its_form(project: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(project / "shop")
    code, out, _ = run(capsys, "--output-format", "json", "..")
    assert [f["filename"] for f in json.loads(out)] == ["../shop/tasks.py"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("given", [".", "./shop/tasks.py", "ABSOLUTE"])
def test_diff_output_applies_with_git_apply(project: Path, capsys, given: str) -> None:  # type: ignore[no-untyped-def]
    subprocess.run(["git", "init", "-q", "."], cwd=project, check=True)
    target = str(project) if given == "ABSOLUTE" else given
    code, out, _ = run(capsys, "--diff", "--unsafe-fixes", target)
    assert code == 1 and out.startswith("--- a/shop/tasks.py\n+++ b/shop/tasks.py\n"), out
    (project / "fix.patch").write_text(out)
    subprocess.run(["git", "apply", "fix.patch"], cwd=project, check=True)
    assert '@shared_task(name="shop.tasks.resize")' in (project / "shop" / "tasks.py").read_text()
    assert run(capsys, ".")[0] == 0
