"""Every rule's own VALID/INVALID examples, run through the engine and through flake8."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flake8.main.application import Application

from celery_lint.rules import ALL_RULES, Example, Rule

from tests.conftest import as_example, lint_example, write_example

CASES = [
    pytest.param(rule, kind, as_example(sample), id=f"{rule.code}-{kind}-{i}")
    for rule in ALL_RULES
    for kind, samples in (("valid", rule.VALID), ("invalid", rule.INVALID))
    for i, sample in enumerate(samples)
]


@pytest.mark.parametrize(("rule", "kind", "example"), CASES)
def test_example(rule: type[Rule], kind: str, example: Example, tmp_path: Path) -> None:
    findings = [f for f in lint_example(example, tmp_path) if f.code == rule.code]
    if kind == "valid":
        assert findings == [], f"{rule.code} must stay silent:\n{example.code}"
    else:
        expected = example.expected_lines()
        assert expected, f"INVALID example of {rule.code} marks no line with `# error`"
        assert sorted({f.line for f in findings}) == sorted(expected), [
            (f.line, f.message) for f in findings
        ]
        for finding in findings:
            assert finding.message and not finding.message.endswith("."), finding.message


def _flake8(paths: list[str], cwd: Path) -> list[tuple[str, int, int, str]]:
    """Run real flake8 in-process (its Application, one job) and parse its report."""
    old = os.getcwd()
    os.chdir(cwd)
    output = cwd / ".flake8-output"
    try:
        app = Application()
        app.run(
            ["--select=CLY", "--jobs=1", f"--output-file={output}", "--format=%(path)s|%(row)d|%(col)d|%(code)s", *paths]
        )
    finally:
        os.chdir(old)
    rows = []
    for line in output.read_text().splitlines():
        path, row, col, code = line.split("|")
        rows.append((os.path.normpath(path), int(row), int(col), code))
    return sorted(rows)


@pytest.mark.parametrize(("rule", "kind", "example"), CASES)
def test_example_through_flake8(rule: type[Rule], kind: str, example: Example, tmp_path: Path) -> None:
    """flake8 reports exactly what the engine reports for every example (all codes)."""
    path = write_example(example, tmp_path)
    rel = os.path.relpath(path, tmp_path)
    # CLY901 is computed by the CLI after linting; flake8 has no notion of unused noqa
    ours = sorted((rel, f.line, f.column, f.code) for f in lint_example(example, tmp_path) if f.code != "CLY901")
    # the engine result honours noqa, and so does flake8
    assert _flake8([rel], tmp_path) == ours
