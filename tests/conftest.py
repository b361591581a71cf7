from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from celery_lint.run.project import project_index
from celery_lint.config.settings import load_settings
from celery_lint.engine.core import Engine, Finding
from celery_lint.run.noqa import unused_noqa, visible
from celery_lint.rules import Example

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
ANNOTATION = re.compile(r"#\s*(CLY\d{3}(?:\s*,\s*CLY\d{3})*)\s*$")


def as_example(sample: Example | str) -> Example:
    return sample if isinstance(sample, Example) else Example(sample)


def toml_value(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"
    return str(value)


def write_example(example: Example, root: Path) -> Path:
    """Materialise an example as a real file in a real package tree under ``root``.

    Every directory of ``example.path`` becomes a package (so module names are computed
    as for a real project), and the options go into ``[tool.celery-lint]``.
    """
    root.mkdir(parents=True, exist_ok=True)
    lines = ["[tool.celery-lint]"] + [f'"{k}" = {toml_value(v)}' for k, v in example.options.items()]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")
    for other, source in example.files.items():
        _write_module(root, root / other, textwrap.dedent(source).lstrip("\n"))
    path = root / example.path
    _write_module(root, path, example.source)
    return path


def _write_module(root: Path, path: Path, source: str) -> None:
    directory = path.parent
    while directory != root:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "__init__.py").touch()
        directory = directory.parent
    path.write_text(source)


def lint_example(example: Example, root: Path) -> list[Finding]:
    """Lint as the CLI does: engine findings, noqa, and CLY901 when it is selected."""
    path = write_example(example, root)
    settings = load_settings(root)
    engine = Engine(settings, index=project_index(settings, None))
    result = engine.lint_path(str(path))
    findings = visible(result)
    enabled = [r.code for r in engine.rules]
    if "CLY901" in enabled:
        findings += unused_noqa(result, enabled)
    return sorted(findings, key=Finding.sort_key)


def annotated(path: Path) -> set[tuple[int, str]]:
    """(line, code) pairs a fixture's trailing `# CLYxxx` comments expect."""
    expected = set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = ANNOTATION.search(line)
        if match:
            expected.update((number, code.strip()) for code in match.group(1).split(","))
    return expected


@pytest.fixture
def lint(tmp_path: Path):
    def run(code: str, path: str = "proj/tasks.py", **options: object) -> list[Finding]:
        return lint_example(Example(code, path=path, options={k.replace("_", "-"): v for k, v in options.items()}), tmp_path)

    return run


def run_with_reader_gone(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m celery_lint ARGS`` with stdout a pipe whose reader has already left
    (as in ``celery-lint . | head`` once head is done); stderr is captured."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "celery_lint", *args],
            cwd=cwd,
            env=env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)


def begin_settled_run(*, caches: bool = True) -> None:
    """``stamp.begin_run`` as if the run began far in the future: every file a test wrote
    counts as settled, so the caches' stat shortcut itself is what runs."""
    from celery_lint.config import stamp

    stamp.begin_run(caches=caches)
    stamp._run_start_ns += 1000 * stamp.GRANULARITY_NS
