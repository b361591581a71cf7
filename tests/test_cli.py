"""The celery-lint command: flags, formats, exit codes, stdin, config errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from celery_lint import __version__, lint_paths, lint_source
from celery_lint.rules.catalogue import CATALOGUE

from tests.conftest import REPO, run_with_reader_gone

TASK = "from celery import shared_task\n\n@shared_task\ndef ping():\n    return 1\n"


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "celery_lint", *args], cwd=cwd, input=stdin, capture_output=True, text=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "tasks.py").write_text(TASK)
    (tmp_path / "clean.py").write_text("def f():\n    return 1\n")
    return tmp_path


def test_exit_codes(project: Path) -> None:
    assert run("clean.py", cwd=project).returncode == 0
    proc = run("tasks.py", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout == (
        "tasks.py:3:2: CLY101 [*] task `ping` has no explicit `name=` (Celery generates `tasks.ping`); pin it with `name=`\n"
        "Found 1 finding in 1 file (1 file checked).\n"
        "[*] 1 fixable with the `--fix` option.\n"
        "Why each matters and how to fix it: `celery-lint --explain CLY101` (any code).\n"
    )
    assert run("clean.py", cwd=project).stdout == "All checks passed (1 file checked).\n"
    assert run("--exit-zero", "tasks.py", cwd=project).returncode == 0


def test_default_path_is_the_current_directory(project: Path) -> None:
    proc = run(cwd=project)
    assert proc.returncode == 1 and "tasks.py:3:2: CLY101" in proc.stdout


def test_json_output(project: Path) -> None:
    proc = run("--output-format", "json", "tasks.py", cwd=project)
    (finding,) = json.loads(proc.stdout)
    assert finding == {
        "code": "CLY101",
        "name": "task-without-name",
        "message": "task `ping` has no explicit `name=` (Celery generates `tasks.ping`); pin it with `name=`",
        "filename": "tasks.py",
        "line": 3,
        "column": 2,
        "end_line": 3,
        "end_column": 13,
        "fix": {"applicability": "safe", "message": 'Pin `name="tasks.ping"`'},
    }


def test_select_ignore_extend_select(project: Path) -> None:
    assert run("--select", "CLY2", "tasks.py", cwd=project).returncode == 0
    assert run("--ignore", "CLY101", "tasks.py", cwd=project).returncode == 0
    assert run("--select", "CLY2", "--extend-select", "CLY101", "tasks.py", cwd=project).returncode == 1


def test_config_from_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.celery-lint]\nignore = ['CLY101']\n")
    assert run("tasks.py", cwd=project).returncode == 0


def test_per_file_ignores_and_exclude(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.celery-lint]\nper-file-ignores = { 'tasks.py' = ['CLY1'] }\n")
    assert run(cwd=project).returncode == 0
    (project / "pyproject.toml").write_text("[tool.celery-lint]\nexclude = ['tasks.py']\n")
    assert run(cwd=project).returncode == 0


def test_stdin(project: Path) -> None:
    proc = run("-", "--stdin-filename", "tasks.py", cwd=project, stdin=TASK)
    assert proc.returncode == 1 and proc.stdout.startswith("tasks.py:3:2: CLY101")


def test_bad_usage_and_config_exit_2(project: Path) -> None:
    proc = run("--select", "E501", cwd=project)
    assert proc.returncode == 2 and "E501" in proc.stderr and "Traceback" not in proc.stderr
    assert run("--output-format", "xml", cwd=project).returncode == 2
    (project / "pyproject.toml").write_text("[tool.celery-lint]\nbogus = 1\n")
    proc = run(cwd=project)
    assert proc.returncode == 2
    assert proc.stderr == "celery-lint: error: unknown key `bogus` in [tool.celery-lint]; the keys are listed in the README, Configuration\n"


def test_list_rules_version_explain(project: Path) -> None:
    listing = run("--list-rules", cwd=project).stdout
    for entry in CATALOGUE:
        assert entry.code in listing and entry.name in listing
    planned = {line.split()[0] for line in listing.splitlines() if "not in this release" in line}
    assert planned == set()  # every catalogued rule is built (CLY108 and CLY409 last, issue 18)
    assert "disabled" in listing and "enabled" in listing
    assert run("--version", cwd=project).stdout.strip() == f"celery-lint {__version__}"
    explained = run("--explain", "CLY101", cwd=project).stdout
    assert explained.startswith("CLY101 task-without-name") and "## Why is this bad?" in explained
    assert run("--explain", "CLY999", cwd=project).returncode == 2


def test_directories_skip_virtualenvs_and_build_dirs(project: Path) -> None:
    for skipped in (".venv/lib", "node_modules/x", "build", ".git"):
        (project / skipped).mkdir(parents=True)
        (project / skipped / "t.py").write_text(TASK)
    venv = project / "myenv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr\n")
    (venv / "t.py").write_text(TASK)
    assert run(cwd=project).stdout.count(": CLY101 ") == 1


def test_public_api(project: Path) -> None:
    assert [f.code for f in lint_source(TASK, "tasks.py")] == ["CLY101"]
    assert [f.code for f in lint_paths([project / "tasks.py"])] == ["CLY101"]


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "celery-lint"
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0


FAST_PATH_CASES = {
    "plain.py": b"def f():\n    return 1\n",
    "mock.py": b"def test(m):\n    m.task.delay.assert_called_once()\n",
}
SLOW_PATH_CASES = {
    "noqa.py": b"x = 1  # noqa: CLY101\n",
    "nul.py": b"x = 1\x00\n",
    "latin.py": "# -*- coding: latin-1 -*-\nx = 'é'\n".encode("latin-1"),
    "task.py": TASK.encode(),
    # CLY706 reads a settings module that never spells "celery" in lowercase.
    "eager.py": b"CELERY_TASK_ALWAYS_EAGER = True\n",
}


@pytest.mark.parametrize("args", [[], ["--output-format", "json"], ["--output-format", "github"], ["--statistics"], ["--extend-select", "CLY901"]])
def test_fast_path_prints_what_the_full_run_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, args: list[str]) -> None:
    from celery_lint.doors import cli

    for name, data in {**FAST_PATH_CASES, **SLOW_PATH_CASES}.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    for files in (list(FAST_PATH_CASES), *([name] for name in SLOW_PATH_CASES)):
        fast = (cli.run_in_process([*args, "--no-cache", *files]), capsys.readouterr().out)
        monkeypatch.setattr(cli, "_nothing_to_lint", lambda *a: False)
        full = (cli.run_in_process([*args, "--no-cache", *files]), capsys.readouterr().out)
        monkeypatch.undo()
        monkeypatch.chdir(tmp_path)
        assert fast == full, files


def test_fast_path_is_taken_only_for_files_no_rule_could_report_on(tmp_path: Path) -> None:
    from celery_lint.doors import cli
    from celery_lint.config.settings import Settings

    for name, data in {**FAST_PATH_CASES, **SLOW_PATH_CASES}.items():
        (tmp_path / name).write_bytes(data)
    parse = lambda *paths: cli.build_parser().parse_args([str(tmp_path / p) for p in paths])  # noqa: E731
    assert cli._nothing_to_lint(parse(*FAST_PATH_CASES), Settings())
    for name in SLOW_PATH_CASES:
        assert not cli._nothing_to_lint(parse(name), Settings()), name
    assert not cli._nothing_to_lint(cli.build_parser().parse_args([str(tmp_path)]), Settings())


def test_fast_path_does_not_import_libcst(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("def f():\n    return 1\n")
    code = "import sys\nfrom celery_lint.doors.entry import main\nrc = main(['plain.py'])\nprint(rc, 'libcst' in sys.modules)\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout.splitlines()[-1] == "0 False"


def test_output_format_choices_match_the_renderers() -> None:
    from celery_lint.doors.cli import OUTPUT_FORMATS
    from celery_lint.report.formats import FORMATS

    assert sorted(OUTPUT_FORMATS) == sorted(FORMATS)


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    """``celery-lint . | head``: exit 2, nothing but the output on the streams
    (test_daemon checks the same for a served run)."""
    for number in range(30):
        (tmp_path / f"tasks{number}.py").write_text(
            "from celery import shared_task\n\n@shared_task\ndef ping():\n    return 1\n" * 20
        )
    proc = run_with_reader_gone(["--no-cache", "--jobs", "1", "."], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == ""


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["--select", "CLY999"], "", "unknown rule selector `CLY999` in select (did you mean `CLY901`?)"),
        (["--select", "CLY8"], "", "unknown rule selector `CLY8` in select"),
        (["--select", ""], "", "no rule code given"),
        (["--ignore", "CLY1999"], "", "is not a celery-lint code or prefix"),
        ([], 'select = ["CLY999"]\n', "unknown rule selector `CLY999` in select"),
        ([], 'extend-select = ["CLY80"]\n', "unknown rule selector `CLY80` in extend-select"),
        ([], 'ignore = ["CLY777"]\n', "unknown rule selector `CLY777` in ignore"),
        ([], '[tool.celery-lint.per-file-ignores]\n"tests/*" = ["CLY888"]\n', "in per-file-ignores `tests/*`"),
        (["--exit"], "", "unrecognized arguments: --exit"),  # no abbreviation of --exit-zero
    ],
)
def test_selecting_nothing_is_an_error(tmp_path: Path, args: list[str], config: str, message: str) -> None:
    """`--select CLY999` used to print "All checks passed" and exit 0 (issue 19, item 1)."""
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n" + config)
    (tmp_path / "tasks.py").write_text("from celery import shared_task\n\n@shared_task\ndef t():\n    pass\n")
    proc = subprocess.run([sys.executable, "-m", "celery_lint", *args, "."], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
