"""Fixes: what each one writes, and the guarantees every fix keeps."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from celery_lint.config.settings import Settings
from celery_lint.engine.core import Engine
from celery_lint.rules import ALL_RULES, Rule

from tests.conftest import FIXTURES, as_example, lint_example, write_example


def fix(source: str, *, select: str | None = None, path: str = "tasks.py", unsafe: bool = False, **settings: object) -> str:
    chosen = Settings(select=tuple(select.split(",")), **settings) if select else Settings(**settings)  # type: ignore[arg-type]
    return Engine(chosen).fix_text(textwrap.dedent(source).lstrip("\n"), path, unsafe=unsafe).text


# (code, before, after, unsafe, path)
CASES = [
    (
        "CLY101",
        """
        from celery import shared_task

        @shared_task  # keep
        def ping():
            return 1

        @shared_task(
            bind=True,
            acks_late=True,
        )
        def pong(self):
            return 1
        """,
        """
        from celery import shared_task

        @shared_task(name="tasks.ping")  # keep
        def ping():
            return 1

        @shared_task(
            bind=True,
            acks_late=True,
            name="tasks.pong",
        )
        def pong(self):
            return 1
        """,
        False,
    ),
    (
        "CLY106",
        """
        from celery import shared_task

        @shared_task(name="p.fetch")
        def fetch(self, url):
            raise self.retry(countdown=1)
        """,
        """
        from celery import shared_task

        @shared_task(name="p.fetch", bind=True)
        def fetch(self, url):
            raise self.retry(countdown=1)
        """,
        False,
    ),
    (
        "CLY202",
        """
        from celery import shared_task

        @shared_task(name="p.a", acks_on_failure_or_timeout=False)
        def a():
            return 1
        """,
        """
        from celery import shared_task

        @shared_task(name="p.a", acks_on_failure=False, acks_on_timeout=False)
        def a():
            return 1
        """,
        False,
    ),
    (
        "CLY203",
        """
        from celery import shared_task

        @shared_task(name="p.a", rate_limit='10/min')
        def a():
            return 1
        """,
        """
        from celery import shared_task

        @shared_task(name="p.a", rate_limit='10/m')
        def a():
            return 1
        """,
        False,
    ),
    (
        "CLY301,CLY302",
        """
        from celery import shared_task

        @shared_task(name="p.a", bind=True)
        def a(self):
            try:
                return 1
            except OSError as err:
                self.retry(countdown=5)  # why
        """,
        """
        from celery import shared_task

        @shared_task(name="p.a", bind=True)
        def a(self):
            try:
                return 1
            except OSError as err:
                raise self.retry(countdown=5, exc=err)  # why
        """,
        False,
    ),
    (
        "CLY406",
        """
        from proj.tasks import remind

        remind.apply_async(args=(user_id), queue="q")
        """,
        """
        from proj.tasks import remind

        remind.apply_async(args=(user_id,), queue="q")
        """,
        False,
    ),
    (
        "CLY601",
        """
        from celery import shared_task
        from django.db import transaction

        @shared_task(name="p.a", ignore_result=True)
        def a(pk):
            print(pk)

        def view(pk):
            with transaction.atomic():
                a.delay(pk)
        """,
        """
        from celery import shared_task
        from django.db import transaction

        @shared_task(name="p.a", ignore_result=True)
        def a(pk):
            print(pk)

        def view(pk):
            with transaction.atomic():
                a.delay_on_commit(pk)
        """,
        False,
    ),
    (
        "CLY704",
        """
        CELERY_BEAT_SCHEDULE = {
            "a": {"task": "t.a", "schedule": 60, "queue": "low"},
        }
        """,
        """
        CELERY_BEAT_SCHEDULE = {
            "a": {"task": "t.a", "schedule": 60, "options": {"queue": "low"}},
        }
        """,
        False,
    ),
    (
        "CLY208",
        """
        from celery import shared_task

        @shared_task(name="p.r", ignore_result=True)
        def remind(pk):
            print(pk)

        remind.delay(1, countdown=60)
        """,
        """
        from celery import shared_task

        @shared_task(name="p.r", ignore_result=True)
        def remind(pk):
            print(pk)

        remind.apply_async(args=(1,), countdown=60)
        """,
        False,
    ),
    (
        "CLY105",
        """
        from celery import shared_task

        # comment above
        @log_calls
        @shared_task(name="p.a")
        def a():
            return 1
        """,
        """
        from celery import shared_task

        # comment above
        @shared_task(name="p.a")
        @log_calls
        def a():
            return 1
        """,
        True,
    ),
    (
        "CLY201,CLY207",
        """
        from celery import shared_task

        @shared_task(name="p.a", ignore_results=True)
        def a(x):
            print(x)

        a.apply_async(args=(1,), countdwon=5)
        """,
        """
        from celery import shared_task

        @shared_task(name="p.a", ignore_result=True)
        def a(x):
            print(x)

        a.apply_async(args=(1,), countdown=5)
        """,
        True,
    ),
    (
        "CLY402,CLY502",
        """
        from celery import shared_task

        @shared_task(name="p.a")
        def a(x):
            print(x)

        def view():
            a.apply_async(args=(1,))
        """,
        """
        from celery import shared_task

        @shared_task(name="p.a", ignore_result=True)
        def a(x):
            print(x)

        def view():
            a.apply_async(args=(1,), ignore_result=True)
        """,
        True,
    ),
    (
        "CLY404",
        """
        from datetime import datetime, timedelta
        from proj.tasks import remind

        remind.apply_async(args=(1,), eta=datetime.utcnow() + timedelta(hours=1))
        """,
        """
        from datetime import datetime, timedelta
        from proj.tasks import remind
        from datetime import timezone

        remind.apply_async(args=(1,), eta=datetime.now(timezone.utc) + timedelta(hours=1))
        """,
        True,
    ),
    (
        "CLY703",
        """
        from celery.schedules import crontab

        DAILY = crontab(hour=7)
        """,
        """
        from celery.schedules import crontab

        DAILY = crontab(hour=7, minute=0)
        """,
        True,
    ),
]


@pytest.mark.parametrize(("codes", "before", "after", "unsafe"), CASES, ids=[c[0] for c in CASES])
def test_fix_writes(codes: str, before: str, after: str, unsafe: bool) -> None:
    path = "proj/settings.py" if codes == "CLY704" else "tasks.py"
    expected = textwrap.dedent(after).lstrip("\n")
    assert fix(before, select=codes, path=path, unsafe=unsafe) == expected
    if unsafe:  # unsafe fixes need --unsafe-fixes
        assert fix(before, select=codes, path=path) == textwrap.dedent(before).lstrip("\n")


FIXABLE = [rule for rule in ALL_RULES if rule.fix is not None and rule.code != "CLY901"]


@pytest.mark.parametrize("rule", FIXABLE, ids=lambda r: r.code)
def test_every_fixable_rule_offers_its_fix(rule: type[Rule], tmp_path: Path) -> None:
    """Some INVALID example gets a fix of the catalogue's applicability (safe* may be unsafe)."""
    offered = set()
    for number, sample in enumerate(rule.INVALID):
        findings = lint_example(as_example(sample), tmp_path / str(number))
        offered |= {f.fix["applicability"] for f in findings if f.fix and f.code == rule.code}
    assert rule.fix in offered, (rule.code, offered)


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.INVALID], ids=lambda r: r.code)
def test_fixed_examples_parse_and_fixing_twice_changes_nothing(rule: type[Rule], tmp_path: Path) -> None:
    for sample in rule.INVALID + rule.VALID:
        example = as_example(sample)
        path = write_example(example, tmp_path)
        from celery_lint.config.settings import load_settings

        engine = Engine(load_settings(tmp_path).replace(extend_select=("CLY",)))
        once = engine.fix_text(example.source, str(path), unsafe=True)
        ast.parse(once.text)
        twice = engine.fix_text(once.text, str(path), unsafe=True)
        assert twice.text == once.text, (rule.code, once.text)
        assert not twice.applied


def test_noqa_keeps_its_finding_unfixed() -> None:
    source = "from celery import shared_task\n\n@shared_task  # noqa: CLY101\ndef ping():\n    return 1\n"
    assert fix(source, select="CLY101") == source


def test_overlapping_fixes_apply_in_rounds() -> None:
    """CLY105 rewrites the whole function; CLY101 and CLY502 edit its decorator: all land."""
    source = """
    from celery import shared_task

    @log_calls
    @shared_task
    def a():
        print(1)
    """
    assert fix(source, select="CLY101,CLY105,CLY502", unsafe=True) == (
        "from celery import shared_task\n\n"
        '@shared_task(name="tasks.a", ignore_result=True)\n@log_calls\ndef a():\n    print(1)\n'
    )


def test_only_edited_lines_change(tmp_path: Path) -> None:
    """Comments, blank lines and odd formatting outside the fixed nodes are byte-for-byte kept."""
    source = (
        "# -*- coding: utf-8 -*-\n"
        '"""Docstring."""\n'
        "from celery import shared_task   # trailing comment\n\n\n"
        "x = [1,2 ,  3]  # odd spacing\n"
        "@shared_task\n"
        "def ping( a ,b ):  # args\n"
        "    return a+b\n"
    )
    fixed = fix(source, select="CLY101")
    changed = [(old, new) for old, new in zip(source.splitlines(), fixed.splitlines()) if old != new]
    assert changed == [("@shared_task", '@shared_task(name="tasks.ping")')]


@pytest.mark.parametrize(
    ("data", "marker"),
    [
        (b"\xef\xbb\xbffrom celery import shared_task\r\n\r\n@shared_task\r\ndef ping():\r\n    return 1\r\n", b"\r\n"),
        ("# -*- coding: latin-1 -*-\nfrom celery import shared_task\n\n@shared_task\ndef ping():\n    return 'é'\n".encode("latin-1"), "é".encode("latin-1")),
    ],
    ids=["bom-crlf", "latin-1"],
)
def test_fix_keeps_encoding_bom_and_newlines(tmp_path: Path, data: bytes, marker: bytes) -> None:
    target = tmp_path / "tasks.py"
    target.write_bytes(data)
    proc = subprocess.run([sys.executable, "-m", "celery_lint", "--no-cache", "--fix", "tasks.py"], cwd=tmp_path, capture_output=True)
    assert proc.returncode == 0, proc.stdout
    fixed = target.read_bytes()
    assert b'@shared_task(name="tasks.ping")' in fixed
    assert fixed.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
    assert marker in fixed
    assert fixed.count(b"\r\n") == (data.count(b"\r\n"))


# -- the CLI ---------------------------------------------------------------------

TASK = "from celery import shared_task\n\n@shared_task\ndef ping():\n    return 1\n\n@shared_task(name='tasks.log', ignore_results=True)\ndef log(x):\n    return x\n"


def cli(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "celery_lint", "--no-cache", *args], cwd=cwd, input=stdin, capture_output=True, text=True)


def test_diff_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK)
    proc = cli(tmp_path, "--diff", "tasks.py")
    assert proc.returncode == 1
    assert proc.stdout.startswith("--- a/tasks.py\n+++ b/tasks.py\n")
    assert '+@shared_task(name="tasks.ping")' in proc.stdout
    assert "ignore_result=True" not in proc.stdout  # CLY201's rename is unsafe
    assert proc.stderr == "Would fix 1 finding in 1 file.\n"
    assert (tmp_path / "tasks.py").read_text() == TASK
    assert cli(tmp_path, "--fix", "--diff", "tasks.py").stdout == proc.stdout  # as in ruff: --diff wins
    assert (tmp_path / "tasks.py").read_text() == TASK
    unsafe = cli(tmp_path, "--diff", "--unsafe-fixes", "tasks.py")
    assert "ignore_result=True" in unsafe.stdout
    clean = tmp_path / "clean.py"
    clean.write_text("def f():\n    return 1\n")
    assert (cli(tmp_path, "--diff", "clean.py").returncode, cli(tmp_path, "--diff", "clean.py").stdout) == (0, "")


def test_fix_writes_and_reports_what_is_left(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK)
    proc = cli(tmp_path, "--fix", "--show-fixes", "tasks.py")
    assert proc.returncode == 1  # the unsafe CLY201 finding is left
    assert proc.stdout == (
        "tasks.py:7:32: CLY201 task `log`: `ignore_results` is not a Celery task option; did you mean `ignore_result`?\n"
        "Found 1 finding in 1 file (1 file checked). Fixed 1 finding.\n"
        "(1 hidden fix can be enabled with the `--unsafe-fixes` option.)\n"
        "Why each matters and how to fix it: `celery-lint --explain CLY201` (any code).\n"
    )
    assert proc.stderr == "Fixed 1 finding:\n- tasks.py:\n    1 \u00d7 CLY101 (task-without-name)\n"
    assert '@shared_task(name="tasks.ping")' in (tmp_path / "tasks.py").read_text()
    proc = cli(tmp_path, "--fix", "--unsafe-fixes", "tasks.py")
    assert proc.returncode == 0
    assert proc.stdout == "All checks passed (1 file checked). Fixed 1 finding.\n"


def test_fix_from_stdin_prints_the_fixed_source(tmp_path: Path) -> None:
    proc = cli(tmp_path, "--fix", "-", "--stdin-filename", "tasks.py", stdin=TASK)
    assert proc.stdout == TASK.replace("@shared_task\n", '@shared_task(name="tasks.ping")\n')
    assert "CLY201" in proc.stderr and proc.returncode == 1
    diff = cli(tmp_path, "--diff", "-", "--stdin-filename", "tasks.py", stdin=TASK)
    assert diff.returncode == 1 and '+@shared_task(name="tasks.ping")' in diff.stdout


def test_json_describes_fixes(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK)
    findings = json.loads(cli(tmp_path, "--output-format", "json", "tasks.py").stdout)
    assert {f["code"]: f["fix"] for f in findings} == {
        "CLY101": {"applicability": "safe", "message": 'Pin `name="tasks.ping"`'},
        "CLY201": {"applicability": "unsafe", "message": "Rename to `ignore_result`"},
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--show-fixes"], "use it with --fix"),
        (["--fix", "--add-noqa"], "cannot be combined"),
    ],
)
def test_fix_flag_misuse_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "tasks.py").write_text(TASK)
    proc = cli(tmp_path, *args, "tasks.py")
    assert proc.returncode == 2 and message in proc.stderr


def test_cly901_fix_removes_only_the_stale_codes(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\nresult-backend = "configured"\n')  # CLY502 applies
    (tmp_path / "tasks.py").write_text(
        "from celery import shared_task\n\n@shared_task  # noqa: CLY101, CLY502  # ok\ndef ping():\n    print(1)\n"
    )
    proc = cli(tmp_path, "--fix", "--extend-select", "CLY901", "tasks.py")
    assert proc.returncode == 0, proc.stdout
    assert "@shared_task  # noqa: CLY101, CLY502  # ok" in (tmp_path / "tasks.py").read_text()
    (tmp_path / "tasks.py").write_text("from celery import shared_task\n\n@shared_task(name='t.p')  # noqa: CLY101  # ok\ndef ping():\n    return 1\n")
    proc = cli(tmp_path, "--fix", "--extend-select", "CLY901", "--ignore", "CLY102", "tasks.py")
    assert proc.returncode == 0, proc.stdout
    assert "@shared_task(name='t.p')  # ok\n" in (tmp_path / "tasks.py").read_text()


# -- a safe fix never changes what Celery registers ---------------------------------

pytest.importorskip("celery")

REGISTERED = """
import json, sys
sys.path.insert(0, sys.argv[1])
import importlib
for name in sys.argv[2:]:
    importlib.import_module(name)
from proj.celery import app
from proj.workerconf import app as workers
for a in (app, workers):
    a.finalize(auto=True)
print(json.dumps({n: t.__module__ + "." + t.__name__ for a in (app, workers) for n, t in a.tasks.items() if not n.startswith("celery.")}))
"""
MODULES = ["proj.celery", "proj.cly101", "proj.orders.tasks", "proj.workerconf", "proj.cross_module", "proj.delays", "proj.periodic", "proj.jobs.nightly"]


def _registered(root: Path) -> dict[str, str]:
    proc = subprocess.run([sys.executable, "-c", REGISTERED, str(root), *MODULES], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def test_safe_fixes_keep_what_celery_registers(tmp_path: Path) -> None:
    tree = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, tree)
    before = _registered(tree)
    proc = cli(tree, "--fix", "--extend-select", "CLY705,CLY304", ".")
    assert "Fixed" in proc.stdout, proc.stdout + proc.stderr
    assert _registered(tree) == before
    left = cli(tree, "--select", "CLY101", ".")
    assert left.returncode == 0, left.stdout  # every unnamed task now has its name pinned
    for path in tree.rglob("*.py"):
        ast.parse(path.read_text())
    again = cli(tree, "--diff", ".")
    assert again.returncode == 0 and again.stdout == "", again.stdout


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.fix is None and r.INVALID], ids=lambda r: r.code)
def test_rules_without_a_fix_offer_none(rule: type[Rule]) -> None:
    for sample in rule.INVALID:
        example = as_example(sample)
        settings = Settings(select=(rule.code,))
        findings = Engine(settings).lint_text(example.source, example.path).findings
        assert all(f.fix is None for f in findings), rule.code
