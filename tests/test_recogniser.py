"""One recogniser, two readers: the per-file context (libcst) and the project index
(``ast``) see the same tasks, names and options in every fixture and rule example
(``bench/agreement.py`` runs the same comparison on real trees)."""

from __future__ import annotations

import importlib.util
import os
import textwrap
from pathlib import Path

import pytest

from celery_lint.config import Settings, load_settings
from celery_lint.rules import ALL_RULES
from celery_lint.run.files import discover

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("agreement", REPO / "bench" / "agreement.py")
assert _spec is not None and _spec.loader is not None
agreement = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(agreement)


def test_readers_agree_on_every_fixture() -> None:
    settings = load_settings(REPO / "fixtures")
    files = list(discover([str(REPO / "fixtures")], settings))
    assert len(files) > 20
    tasks = sum(len((agreement.index_facts(path, settings) or {"tasks": []})["tasks"]) for path in files)
    assert tasks > 50  # the comparison had something to compare
    assert [d for path in files for d in agreement.disagreements(path, settings)] == []


def _examples() -> list[tuple[str, str, str]]:
    found = []
    for rule in ALL_RULES:
        for kind, samples in (("valid", rule.VALID), ("invalid", rule.INVALID)):
            for number, sample in enumerate(samples):
                code = sample if isinstance(sample, str) else sample.code
                path = "proj/tasks.py" if isinstance(sample, str) else sample.path
                found.append((f"{rule.code}-{kind}-{number}", path, code))
    return found


@pytest.mark.parametrize(("label", "path", "code"), _examples(), ids=[e[0] for e in _examples()])
def test_readers_agree_on_every_rule_example(tmp_path: Path, label: str, path: str, code: str) -> None:
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    for parent in target.parents:
        if parent == tmp_path:
            break
        (parent / "__init__.py").touch()
    target.write_text(textwrap.dedent(code))
    assert agreement.disagreements(str(target), Settings(project_root=tmp_path)) == []


def test_a_disagreement_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tasks.py").write_text("from celery import shared_task\n\n@shared_task\ndef ping():\n    pass\n")
    settings = Settings(project_root=tmp_path)
    assert agreement.disagreements(str(tmp_path / "tasks.py"), settings) == []
    monkeypatch.setattr(agreement, "index_facts", lambda path, settings: {"tasks": [], "settings": []})
    assert agreement.disagreements(str(tmp_path / "tasks.py"), settings) != []


def test_spread_options_from_a_module_level_dict() -> None:
    from celery_lint.doors.api import lint_source

    code = (
        "from celery import shared_task\n"
        "LIMITS = {'soft_time_limit': 60, 'time_limit': 120}\n"
        "NAMED = {'name': 'proj.ping'}\n"
        "@shared_task(**LIMITS)\ndef a():\n    pass\n"
        "@shared_task(**NAMED)\ndef b():\n    pass\n"
        "@shared_task(**make())\ndef c():\n    pass\n"
    )
    cly101 = sorted(f.line for f in lint_source(code, "proj/tasks.py") if f.code == "CLY101")
    assert cly101 == [4]  # a: the spread is visible and names nothing; b: named; c: opaque


_TREES = [Path(p) for p in os.environ.get("CELERY_LINT_TREES", "").split(os.pathsep) if p]


@pytest.mark.skipif(not _TREES, reason="set CELERY_LINT_TREES to checkouts of saleor, readthedocs.org, paperless-ngx, kitsune")
@pytest.mark.parametrize("tree", _TREES, ids=[t.name for t in _TREES])
def test_readers_agree_on_development_trees(tree: Path) -> None:
    """The four development trees (not in the repository: CI has none; run with
    ``CELERY_LINT_TREES=saleor:readthedocs.org:paperless-ngx:kitsune``)."""
    settings = load_settings(tree.resolve())
    files = discover([str(tree.resolve())], settings)
    assert [d for path in files for d in agreement.disagreements(path, settings)] == []
