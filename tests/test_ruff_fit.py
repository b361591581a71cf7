"""Fits like ruff (issue 19): paths, file-level suppression, stdin and CLI habits, each as
a ruff user expects them."""

from __future__ import annotations

import json
import re
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


# -- item 5: file-level suppression ---------------------------------------------------

TWO_RULES = (
    "from celery import shared_task\n\n\n"
    "@shared_task(autoretry_for=(Exception,))\ndef resize(pk):\n    return pk\n"
)


def _codes(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    code, out, err = run(capsys, "--output-format", "json", "--select", "CLY0,CLY1,CLY2,CLY3", *argv)
    assert code in (0, 1), err
    return sorted(f["code"] for f in json.loads(out))


@pytest.mark.parametrize(
    ("comment", "left"),
    [
        ("", ["CLY101", "CLY304"]),
        ("# celery-lint: noqa\n", []),
        ("# Celery-Lint:NOQA\n", []),
        ("# celery-lint: noqa: CLY101\n", ["CLY304"]),
        ("# celery-lint: noqa: CLY3, CLY101\n", []),
        ("# flake8: noqa\n", []),
        ("# flake8: noqa: E501\n", []),  # flake8 ignores the whole file, codes or not
        ("x = 1  # celery-lint: noqa\n", ["CLY101", "CLY304"]),  # not at the start of a line
        ("# noqa\n", ["CLY101", "CLY304"]),  # a line noqa on its own line suppresses that line only
        ("s = '# celery-lint: noqa'\n", ["CLY101", "CLY304"]),
    ],
)
def test_file_level_noqa_in_the_cli(project: Path, capsys, comment: str, left: list[str]) -> None:  # type: ignore[no-untyped-def]
    (project / "shop" / "tasks.py").write_text(comment + TWO_RULES)
    assert _codes(capsys, ".") == left


def test_file_level_noqa_keeps_cly000(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (project / "shop" / "tasks.py").write_text("# celery-lint: noqa\nfrom celery import shared_task\ndef (:\n")
    assert _codes(capsys, ".") == ["CLY000"]


@pytest.mark.parametrize(
    ("comment", "left"),
    [
        ("", {"CLY101"}),  # CLY304 is off by default
        ("# celery-lint: noqa\n", set()),
        ("# celery-lint: noqa: CLY304\n", {"CLY101"}),
        ("# celery-lint: noqa: CLY1\n", set()),
    ],
)
def test_file_level_noqa_under_flake8(project: Path, comment: str, left: set[str]) -> None:
    (project / "shop" / "tasks.py").write_text(comment + TWO_RULES)
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=CLY", "--celery-no-cache", "."],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert {line.split()[1] for line in proc.stdout.splitlines()} == left, proc.stderr


# -- item 6: stdin as ruff ------------------------------------------------------------

STDIN_TASKS = (
    "from celery import shared_task\nimport requests\n\n\n"
    "@shared_task(soft_time_limt=5)\ndef resize(pk):\n    requests.get('http://x')\n    return pk\n\n\n"
    "def view():\n    resize.apply_async((1,), countdwn=3)\n"
)


def _stdin(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "celery_lint", "--no-cache", "--output-format", "json", *argv],
        cwd=project,
        input=STDIN_TASKS,
        capture_output=True,
        text=True,
    )


def test_stdin_filename_implies_stdin(project: Path) -> None:
    named = _stdin(project, "--stdin-filename", "shop/views.py")
    dashed = _stdin(project, "--stdin-filename", "shop/views.py", "-")
    assert named.returncode == dashed.returncode == 1, named.stderr
    assert named.stdout == dashed.stdout
    found = json.loads(named.stdout)
    assert {f["filename"] for f in found} == {"shop/views.py"}  # stdin, not the tree's shop/tasks.py
    assert sorted(f["code"] for f in found) == ["CLY101", "CLY201", "CLY207", "CLY603"]
    assert any(f["fix"] for f in found if f["code"] == "CLY101")  # the name gives the module: a fix


def test_stdin_without_a_name_reports_what_does_not_depend_on_the_path(project: Path) -> None:
    proc = _stdin(project, "-")
    assert proc.returncode == 1, proc.stderr
    found = json.loads(proc.stdout)
    assert sorted(f["code"] for f in found) == ["CLY101", "CLY201", "CLY207", "CLY603"]
    assert not any(f["fix"] for f in found if f["code"] == "CLY101")  # no module name: no name to pin


def test_stdin_filename_with_other_paths_is_a_usage_error(project: Path) -> None:
    proc = _stdin(project, "--stdin-filename", "shop/views.py", ".")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "celery-lint: error: --stdin-filename lints stdin under that name; give no other paths (or only `-`)"


# -- item 9: CLI habits -------------------------------------------------------------------


def test_output_file(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "-o", "report.json", "--output-format", "json", ".")
    assert code == 1 and out == ""
    assert [f["code"] for f in json.loads((project / "report.json").read_text())] == ["CLY101"]
    (project / "shop" / "tasks.py").write_text("x = 1\n")
    code, out, _ = run(capsys, "--output-file", "report.json", "--output-format", "json", ".")
    assert code == 0 and json.loads((project / "report.json").read_text()) == []  # emptied, then written
    code, _, err = run(capsys, "-o", str(project / "missing" / "r.txt"), ".")
    assert code == 2 and err.startswith("celery-lint: error: cannot write --output-file")


def test_quiet_prints_the_findings_only(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "-q", ".")
    assert code == 1 and out.splitlines() == [out.splitlines()[0]] and out.startswith("shop/tasks.py:4:2: CLY101")
    code, out, err = run(capsys, "--quiet", "--diff", "--unsafe-fixes", ".")
    assert code == 1 and out.startswith("--- a/shop/tasks.py") and err == ""
    (project / "shop" / "tasks.py").write_text("x = 1\n")
    assert run(capsys, "-q", ".") == (0, "", "")
    assert run(capsys, "-q", "shop/tasks.py") == (0, "", "")  # the answer without libcst too


def test_exit_non_zero_on_fix(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(capsys, "--fix", "--unsafe-fixes", ".")[0] == 0  # fixed: nothing left
    (project / "shop" / "tasks.py").write_text(TASKS)
    assert run(capsys, "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix", ".")[0] == 1
    assert run(capsys, "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix", ".")[0] == 0  # nothing to fix now
    (project / "shop" / "tasks.py").write_text(TASKS)
    assert run(capsys, "--fix", "--unsafe-fixes", "--exit-non-zero-on-fix", "--exit-zero", ".")[0] == 0


def test_statistics_as_json(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "--statistics", "--output-format", "json", ".")
    assert code == 1
    assert json.loads(out) == [{"code": "CLY101", "name": "task-without-name", "count": 1, "fixable": 1}]
    (project / "shop" / "__init__.py").unlink()  # no certain module name: the fix is unsafe
    assert json.loads(run(capsys, "--statistics", "--output-format", "json", ".")[1])[0]["fixable"] == 0
    (project / "shop" / "tasks.py").write_text("x = 1\n")
    assert run(capsys, "--statistics", "--output-format", "json", "shop/tasks.py") == (0, "[]\n", "")


def test_list_rules_has_a_legend_and_json(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "--list-rules")
    assert code == 0 and "safe* (safe only under the guard" in out and "\ndefault: on, or off" in out
    code, out, _ = run(capsys, "--list-rules", "--output-format", "json")
    rules = json.loads(out)
    assert code == 0 and {"code": "CLY106", "name": "bind-mismatch"}.items() <= rules[5].items()
    assert set(rules[0]) == {"code", "name", "default", "scope", "fix", "status"}


@pytest.mark.parametrize(("color", "expected"), [("always", True), ("never", False), ("auto", False)])
def test_color(project: Path, capsys, monkeypatch, color: str, expected: bool) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FORCE_COLOR", "1") if color == "never" else monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = run(capsys, "--color", color, ".")[1]
    assert ("\033[" in out) is expected
    (project / "shop" / "tasks.py").write_text("x = 1\n")
    assert ("\033[" in run(capsys, "--color", color, "shop/tasks.py")[1]) is expected


def test_config_dev_null_is_the_defaults(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (project / "pyproject.toml").write_text("[tool.celery-lint]\nignore = ['CLY101']\n")
    assert run(capsys, ".")[0] == 0
    assert run(capsys, "--config", "/dev/null", ".")[0] == 1
    code, _, err = run(capsys, "--config", str(project / "nope.toml"), ".")
    assert code == 2 and "config file not found" in err


# -- item 10: every message says what to do -------------------------------------------------

#: A clause that tells the reader what to do: after `; `, `: ` or `(`, an imperative (or a
#: `did you mean` suggestion).
ACTION = re.compile(
    r"(?:; |: |\()(?:add|bind|chain|correct|define|did you mean|give|make|move|name it|narrow|pass|pin|put|"
    r"re-raise|remove|rename|retry|route|say|schedule|send|set|store|upgrade|use|write|import|list)\b"
)


def _invalid_cases() -> list[object]:
    from celery_lint.rules import ALL_RULES

    return [
        pytest.param(rule, sample, id=f"{rule.code}-{i}")
        for rule in ALL_RULES
        if rule.code != "CLY000"  # a file that cannot be read: the reason is what to fix
        for i, sample in enumerate(rule.INVALID)
    ]


@pytest.mark.parametrize(("rule", "sample"), _invalid_cases())
def test_every_message_says_what_to_do(rule, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import as_example, lint_example

    messages = [f.message for f in lint_example(as_example(sample), tmp_path) if f.code == rule.code]
    assert messages
    for message in messages:
        assert ACTION.search(message), f"{rule.code}: no advice in {message!r}"


def test_the_summary_points_to_explain(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = run(capsys, ".")[1]
    assert out.splitlines()[-1] == "Why each matters and how to fix it: `celery-lint --explain CLY101` (any code)."
    assert "--explain" not in run(capsys, "-q", ".")[1]
    (project / "shop" / "tasks.py").write_text("x = 1\n")
    assert "--explain" not in run(capsys, ".")[1]


# -- item 3: file selection as ruff -------------------------------------------------------


@pytest.fixture
def selection_project(project: Path) -> Path:
    """A git repository with tasks in excluded, gitignored and ordinary places."""
    (project / ".git").mkdir()
    for rel in (
        "build/old.py", "apps/gen/made.py", "apps/live.py", "generated/api.py", "vendor/keep.py", "local/mine.py", "secret/open.py"
    ):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(TASKS)
    # git cannot re-include a file whose directory is ignored (secret/open.py stays ignored);
    # it can one whose directory's contents are (vendor/keep.py)
    (project / ".gitignore").write_text("generated/\nvendor/*\n!vendor/keep.py\nsecret\n!secret/open.py\n")
    (project / ".git" / "info").mkdir()
    (project / ".git" / "info" / "exclude").write_text("local/\n")
    return project


def _files(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    code, out, err = run(capsys, "--show-files", *argv)
    assert code == 0, err
    return out.splitlines()


def test_exclude_extend_exclude_and_gitignore_in_a_walk(selection_project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    walked = ["apps/gen/made.py", "apps/live.py", "shop/__init__.py", "shop/tasks.py", "vendor/keep.py"]
    assert _files(capsys, ".") == walked  # build/ by default, generated/ and local/ by git
    assert _files(capsys, "--extend-exclude", "apps/gen", ".") == [p for p in walked if p != "apps/gen/made.py"]
    # `exclude` replaces the default list, as in ruff: build/ comes back
    assert _files(capsys, "--exclude", "apps", ".") == ["build/old.py", "shop/__init__.py", "shop/tasks.py", "vendor/keep.py"]
    assert "generated/api.py" in _files(capsys, "--no-respect-gitignore", ".")
    assert "local/mine.py" in _files(capsys, "--no-respect-gitignore", ".")
    (selection_project / "pyproject.toml").write_text(
        "[tool.celery-lint]\nextend-exclude = ['*_live.py', 'live.py']\nrespect-gitignore = false\n"
    )
    assert _files(capsys, ".") == [
        "apps/gen/made.py", "generated/api.py", "local/mine.py", "secret/open.py", "shop/__init__.py", "shop/tasks.py", "vendor/keep.py"
    ]


def test_named_paths_are_linted_unless_force_exclude(selection_project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (selection_project / "pyproject.toml").write_text("[tool.celery-lint]\nextend-exclude = ['apps/gen']\n")
    named = ["apps/gen/made.py", "generated/api.py", "build/old.py", "secret/open.py", "apps/live.py"]
    assert _files(capsys, *named) == named  # as ruff: what you name is linted
    assert _files(capsys, "--force-exclude", *named) == ["apps/live.py"]
    code, out, _ = run(capsys, "--force-exclude", "apps/gen/made.py", "generated/api.py")
    assert code == 0 and out == "All checks passed (0 files checked).\n"  # the fast path, too
    (selection_project / "pyproject.toml").write_text("[tool.celery-lint]\nextend-exclude = ['apps/gen']\nforce-exclude = true\n")
    assert _files(capsys, *named) == ["apps/live.py"]
    assert _files(capsys, "--no-force-exclude", *named) == named


def test_fix_leaves_gitignored_files_alone(selection_project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run(capsys, "--fix", "--unsafe-fixes", ".")
    assert (selection_project / "generated" / "api.py").read_text() == TASKS
    assert (selection_project / "build" / "old.py").read_text() == TASKS
    assert "name=" in (selection_project / "shop" / "tasks.py").read_text()


def test_flake8_applies_the_same_selection(selection_project: Path) -> None:
    (selection_project / "pyproject.toml").write_text("[tool.celery-lint]\nextend-exclude = ['apps/gen']\n")

    def flake8(*paths: str) -> set[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "flake8", "--select=CLY", "--celery-no-cache", *paths],
            cwd=selection_project,
            capture_output=True,
            text=True,
        )
        assert proc.returncode in (0, 1), proc.stderr
        return {line.split(":")[0].removeprefix("./") for line in proc.stdout.splitlines()}

    assert flake8(".") == {"apps/live.py", "shop/tasks.py", "vendor/keep.py"}
    # files named to flake8 (as pre-commit's flake8 hook does): the exclusions still apply
    assert flake8("apps/gen/made.py", "generated/api.py", "local/mine.py", "apps/live.py") == {"apps/live.py"}


# -- item 2: hierarchical configuration ----------------------------------------------------

DUP = "from celery import shared_task\n\n\n@shared_task(name='dup')\ndef work():\n    return 1\n"


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root project and apps/api with a configuration of its own."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\nignore = ['CLY102']\n")
    api = tmp_path / "apps" / "api"
    (api / "shop").mkdir(parents=True)
    (api / "pyproject.toml").write_text("[tool.celery-lint]\nignore = ['CLY102', 'CLY502']\nextend-exclude = ['legacy']\n")
    (api / "shop" / "__init__.py").write_text("")
    (api / "shop" / "tasks.py").write_text(TASKS)
    (api / "shop" / "dup.py").write_text(DUP)
    (api / "legacy").mkdir()
    (api / "legacy" / "old.py").write_text(TASKS)
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "__init__.py").write_text("")
    (tmp_path / "web" / "dup.py").write_text(DUP)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _found(capsys: pytest.CaptureFixture[str], *argv: str) -> list[tuple[str, str, str]]:
    code, out, err = run(capsys, "--output-format", "json", *argv)
    assert code in (0, 1), err
    return sorted((f["filename"], f["code"], f["message"].split(" (")[0]) for f in json.loads(out))


def test_the_nearest_configuration_governs_each_file(monorepo: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from_root = _found(capsys, ".")
    # apps/api's module names come from its own root (shop.tasks, not apps.api.shop.tasks), its
    # exclusions apply, and its tasks are not the root project's (no CLY103 across them)
    assert [f[:2] for f in from_root] == [("apps/api/shop/tasks.py", "CLY101")]
    assert "`shop.tasks.resize`" in run(capsys, "apps/api/shop/tasks.py")[1]
    # as pre-commit calls it (one file), and from the sub-project: the same findings
    assert _found(capsys, "apps/api/shop/tasks.py", "apps/api/shop/dup.py", "web/dup.py") == from_root
    monkeypatch.chdir(monorepo / "apps" / "api")
    assert [f[:2] for f in _found(capsys, ".")] == [("shop/tasks.py", "CLY101")]


def test_config_overrides_the_hierarchy(monorepo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    found = _found(capsys, "--config", "pyproject.toml", ".")
    assert ("apps/api/legacy/old.py", "CLY101", "task `resize` has no explicit `name=`") in found  # no api exclusions
    assert {f[1] for f in found if f[0].endswith("dup.py")} == {"CLY103"}  # one project: the names collide


def test_show_settings_says_what_governs_a_file(monorepo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "--show-settings", "apps/api/shop/tasks.py", "--extend-select", "CLY304")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "Settings for apps/api/shop/tasks.py"
    assert lines[1] == f"configuration: {monorepo / 'apps' / 'api' / 'pyproject.toml'}"
    assert lines[2] == f"project root: {monorepo / 'apps' / 'api'}"
    assert 'ignore = ["CLY102", "CLY502"]' in lines and 'extend-exclude = ["legacy"]' in lines
    assert 'extend-select = ["CLY304"]' in lines  # the command line is the last layer
    assert 'ignore = ["CLY102"]' in run(capsys, "--show-settings", "web/dup.py")[1].splitlines()
    assert "configuration: /dev/null (--config)" in run(capsys, "--show-settings", "x.py", "--config", "/dev/null")[1]
    (monorepo / "pyproject.toml").unlink()
    assert "configuration: none (the defaults)" in run(capsys, "--show-settings", "web/dup.py")[1]


def test_show_files_follows_the_nested_exclusions(monorepo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _files(capsys, ".") == ["apps/api/shop/__init__.py", "apps/api/shop/dup.py", "apps/api/shop/tasks.py", "web/__init__.py", "web/dup.py"]


def test_flake8_uses_the_nearest_configuration_too(monorepo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=CLY", "--celery-no-cache", "."],
        cwd=monorepo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    assert [line.split(":")[0].removeprefix("./") + " " + line.split()[1] for line in proc.stdout.splitlines()] == [
        "apps/api/shop/tasks.py CLY101"
    ]


def test_a_broken_nested_configuration_is_a_config_error(monorepo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (monorepo / "apps" / "api" / "pyproject.toml").write_text("[tool.celery-lint]\nignore = 'CLY101'\n")
    code, _, err = run(capsys, ".")
    assert code == 2 and "must be a list of strings" in err


def test_a_gitignore_with_invalid_lines_is_read_as_git_reads_it(selection_project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """git skips a line it cannot read (`foo\\` with a trailing backslash, a lone `!`); so
    does the walk, keeping the other lines; binary junk does not stop it either."""
    (selection_project / ".gitignore").write_bytes(b"foo\\\n!\n\xff\xfe\x00junk\ngenerated/\n")
    files = _files(capsys, ".")
    assert "generated/api.py" not in files and "apps/live.py" in files
    assert _files(capsys, "--force-exclude", "generated/api.py", "apps/live.py") == ["apps/live.py"]


def test_a_nested_configuration_that_respects_gitignore_where_the_root_does_not(monorepo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (monorepo / "pyproject.toml").write_text("[tool.celery-lint]\nignore = ['CLY102']\nrespect-gitignore = false\n")
    (monorepo / ".gitignore").write_text("apps/api/shop/tasks.py\nweb/dup.py\n")
    files = _files(capsys, ".")
    assert "web/dup.py" in files  # the root's own files: .gitignore not asked
    assert "apps/api/shop/tasks.py" not in files and "apps/api/shop/dup.py" in files  # the api's: asked
