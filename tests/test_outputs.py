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


SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def validate_sarif(document: dict) -> None:  # type: ignore[type-arg]
    """Against the official schema, formats checked (`uri`, `uri-reference`: what GitHub
    code scanning rejects a file for)."""
    import jsonschema

    checker = jsonschema.FormatChecker()
    assert {"uri", "uri-reference"} <= set(checker.checkers), "install the test extras (jsonschema[format-nongpl])"
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()), format_checker=checker).validate(document)


def test_sarif_validates_against_the_official_schema(project: Path) -> None:
    proc = run(project, "--output-format", "sarif", "tasks.py")
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    validate_sarif(document)
    driver = document["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == [r.code for r in ALL_RULES]
    for descriptor in driver["rules"]:  # what GitHub code scanning shows
        assert descriptor["name"] and descriptor["shortDescription"]["text"]
        assert descriptor["fullDescription"]["text"] and "## Why is this bad?" in descriptor["help"]["markdown"]
    (result,) = [r for r in document["runs"][0]["results"] if r["ruleId"] == "CLY101"]
    assert driver["rules"][result["ruleIndex"]]["id"] == "CLY101"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (3, 2)
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "tasks.py", "uriBaseId": "%SRCROOT%"}
    assert document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"


def _sarif_uris(cwd: Path, *argv: str) -> list[dict]:  # type: ignore[type-arg]
    proc = run(cwd, "--output-format", "sarif", *argv)
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    validate_sarif(document)
    found = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in document["runs"][0]["results"]]
    return [dict(pair) for pair in dict.fromkeys(tuple(sorted(f.items())) for f in found)]


def test_sarif_uris_are_encoded_and_relative_to_the_repository_root(project: Path) -> None:
    (project / ".git").mkdir()  # the repository root
    odd = project / "a dir#1" / "caf\u00e9 x.py"
    odd.parent.mkdir()
    odd.write_text(TASK)
    expected = [
        {"uri": "a%20dir%231/caf%C3%A9%20x.py", "uriBaseId": "%SRCROOT%"},
        {"uri": "tasks.py", "uriBaseId": "%SRCROOT%"},
    ]
    assert _sarif_uris(project, ".") == expected
    assert _sarif_uris(project, str(project)) == expected  # an absolute argument
    assert _sarif_uris(odd.parent, ".") == expected[:1]  # run from a subdirectory
    assert _sarif_uris(odd.parent, str(odd)) == expected[:1]


def test_sarif_file_outside_the_root_is_an_absolute_uri(project: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    (project / ".git").mkdir()
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "tasks.py"
    elsewhere.write_text(TASK)
    (location,) = _sarif_uris(project, str(elsewhere))
    assert location == {"uri": elsewhere.resolve().as_uri()}


def test_sarif_fingerprints_survive_moved_lines_and_tell_repeats_apart(project: Path) -> None:
    def prints() -> list[str]:
        proc = run(project, "--output-format", "sarif", "tasks.py")
        return [r["partialFingerprints"]["celeryLint/v1"] for r in json.loads(proc.stdout)["runs"][0]["results"]]

    before = prints()
    (project / "tasks.py").write_text("\n\n# moved down\n" + TASK)
    assert prints() == before
    (project / "tasks.py").write_text(TASK + "\n\n" + TASK.split("\n", 1)[1])
    both = prints()
    assert len(both) == len(set(both)) == 2 * len(before)


def test_sarif_links_to_the_tool_and_each_rule(project: Path) -> None:
    import tomllib

    from celery_lint import HOMEPAGE

    document = json.loads(run(project, "--output-format", "sarif", "tasks.py").stdout)
    driver = document["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == HOMEPAGE
    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert pyproject["project"]["urls"]["Homepage"] == HOMEPAGE
    assert HOMEPAGE in (Path(__file__).parent.parent / "README.md").read_text()
    headings = (Path(__file__).parent.parent / "docs" / "rules.md").read_text()
    for descriptor in driver["rules"]:
        page, _, anchor = descriptor["helpUri"].partition("#")
        assert page == f"{HOMEPAGE}/blob/main/docs/rules.md"
        code, _, name = anchor.partition("-")
        assert f"## {code.upper()} {name}" in headings or f"## {code.upper()}: {name}" in headings, anchor


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
