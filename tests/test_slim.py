"""Slimming (celery_lint/engine/slim.py): what is blanked, what is kept, and that no finding changes."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from celery_lint.engine import core as engine_module
from celery_lint.config.settings import load_settings
from celery_lint.run.project import project_index
from celery_lint.engine.core import Engine
from celery_lint.rules import ALL_RULES
from celery_lint.engine.slim import slim_source

from tests.conftest import FIXTURES, as_example, write_example


def _slim(code: str) -> str:
    return slim_source(textwrap.dedent(code).lstrip("\n"))


def _kept(code: str) -> list[str]:
    """The non-blank lines left, stripped."""
    return [line.strip() for line in _slim(code).splitlines() if line.strip()]


def test_unrelated_definitions_are_blanked_and_every_line_keeps_its_number() -> None:
    code = textwrap.dedent(
        """
        import logging
        from proj.tasks import notify

        logger = logging.getLogger(__name__)

        def unrelated(x):
            return x * 2

        class Form:
            def clean(self):
                return self.cleaned_data

            def save(self):
                notify.delay(self.pk)
        """
    ).lstrip("\n")
    slim = slim_source(code)
    assert len(slim.splitlines()) == len(code.splitlines())
    for before, after in zip(code.splitlines(), slim.splitlines()):
        assert after in (before, ""), (before, after)
    assert "def unrelated" not in slim and "def clean" not in slim
    assert "notify.delay(self.pk)" in slim and "class Form:" in slim
    ast.parse(slim)


def test_a_task_module_path_does_not_keep_a_definition_but_a_task_decorator_does() -> None:
    code = textwrap.dedent(
        """
        from celery import Celery

        app = Celery("proj")

        def module_names():
            from proj import tasks
            return [proj.tasks.ping.name, tasks.__name__]

        def status(self):
            return self.task_id

        @app.task
        def ping():
            return 1
        """
    ).lstrip("\n")
    slim = slim_source(code)
    assert "def module_names" not in slim  # `.tasks` is a module path
    assert "def status" in slim and "@app.task" in slim  # `.task_id`, `.task` still keep


def test_a_helper_called_from_kept_code_is_kept_transitively() -> None:
    kept = _kept(
        """
        from celery import shared_task
        from django.core.mail import send_mail

        def _mail(to):
            send_mail("hi", "body", None, [to])

        def _notify(to):
            _mail(to)

        def orphan():
            return 1

        @shared_task(acks_late=True)
        def welcome(to):
            _notify(to)
        """
    )
    assert "def _notify(to):" in kept and "def _mail(to):" in kept
    assert "def orphan():" not in kept


def test_a_method_of_a_plain_class_is_kept_for_its_own_keep_words_only() -> None:
    kept = _kept(
        """
        from celery import shared_task

        class Order:
            def total(self):
                return self.pk

            def ship(self):
                from proj.tasks import ship
                ship.delay(self.pk)

        def helper(order):
            return order.pk

        @shared_task
        def refresh(pk):
            order = Order.objects.get(pk=pk)
            order.total()
            return helper(order)
        """
    )
    assert "def total(self):" not in kept  # `order.total()` in a task does not keep it
    assert "ship.delay(self.pk)" in kept and "def helper(order):" in kept


def test_decorator_aliases_and_renamed_celery_imports_keep_their_functions() -> None:
    kept = _kept(
        """
        from celery import shared_task as st
        from proj.celery import app

        retrying = app.task_cls
        robust = shared_task(acks_late=True)

        @robust
        def one():
            return 1

        @st
        def two():
            return 2

        @login_required
        def view(request):
            return 3
        """
    )
    assert "def one():" in kept and "def two():" in kept
    assert "def view(request):" not in kept


def test_a_task_class_is_kept_whole_but_its_name_alone_does_not_keep_a_class() -> None:
    kept = _kept(
        """
        from celery import Task

        class Mailer(Task):
            acks_late = True

            def run(self, to):
                return to

        class TestRetryTask:
            def test_nothing(self):
                assert True

            def test_dispatch(self):
                notify.delay(1)
        """
    )
    assert "def run(self, to):" in kept
    assert "def test_nothing(self):" not in kept and "notify.delay(1)" in kept


def test_a_class_left_without_statements_gets_pass() -> None:
    slim = _slim(
        """
        from proj.tasks import notify

        class RetryTaskTests(TestCase):  # the name has a keep word, no member has one
            @property
            def title(self):
                return "x"

            def test_clean(self):
                return 1
        """
    )
    assert "    pass" in slim and "def test_clean" not in slim and "def title" not in slim
    ast.parse(slim)


def test_form_feeds_and_crlf_do_not_shift_lines() -> None:
    code = "from proj.tasks import notify\r\n\x0c\r\ndef f():\r\n    return 1\r\n\r\ndef g():\r\n    notify.delay(1)\r\n"
    slim = slim_source(code)
    assert slim.split("\r\n")[6] == "    notify.delay(1)"  # (str.splitlines splits on \x0c too)
    assert "return 1" not in slim and slim.count("\r\n") == code.count("\r\n")


@pytest.mark.parametrize(
    "code",
    [
        "def f(:\n    pass\n",  # a syntax error: libcst reports it on the full text
        "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n\ndef f():\n    return 1\n",  # newer than this ast
        "",
    ],
)
def test_text_ast_cannot_read_is_returned_unchanged(code: str) -> None:
    assert slim_source(code) == code


def test_a_slimmed_text_libcst_rejects_falls_back_to_the_full_text(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "proj" / "tasks.py"
    path.parent.mkdir()
    path.write_text("from celery import shared_task\n\n@shared_task\ndef ping():\n    return 1\n")
    settings = load_settings(tmp_path)
    expected = Engine(settings, slim=False).lint_path(str(path)).findings
    monkeypatch.setattr(engine_module, "slim", lambda text, tree=None: ("def broken(:\n", None))
    got = Engine(settings).lint_path(str(path)).findings
    assert [f.code for f in got] == [f.code for f in expected] == ["CLY101"]


def _all_rules_settings(root: Path):
    settings = load_settings(root)
    return settings.replace(extend_select=tuple(r.code for r in ALL_RULES if not r.default_enabled))


def _keys(findings) -> list[tuple]:
    return [(f.code, f.line, f.column, f.end_line, f.end_column, f.message) for f in findings]


def test_fixtures_give_the_same_findings_slimmed_and_in_full() -> None:
    settings = _all_rules_settings(FIXTURES)
    index = project_index(settings, None)
    full, slim = Engine(settings, index=index, slim=False), Engine(settings, index=index)
    blanked = 0
    for path in sorted(FIXTURES.rglob("*.py")):
        text = path.read_text()
        blanked += slim_source(text) != text
        assert _keys(slim.lint_path(str(path)).findings) == _keys(full.lint_path(str(path)).findings), path
    assert blanked >= 2  # the comparison is not vacuous


EXAMPLES = [
    pytest.param(as_example(sample), id=f"{rule.code}-{kind}-{i}")
    for rule in ALL_RULES
    for kind, samples in (("valid", rule.VALID), ("invalid", rule.INVALID))
    for i, sample in enumerate(samples)
]


@pytest.mark.parametrize("example", EXAMPLES)
def test_rule_examples_give_the_same_findings_slimmed_and_in_full(example, tmp_path: Path) -> None:
    path = write_example(example, tmp_path)
    settings = _all_rules_settings(tmp_path)
    index = project_index(settings, None)
    full = Engine(settings, index=index, slim=False).lint_path(str(path)).findings
    assert _keys(Engine(settings, index=index).lint_path(str(path)).findings) == _keys(full)


def test_parse_without_validation_builds_the_same_tree_and_restores_validation() -> None:
    import libcst as cst

    from celery_lint.model.source import parse_module

    for path in sorted(FIXTURES.rglob("*.py")):
        text = path.read_text()
        module = parse_module(text)
        assert module.code == text and module.deep_equals(cst.parse_module(text)), path
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def broken(:\n")
    with pytest.raises(cst.CSTValidationError):  # validation is back after a parse, even a failed one
        cst.Name("not a name")


def test_positions_are_computed_per_statement_and_equal_the_whole_module_ones() -> None:
    from celery_lint.engine import positions as engine_module

    settings = _all_rules_settings(FIXTURES)
    index = project_index(settings, None)
    calls: list[bool] = []
    original = engine_module._positions_by_statement

    def spy(*args):
        ranges = original(*args)
        calls.append(ranges is not None)
        if ranges is not None:  # the same ranges the whole-module codegen gives
            assert ranges == engine_module._positions_in_module(args[0], args[1])
        return ranges

    engine_module._positions_by_statement = spy
    try:
        for path in sorted(FIXTURES.rglob("*.py")):
            Engine(settings, index=index).lint_path(str(path))
    finally:
        engine_module._positions_by_statement = original
    assert calls and all(calls), calls
