"""Files over the size limit are CLY000, never parsed, in the CLI, the index and flake8 (issue 17, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from celery_lint.model import source

BIG = "x = 1\n"


@pytest.fixture
def small_limit(monkeypatch):  # type: ignore[no-untyped-def]
    """A 2 KiB limit (the real one is 20 MiB): the same code paths, without writing 20 MB."""
    limit = 2048
    for module in ("celery_lint.model.needles", "celery_lint.engine.core", "celery_lint.model.source",
                   "celery_lint.model.extract", "celery_lint.model.summaries", "celery_lint.model.apps",
                   "celery_lint.doors.cli"):
        monkeypatch.setattr(f"{module}.MAX_FILE_BYTES", limit)
    parsed: list[int] = []
    real_ast, real_cst = source.quiet_ast_parse, source.parse_module

    def watch_ast(text):  # type: ignore[no-untyped-def]
        parsed.append(len(text))
        return real_ast(text)

    def watch_cst(text):  # type: ignore[no-untyped-def]
        parsed.append(len(text))
        return real_cst(text)

    for module in ("celery_lint.model.source", "celery_lint.model.extract", "celery_lint.model.callgraph",
                   "celery_lint.engine.core"):
        monkeypatch.setattr(f"{module}.quiet_ast_parse", watch_ast, raising=False)
    monkeypatch.setattr("celery_lint.engine.core.parse_module", watch_cst)
    return limit, parsed


def test_an_oversized_module_is_cly000_with_its_size_and_never_parsed(tmp_path: Path, monkeypatch, capsys, small_limit) -> None:  # type: ignore[no-untyped-def]
    from celery_lint.doors.cli import run_in_process

    limit, parsed = small_limit
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "__init__.py").touch()
    (shop / "generated.py").write_text("from celery import shared_task\nSOFT = 5\n" + BIG * 1000)
    (shop / "tasks.py").write_text(
        "from celery import shared_task\nfrom shop.generated import SOFT, helper\n\n"
        "@shared_task(name='shop.t', soft_time_limit=SOFT, time_limit=2, ignore_result=True)\n"
        "def t():\n    helper()\n    return 1\n"
    )
    monkeypatch.chdir(tmp_path)
    status = run_in_process(["--no-cache", "--jobs", "1", "--output-format", "json", "."])
    found = json.loads(capsys.readouterr().out)
    assert status == 1
    big = [f for f in found if f["filename"].endswith("generated.py")]
    assert [f["code"] for f in big] == ["CLY000"] and "over the" in big[0]["message"] and "MiB" in big[0]["message"]
    assert all(size <= limit for size in parsed), "an oversized text reached a parser"
    assert not [f for f in found if f["filename"].endswith("tasks.py") and f["code"] == "CLY205"]  # SOFT unread


def test_stdin_and_the_api_refuse_oversized_text(small_limit) -> None:  # type: ignore[no-untyped-def]
    from celery_lint.doors.api import lint_source

    limit, parsed = small_limit
    findings = lint_source("from celery import shared_task\n" + BIG * 1000, "shop/tasks.py")
    assert [f.code for f in findings] == ["CLY000"]
    assert all(size <= limit for size in parsed)
