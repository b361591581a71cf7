"""Engine guarantees: positions, prefilter, one traversal, CLY000, noqa, module names."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from celery_lint.engine import core as engine_module
from celery_lint.engine import walk as walk_module
from celery_lint.config.settings import Settings
from celery_lint.model.context import literal_value, module_name_for, resolve_relative, UNKNOWN
from celery_lint.engine.core import Engine
from celery_lint.engine.positions import positions_of
from celery_lint.run.noqa import noqa_codes
from celery_lint.model.needles import TextPattern
from celery_lint.rules import ALL_RULES

from tests.conftest import FIXTURES, as_example


@pytest.mark.parametrize("path", sorted(p for p in FIXTURES.rglob("*.py") if p.stat().st_size), ids=lambda p: p.name)
def test_positions_match_libcst_position_provider(path: Path) -> None:
    module = cst.parse_module(path.read_text())
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    wanted = list(expected)
    assert wanted
    ours = positions_of(module, wanted)
    assert {n: ours[n] for n in wanted} == {n: expected[n] for n in wanted}


def test_positions_of_compound_statements_match_libcst() -> None:
    source = (
        "from a import (b,\n    c)\nfrom d import *\nimport e.f as g\n"
        "try:\n    pass\nexcept ValueError:\n    pass\nelse:\n    pass\nfinally:\n    pass\n"
        "if x:\n    pass\nelif y:\n    pass\nelse:\n    pass\n"
        "for i in z:\n    pass\nelse:\n    pass\nwhile w:\n    pass\nwith m as n, o:\n    pass\n"
        "class K(B):\n    @dec\n    def f(self): return 1\n"
    )
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for node in expected:
        assert positions_of(module, [node])[node] == expected[node], node


def test_prefilter_skips_files_without_celery_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed a file the prefilter should skip")

    monkeypatch.setattr(engine_module.cst, "parse_module", boom)
    result = Engine(Settings()).lint_text("def task():\n    return dict(delay=1)\n", "app/views.py")
    assert result.findings == [] and not result.parsed


def test_every_rule_needle_is_in_the_prefilter() -> None:
    """The CLI's fast path answers "clean" for files holding none of ALL_NEEDLES."""
    from celery_lint.model.needles import ALL_NEEDLES

    for rule in ALL_RULES:
        for needle in rule.needles:
            assert any(known in needle for known in ALL_NEEDLES), (rule.code, needle)


def test_prefilter_selects_rules_by_needle_and_path() -> None:
    engine = Engine(Settings())
    assert {r.code for r in engine.active_rules("from proj.tasks import x\n", "proj/views.py")} == set()
    assert "CLY107" in {r.code for r in engine.active_rules("from proj.tasks import x\n", "proj/models.py")}
    dispatch_only = {r.code for r in engine.active_rules("x.apply_async()\n", "proj/views.py")}
    assert dispatch_only == {"CLY207", "CLY208", "CLY401", "CLY402", "CLY406", "CLY407", "CLY503", "CLY601", "CLY602"}


def _active_rules_reference(engine: Engine, text: str, path: str) -> tuple[str, ...]:
    """The prefilter as first written: every rule checked against the present needles."""
    from celery_lint.config.settings import relative_posix
    from celery_lint.model.needles import WORD_START_NEEDLES

    present = {n for n in engine._needles if n in text}
    present = {n for n in present if n not in WORD_START_NEEDLES or WORD_START_NEEDLES[n].search(text)}
    if not present:
        return ()
    posix = relative_posix(path, engine.settings.project_root)
    ignored = engine.ignored_for(path)  # per-file ignores and the test-code policy
    return tuple(
        rule.code
        for rule in engine.file_rules
        if not any(rule.code.startswith(c) for c in ignored)
        and rule.applies_to_path(posix)
        and any(n in present for n in engine._rule_needles[rule])
        and (rule.text_pattern is None or rule.text_pattern.matches(text))
    )


@pytest.mark.parametrize(
    "settings",
    [
        Settings(),
        Settings(extend_select=("CLY",)),
        Settings(per_file_ignores=(("*.py", ("CLY4",)), ("models.py", ("CLY107", "CLY2")))),
    ],
    ids=["default", "all rules", "per-file ignores"],
)
def test_prefilter_from_needles_to_rules_matches_checking_every_rule(settings: Settings) -> None:
    """The needle -> rules table picks the rules, in rule order, that checking each rule did."""
    engine = Engine(settings)
    texts = [as_example(sample).code for rule in ALL_RULES for sample in (*rule.VALID, *rule.INVALID)]
    texts += [p.read_text() for p in sorted(FIXTURES.rglob("*.py"))]
    nonempty = 0
    for text in texts:
        for path in ("proj/tasks.py", "proj/models.py", "proj/tests/test_tasks.py", "proj/settings.py"):
            expected = _active_rules_reference(engine, text, path)
            assert tuple(r.code for r in engine.active_rules(text, path)) == expected, (path, text)
            nonempty += bool(expected)
    assert nonempty > len(texts)  # not vacuous


@pytest.mark.parametrize(
    "source",
    [
        "cache.set('k', 1)\nredis_client.set('a', 2)\n",
        "import threading\nmutex = threading.Lock()\nwith lock():\n    pass\n",
        "x = dict(beta=1, meta=2, zeta=3)\n",
        "class Ticket(models.Model):\n    priority = models.IntegerField()\n",
        "response.set_cookie('a', 'b')\n",
        # Django and crypto code that shares words with Celery's API
        "rule = AutomationRule(priority=0, action='x')\n",
        "def get_signature(payload):\n    return hmac(payload)\nsig = get_signature(b'x')\n",
    ],
)
def test_everyday_code_activates_no_rule(source: str) -> None:
    """A needle that matches everyday Python makes every run parse needlessly (saleor: 95 -> 304 files)."""
    assert Engine(Settings(extend_select=("CLY",))).active_rules(source, "app/views.py") == ()


def _all_pattern_texts() -> list[str]:
    texts = [as_example(sample).code for rule in ALL_RULES for sample in (*rule.VALID, *rule.INVALID)]
    return texts + [path.read_text() for path in sorted(FIXTURES.rglob("*.py"))]


def _text_patterns() -> dict[str, TextPattern]:
    patterns = {rule.text_pattern.pattern: rule.text_pattern for rule in ALL_RULES if rule.text_pattern is not None}
    return dict(sorted(patterns.items()))


@pytest.mark.parametrize("pattern", list(_text_patterns().values()), ids=list(_text_patterns()))
def test_text_pattern_literals_occur_in_every_match(pattern: TextPattern) -> None:
    """The literal check before a regex must never turn away a file the regex would match."""
    texts = _all_pattern_texts()
    for regex, literals in pattern.clauses:
        matched = 0
        for text in texts:
            for match in regex.finditer(text):
                matched += 1
                assert any(literal in match.group(0) for literal in literals), (regex.pattern, match.group(0))
        assert matched, f"no example exercises {regex.pattern!r}"


def test_text_pattern_needs_every_clause() -> None:
    both = TextPattern((r"\bargs=", ("args=",)), (r"apply_async\(", ("apply_async(",)))
    assert both.matches("x.apply_async(args=[1])")
    assert not both.matches("x.apply_async(kwargs={})") and not both.matches("f(args=[1])")
    assert not both.matches("x.apply_async(targs=[1])")  # literal present, regex not
    with pytest.raises(ValueError):
        TextPattern((r"x", ()))


@pytest.mark.parametrize(
    ("source", "active"),
    [
        ("from celery import signature\nsignature('t', priority=11)\n", True),
        ("sig = app.signature('t', priority=11)\n", True),
        ("sig = get_signature(body, priority=11)\n", False),  # readthedocs.org's webhook tests
        ("sig = self._signature(body, priority=11)\n", False),
    ],
)
def test_signature_needle_counts_only_at_a_word_start(source: str, active: bool) -> None:
    assert ("CLY204" in {r.code for r in Engine(Settings()).active_rules(source, "app/views.py")}) is active


def test_one_traversal_per_file(monkeypatch: pytest.MonkeyPatch) -> None:
    modules = []
    statements: list[int] = []
    original_module, original_run = walk_module.Walk.run_module, walk_module.Walk.run

    def counting_module(self: walk_module.Walk, module: cst.Module) -> None:
        modules.append(module)
        original_module(self, module)

    def counting(self: walk_module.Walk, node: cst.CSTNode) -> None:
        if isinstance(node, cst.BaseStatement) and self.top >= 0 and modules and node in modules[-1].body:
            statements.append(id(node))
        original_run(self, node)

    monkeypatch.setattr(walk_module.Walk, "run_module", counting_module)
    monkeypatch.setattr(walk_module.Walk, "run", counting)
    Engine(Settings()).lint_path(str(FIXTURES / "proj" / "cly306.py"))
    assert len(modules) == 1
    assert len(statements) == len(set(statements)) == len(modules[0].body)  # each statement once


def test_disabled_rules_do_not_run() -> None:
    settings = Settings(select=("CLY101",))
    engine = Engine(settings)
    assert [r.code for r in engine.file_rules] == ["CLY101"]
    findings = engine.lint_path(str(FIXTURES / "proj" / "cly201.py")).findings
    assert findings == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"from celery import shared_task\n@shared_task\ndef broken(:\n    pass\n", "syntax error at line 3: invalid syntax"),
        (b"import celery\nx = 1\x00\n", "NUL byte"),
        (b"import celery\nx = '\xff\xfe'\n", "cannot decode the file as utf-8"),
        (b"# -*- coding: klingon -*-\nimport celery\n", "encoding"),
    ],
)
def test_unparsable_input_is_cly000(data: bytes, reason: str) -> None:
    result = Engine(Settings()).lint_bytes(data, "bad.py")
    assert [f.code for f in result.findings] == ["CLY000"]
    assert reason in result.findings[0].message


def test_syntax_error_reports_the_parser_line() -> None:
    result = Engine(Settings()).lint_bytes(b"from celery import shared_task\n\n@shared_task\ndef broken(:\n    pass\n", "bad.py")
    assert result.findings[0].line == 4


def test_files_that_cannot_hold_celery_code_are_not_parsed_even_if_broken() -> None:
    result = Engine(Settings()).lint_bytes(b"def broken(:\n    pass\n", "bad.py")
    assert result.findings == [] and not result.parsed


def test_deep_nesting_is_cly000_not_a_traceback() -> None:
    source = "import celery\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    result = Engine(Settings()).lint_text(source, "deep.py")
    assert [f.code for f in result.findings] in ([], ["CLY000"])


def test_bom_crlf_and_latin1_cookie_are_not_errors() -> None:
    source = "from celery import shared_task\r\n\r\n@shared_task\r\ndef f():\r\n    return 'é'\r\n"
    for data in (
        b"\xef\xbb\xbf" + source.encode(),
        ("# -*- coding: latin-1 -*-\r\n" + source).encode("latin-1"),
    ):
        result = Engine(Settings()).lint_bytes(data, "t.py")
        assert [f.code for f in result.findings] == ["CLY101"], result.findings


def test_unreadable_and_missing_paths(tmp_path: Path) -> None:
    from celery_lint.run.files import lint_file

    engine = Engine(Settings())
    missing = lint_file(engine, str(tmp_path / "nope.py")).findings
    assert [f.code for f in missing] == ["CLY000"] and "no such file" in missing[0].message
    directory = tmp_path / "pkg.py"
    directory.mkdir()
    assert "is a directory" in lint_file(engine, str(directory)).findings[0].message


def test_noqa_parsing() -> None:
    assert noqa_codes("x  # noqa") == frozenset()
    assert noqa_codes("x  # noqa: CLY101,CLY502") == {"CLY101", "CLY502"}
    assert noqa_codes("x  # NOQA:CLY101 CLY502") == {"CLY101", "CLY502"}
    assert noqa_codes("x  # not a noqa") is None


def test_noqa_suppresses_only_named_codes(lint) -> None:
    code = """
from celery import shared_task

@shared_task  # noqa: CLY502
def a():
    pass

@shared_task  # noqa
def b():
    pass

@shared_task  # noqa: CLY1
def c():
    pass
"""
    found = sorted((f.line, f.code) for f in lint(code, result_backend="configured"))
    assert found == [(3, "CLY101"), (11, "CLY502")]


def test_module_names(tmp_path: Path) -> None:
    pkg = tmp_path / "shop" / "orders"
    pkg.mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").touch()
    (pkg / "__init__.py").touch()
    (pkg / "tasks.py").touch()
    assert module_name_for(pkg / "tasks.py") == "shop.orders.tasks"
    assert module_name_for(pkg / "__init__.py") == "shop.orders"
    assert module_name_for(tmp_path / "script.py") == "script"
    assert module_name_for(pkg / "tasks.py", (tmp_path / "shop",)) == "orders.tasks"
    assert module_name_for(tmp_path / "not-a-module.py") is None
    portion = tmp_path / "shop" / "jobs"  # no __init__.py, inside the package `shop`
    portion.mkdir()
    (portion / "nightly.py").touch()
    assert module_name_for(portion / "nightly.py") == "shop.jobs.nightly"
    loose = tmp_path / "scripts" / "ops"  # not inside any package: the walk stops
    loose.mkdir(parents=True)
    (loose / "run.py").touch()
    assert module_name_for(loose / "run.py") == "run"


def test_relative_imports() -> None:
    assert resolve_relative("tasks", 1, "shop.orders.models", False) == "shop.orders.tasks"
    assert resolve_relative("", 1, "shop.orders", True) == "shop.orders"
    assert resolve_relative("celery", 2, "shop.orders.models", False) == "shop.celery"


def test_literal_values() -> None:
    def value(code: str) -> object:
        return literal_value(cst.parse_expression(code))

    assert value("2 * 24 * 3600") == 172800
    assert value("-5") == -5
    assert value("'a' 'b'") == "ab"
    assert value("(1, 'x', None)") == (1, "x", None)
    assert value("f'{x}'") is UNKNOWN
    assert value("settings.X") is UNKNOWN
    assert value("10 ** 1000") is UNKNOWN
    assert value("1 / 0") is UNKNOWN


@pytest.mark.parametrize("initially", [True, False])
def test_collector_is_paused_while_a_file_is_parsed_and_restored_after(monkeypatch, initially: bool) -> None:  # type: ignore[no-untyped-def]
    import gc

    states: list[bool] = []
    real_parse = engine_module.parse_module

    def parse(text: str) -> cst.Module:
        states.append(gc.isenabled())
        if "boom" in text:
            raise RuntimeError("boom")
        return real_parse(text)

    monkeypatch.setattr(engine_module, "parse_module", parse)
    engine = Engine(Settings())
    (gc.enable if initially else gc.disable)()
    try:
        ok = engine.lint_text("from celery import shared_task\n\n@shared_task\ndef ping():\n    return 1\n", "proj/tasks.py")
        assert gc.isenabled() is initially
        failed = engine.lint_text("from celery import shared_task\n\n@shared_task\ndef boom():\n    return 1\n", "proj/tasks.py")
        assert gc.isenabled() is initially  # restored after a parser failure too
        skipped = engine.lint_text("x = 1\n", "proj/other.py")  # no parse, collector untouched
    finally:
        gc.enable()
    assert states == [False, False]
    assert ok.parsed and not failed.parsed and not skipped.parsed
