"""Documentation is generated from the code and must be complete and fresh."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from celery_lint.doors import readme as docs
from celery_lint.config.settings import CONFIG_DOCS, CONFIG_KEYS
from celery_lint.rules import ALL_RULES, Rule
from celery_lint.rules.base import DOC_SECTIONS

from tests.conftest import REPO


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_docstring_has_every_section(rule: type[Rule]) -> None:
    doc = rule.__doc__ or ""
    assert doc.strip().splitlines()[0].strip(), "first line is the summary"
    for section in DOC_SECTIONS:
        assert f"## {section}\n" in doc, f"{rule.code} lacks `## {section}`"
    if rule.fix is not None:
        assert "## Fix safety\n" in doc, f"{rule.code} has a fix but no `## Fix safety`"
    assert "docs.celeryq.dev" in doc or rule.code == "CLY000", "cite Celery's documentation"


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.code != "CLY000"], ids=lambda r: r.code)
def test_rule_has_examples(rule: type[Rule]) -> None:
    assert rule.VALID and rule.INVALID


def test_readme_and_rule_reference_are_fresh() -> None:
    assert docs.main(["--check"]) == 0, "run: python -m celery_lint.doors.readme"


def test_config_reference_covers_every_key() -> None:
    assert tuple(CONFIG_DOCS) == CONFIG_KEYS


def test_readme_example_output_is_real(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    code = re.search(r"```python\n(# shop/tasks.py\n.*?)```", readme, re.DOTALL).group(1)
    console = re.search(r"```console\n\$ celery-lint shop/tasks.py\n(.*?)```", readme, re.DOTALL).group(1)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").touch()
    (tmp_path / "shop" / "tasks.py").write_text(code)
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "celery_lint", "shop/tasks.py"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout == console


def test_readme_commands_match_ci() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    test_command = 'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest'
    assert test_command in readme
    assert ".venv/bin/pip install -e \".[test]\"" in ci and ".venv/bin/python -m pytest" in ci


def test_readme_names_every_flake8_option() -> None:
    from celery_lint.doors.flake8_plugin import _OPTIONS

    readme = (REPO / "README.md").read_text()
    missing = [flag for flag in _OPTIONS if f"`{flag}`" not in readme]
    assert not missing, missing
    config_keys = {key for key, _, _ in _OPTIONS.values()}
    assert config_keys <= set(CONFIG_KEYS)


def test_readme_install_routes_name_a_release_that_exists() -> None:
    """The README's pre-commit `rev` and git URLs name the tag of this version, which this
    checkout has (when it has tags at all: a clone of a branch may come without them), and
    no command installs from PyPI, where celery-lint is not yet."""
    import shutil
    import subprocess

    from celery_lint import __version__

    readme = (REPO / "README.md").read_text()
    tag = f"v{__version__}"
    named = set(re.findall(r"rev: (\S+)", readme)) | set(re.findall(r"celery-lint/celery-lint@(\S+?)\"", readme))
    assert named == {tag}
    assert not re.search(r"^\s*(?:- run: )?pip install celery-lint\b", readme, re.MULTILINE)
    if shutil.which("git") and (REPO / ".git").exists():
        tags = subprocess.run(["git", "tag", "--list"], cwd=REPO, capture_output=True, text=True).stdout.split()
        if tags:
            assert tag in tags
