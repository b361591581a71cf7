"""The project index: what it reads, how it merges, how it is cached, what it costs nothing to miss."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from celery_lint.run.project import project_index
from celery_lint.config.settings import Settings, load_settings
from celery_lint.model.context import FileContext
from celery_lint.engine.core import Engine
from celery_lint.run.files import discover
from celery_lint.model.index import build_index
from celery_lint.model.values import UNKNOWN_VALUE

from tests.conftest import FIXTURES


def make(root: Path, files: dict[str, str]) -> Settings:
    (root / "pyproject.toml").write_text("[tool.celery-lint]\n")
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        directory = path.parent
        while directory != root:
            (directory / "__init__.py").touch()
            directory = directory.parent
        path.write_text(textwrap.dedent(source).lstrip("\n"))
    return load_settings(root)


def test_index_names_equal_the_per_file_engine_on_the_fixtures() -> None:
    settings = load_settings(FIXTURES)
    paths = list(discover([str(settings.project_root)], settings))
    index = build_index(settings, paths, None)
    contexts: list[FileContext] = []
    original = FileContext.__init__

    def capture(self: FileContext, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        contexts.append(self)

    FileContext.__init__ = capture  # type: ignore[method-assign]
    try:
        engine = Engine(settings.replace(select=("CLY101",)))
        for path in paths:
            engine.lint_path(path)
    finally:
        FileContext.__init__ = original  # type: ignore[method-assign]
    per_file = sorted((t.registered_name or "", t.name) for c in contexts for t in c.tasks)
    indexed = sorted((t.name or "", t.function) for t in index.tasks)
    assert indexed == per_file
    assert len(indexed) > 40


def test_settings_from_every_spelling_and_merge_rules(tmp_path: Path) -> None:
    settings = make(
        tmp_path,
        {
            "proj/celery.py": """
                from celery import Celery
                app = Celery("proj", task_acks_late=True)
                app.conf.update(task_default_queue="work")
                app.conf.broker_transport_options = {"visibility_timeout": 43200}
            """,
            "proj/settings/base.py": """
                CELERY_TASK_IGNORE_RESULT = True
                CELERY_TASK_ROUTES = {"proj.*": {"queue": "work"}}
                CELERY_RESULT_BACKEND = env("BACKEND")
            """,
            "proj/settings/other.py": "CELERY_TASK_DEFAULT_QUEUE = 'other'\n",
            "proj/settings/test.py": "CELERY_TASK_IGNORE_RESULT = False\n",
        },
    )
    index = build_index(settings, discover([str(tmp_path)], settings), None)
    assert index.setting("task_acks_late") is True
    assert index.setting("broker_transport_options") == {"visibility_timeout": 43200}
    assert index.setting("task_ignore_result") is True  # test settings do not count
    assert index.setting("task_routes") == {"proj.*": {"queue": "work"}}
    assert index.setting("result_backend") == UNKNOWN_VALUE
    assert index.setting("task_default_queue") == UNKNOWN_VALUE  # set differently in two modules


def test_tasks_options_spread_and_params(tmp_path: Path) -> None:
    settings = make(
        tmp_path,
        {
            "proj/tasks.py": """
                from celery import shared_task
                LIMITS = {"time_limit": 60, "ignore_result": True}

                @shared_task(**LIMITS)
                def a(x, y=1, *args, z, **kw):
                    return x

                @shared_task(name=NAME)
                def b():
                    return 1
            """,
        },
    )
    index = build_index(settings, discover([str(tmp_path)], settings), None)
    a = index.by_ref["proj.tasks.a"]
    assert a.name == "proj.tasks.a" and a.options == {"time_limit": 60, "ignore_result": True} and not a.opaque
    assert a.params == {"positional": ["x", "y"], "required": 1, "kwonly": ["z"], "required_kwonly": ["z"], "varargs": True, "varkw": True}
    assert index.by_ref["proj.tasks.b"].name is None
    assert not index.names_complete  # a name we cannot read: "no such task" cannot be claimed
    assert index.unknown_name("proj.nothing") is None


def test_newer_syntax_falls_back_to_libcst(tmp_path: Path) -> None:
    settings = make(
        tmp_path,
        {
            "proj/tasks.py": """
                from celery import shared_task



                @shared_task(name="proj.sync", ignore_result=True)
                def sync(pk):
                    return pk

                type Key = int  # Python 3.12
            """,
        },
    )
    index = build_index(settings, discover([str(tmp_path)], settings), None)
    (task,) = index.tasks
    assert (task.name, task.function, task.line, task.options) == ("proj.sync", "sync", 6, {"ignore_result": True})
    assert task.params and task.params["positional"] == ["pk"]


def test_unparenthesized_except_is_read_with_ast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``except A, B:`` (Python 3.14) is the one newer syntax readthedocs.org uses: read
    with ``ast`` after parenthesizing, not with libcst, with the same line numbers."""
    import celery_lint.model.extract as index_module

    settings = make(
        tmp_path,
        {
            "proj/tasks.py": """
                from celery import shared_task
                from proj.other import ping

                try:
                    import redis
                except ImportError, AttributeError:
                    redis = None


                @shared_task(name="proj.sync", ignore_result=True)
                def sync(pk):
                    try:
                        return ping.delay(pk).get()
                    except  requests.Timeout , ValueError :  # a comment
                        return None
            """,
        },
    )

    def no_libcst(*args: object) -> None:
        raise AssertionError("read with libcst")

    monkeypatch.setattr(index_module, "_extract_with_libcst", no_libcst)
    index = build_index(settings, discover([str(tmp_path)], settings), None)
    (task,) = index.tasks
    assert (task.name, task.line, task.options) == ("proj.sync", 11, {"ignore_result": True})
    assert index.awaited == {"proj.other.ping"}  # which the libcst fallback would not have found


def test_newer_syntax_without_index_facts_is_not_parsed_with_libcst(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file read only for awaited results (a dispatch and a wait, no task) that ``ast``
    cannot read: the libcst fallback extracts no awaited results, so it is not run."""
    import celery_lint.model.extract as index_module

    settings = make(
        tmp_path,
        {
            "proj/views.py": """
                from proj.tasks import render

                def view(pk):
                    return render.delay(pk).get()
            """,
        },
    )
    calls: list[str] = []

    def newer(source: object) -> None:  # syntax this Python's ast cannot read
        raise SyntaxError("invalid syntax", ("views.py", 4, 1, "", 4, 2))

    monkeypatch.setattr(index_module, "quiet_ast_parse", newer)
    monkeypatch.setattr(index_module, "_extract_with_libcst", lambda path, *args: calls.append(path))
    facts = index_module.extract(str(tmp_path / "proj/views.py"), settings)
    assert calls == [] and facts is not None and facts.module == "proj.views" and not facts.awaited


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "celery_lint", *args], cwd=cwd, capture_output=True, text=True)


def test_a_change_in_another_file_reaches_cached_results(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "shop/tasks.py": "from celery import shared_task\n\n@shared_task(name='shop.old')\ndef send(pk):\n    return pk\n",
            "shop/views.py": "from shop.celery import app\n\ndef v(pk):\n    return app.send_task('shop.new', args=(pk,))\n",
        },
    )
    assert "CLY408" in run(tmp_path, "shop/views.py").stdout
    assert (tmp_path / ".celery_lint_cache").is_dir()
    tasks = tmp_path / "shop" / "tasks.py"
    tasks.write_text(tasks.read_text().replace("shop.old", "shop.new"))
    assert "CLY408" not in run(tmp_path, "shop/views.py").stdout  # views.py itself did not change


def test_no_index_silences_the_project_rules(tmp_path: Path) -> None:
    make(tmp_path, {"shop/views.py": "from shop.celery import app\n\ndef v(pk):\n    return app.send_task('shop.nothing', args=(pk,))\n"})
    (tmp_path / "shop" / "tasks.py").write_text("from celery import shared_task\n\n@shared_task(name='shop.x')\ndef x():\n    return 1\n")
    assert "CLY408" in run(tmp_path, "--no-cache", "shop/views.py").stdout
    assert "CLY408" not in run(tmp_path, "--no-cache", "--no-index", "shop/views.py").stdout
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\nproject-index = false\n")
    assert "CLY408" not in run(tmp_path, "--no-cache", "shop/views.py").stdout


def test_corrupt_index_cache_is_rebuilt(tmp_path: Path) -> None:
    settings = make(tmp_path, {"shop/tasks.py": "from celery import shared_task\n\n@shared_task(name='shop.x')\ndef x():\n    return 1\n"})
    cache = tmp_path / "cache"
    first = project_index(settings, cache)
    assert first is not None and [t.name for t in first.tasks] == ["shop.x"]
    for file in cache.glob("index-*.json"):
        file.write_text("{not json")
    again = project_index(settings, cache)
    assert again is not None and [t.name for t in again.tasks] == ["shop.x"]
    json.loads(next(cache.glob("index-*.json")).read_text())  # rewritten


def test_decorator_alias_defines_tasks_in_index_and_engine(tmp_path: Path) -> None:
    """kitsune: `shared_task_with_retry = shared_task(acks_late=True, ...)` then `@shared_task_with_retry`."""
    settings = make(
        tmp_path,
        {
            "proj/tasks.py": """
                from celery import shared_task

                retrying = shared_task(acks_late=True, ignore_result=True)

                @retrying
                def sync(pk):
                    print(pk)
            """,
        },
    )
    index = build_index(settings, discover([str(tmp_path)], settings), None)
    (task,) = index.tasks
    assert (task.name, task.options) == ("proj.tasks.sync", {"acks_late": True, "ignore_result": True})
    findings = Engine(settings, index=index).lint_path(str(tmp_path / "proj" / "tasks.py")).findings
    assert [(f.code, f.line, f.fix) for f in findings] == [("CLY101", 5, None)]  # no fix: `@retrying(name=...)` is wrong


def test_library_task_names_are_not_judged(tmp_path: Path) -> None:
    settings = make(
        tmp_path,
        {
            "shop/tasks.py": "from celery import shared_task\n\n@shared_task(name='shop.x')\ndef x():\n    return 1\n",
            "shop/celery.py": """
                from celery import Celery
                app = Celery("shop")
                app.conf.task_routes = {
                    "post_office.tasks.send_queued_mail": {"queue": "email"},
                    "shop.y": {"queue": "email"},
                }
            """,
        },
    )
    index = project_index(settings, None)
    assert index is not None and index.is_foreign("post_office.tasks.send_queued_mail")
    assert not index.is_foreign("shop.y") and not index.is_foreign("anything")
    findings = Engine(settings, index=index).lint_path(str(tmp_path / "shop" / "celery.py")).findings
    assert [(f.code, f.line) for f in findings if f.code == "CLY702"] == [("CLY702", 5)]


def test_config_from_object_module_is_read(tmp_path: Path) -> None:
    """A plain config module need not mention Celery at all; config_from_object names it."""
    settings = make(
        tmp_path,
        {
            "proj/celery.py": """
                from celery import Celery
                app = Celery("proj")
                app.config_from_object("proj.workersettings")
                app.config_from_object("django.conf:settings", namespace="CELERY")
            """,
            "proj/workersettings.py": """
                task_ignore_result = True
                broker_transport_options = {"visibility_timeout": 7200}
                unrelated = 1
            """,
        },
    )
    index = build_index(settings, discover([str(tmp_path)], settings), None)
    assert index.setting("task_ignore_result") is True
    assert index.setting("broker_transport_options") == {"visibility_timeout": 7200}
    assert index.setting("unrelated") is None


def test_awaited_results_are_indexed(tmp_path: Path) -> None:
    settings = make(
        tmp_path,
        {
            "shop/tasks.py": "from celery import shared_task\n\n@shared_task\ndef a():\n    print(1)\n",
            "shop/views.py": """
                from shop.tasks import a, b, c
                from shop.celery import app

                def one():
                    return a.delay().get()

                def two():
                    result = b.apply_async(args=())
                    return result.wait(timeout=5)

                def three(cache):
                    c.delay()
                    app.send_task("shop.named").get()
                    return cache.get("x")
            """,
        },
    )
    index = build_index(settings, discover([str(tmp_path)], settings), None)
    assert index.awaited == {"shop.tasks.a", "shop.tasks.b", "shop.named"}


def test_helper_in_another_module_reaches_cly307_and_the_cache(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "shop/mail.py": "import requests\n\ndef notify(url):\n    return requests.post(url, timeout=5)\n",
            "shop/tasks.py": (
                "from celery import shared_task\nfrom shop.mail import notify\n\n"
                "@shared_task(name='shop.t', acks_late=True, ignore_result=True)\ndef t(url):\n    notify(url)\n"
            ),
        },
    )
    assert "reaches non-idempotent `requests.post` through `notify() -> requests.post` (shop/mail.py:4)" in run(tmp_path, "shop/tasks.py").stdout
    mail = tmp_path / "shop" / "mail.py"
    mail.write_text(mail.read_text().replace("requests.post", "requests.get"))
    assert run(tmp_path, "shop/tasks.py").returncode == 0  # tasks.py is unchanged; its cached result is not reused


def test_index_cache_is_keyed_on_source_roots(tmp_path: Path) -> None:
    settings = make(tmp_path, {"src/shop/tasks.py": "from celery import shared_task\n\n@shared_task\ndef x():\n    return 1\n"})
    cache = tmp_path / "cache"
    plain = project_index(settings, cache)
    rooted = project_index(settings.replace(src=("src",)), cache)
    assert plain is not None and rooted is not None
    assert [t.name for t in plain.tasks] == ["src.shop.tasks.x"]
    assert [t.name for t in rooted.tasks] == ["shop.tasks.x"]  # not the cached facts of the other run


def test_an_extractor_error_in_one_file_does_not_stop_the_index(tmp_path: Path, monkeypatch) -> None:
    from celery_lint.model import extract as index_module

    settings = make(
        tmp_path,
        {
            "shop/tasks.py": "from celery import shared_task\n\n@shared_task(name='shop.x')\ndef x():\n    return 1\n",
            "shop/odd.py": "from celery import shared_task\n\n@shared_task(name='shop.odd')\ndef odd():\n    return 1\n",
        },
    )
    original = index_module._Extractor.run

    def flaky(self, tree):  # type: ignore[no-untyped-def]
        if self.rel.endswith("odd.py"):
            raise RuntimeError("boom")
        return original(self, tree)

    monkeypatch.setattr(index_module._Extractor, "run", flaky)
    index = build_index(settings, discover([str(tmp_path)], settings), None)
    assert [t.name for t in index.tasks] == ["shop.x"]


def _awaited_reference(extractor, tree):  # type: ignore[no-untyped-def]
    """The first implementation of ``_Extractor.awaited``: one ``ast.walk`` per scope."""
    import ast

    from celery_lint.model.extract import _WAITS, _statements

    found = set()
    scopes = [tree, *(n for n in _statements(tree.body) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]
    for scope in scopes:
        results = {}
        nodes = list(ast.walk(scope)) if scope is not tree else [n for s in tree.body for n in ast.walk(s)]
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                target = extractor._dispatched(node.value)
                if target is not None:
                    results[node.targets[0].id] = target
        for node in nodes:
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _WAITS):
                continue
            receiver = node.func.value
            target = extractor._dispatched(receiver) or (results.get(receiver.id) if isinstance(receiver, ast.Name) else None)
            if target is not None:
                found.add(target)
    return found


_AWAITED_SOURCES = [
    # a name reassigned: the later dispatch wins within a scope, the earlier one in its own
    "from shop.tasks import a, b\ndef f():\n    r = a.delay()\n    r = b.delay()\n    r.get()\n",
    "from shop.tasks import a, b\nr = a.delay()\ndef f():\n    r = b.delay()\nr.get()\n",
    # only f's own scope pairs r with a (the module scope's r ends as b)
    "from shop.tasks import a, b\ndef f():\n    r = a.delay()\n    r.get()\ndef g():\n    r = b.delay()\n",
    # methods, nested functions, functions under if/try/with, lambdas and comprehensions
    "from shop.tasks import a, b, c\nclass V:\n    def get(self):\n        r = a.delay()\n"
    "        def inner():\n            s = b.delay()\n            return s.wait()\n        return r.get(timeout=1)\n"
    "if True:\n    def g():\n        t = c.apply_async()\n        [t.join() for _ in range(2)]\n",
    "from shop import tasks\ntry:\n    async def h():\n        x = tasks.a.delay()\n        y = x\n        y.get()\n"
    "except Exception:\n    x = tasks.b.delay()\nx.get()\napp.send_task('named').get()\n",
    "r = (lambda: a.delay())()\nr.get()\nd = {}.get('k')\n",
    # statements without a dispatch word that still wait on a dispatch's result
    "from shop.tasks import a\nr = a.delay()\nif True:\n    print(1)\n    r.get()\n",
    "from shop.tasks import a\ndef f():\n    r = a.delay()\n    def inner():\n        return r.wait()\n    return inner\n",
    "from shop.tasks import a\nclass V:\n    def post(self):\n        job = a.apply_async()\n"
    "        self.log()\n        for _ in range(3):\n            job.join()\n    def log(self):\n        return {}.get('x')\n",
    # a dispatch inside a decorator, above the definition's own lines
    "from shop.tasks import a\n@cache(a.delay().get())\ndef f():\n    pass\n",
    "from shop.tasks import a\n@cache(\n    a.delay()\n    .get()\n)\nclass C:\n    pass\n",
    # line ends other than \n (ast counts them as the tokenizer does)
    "from shop.tasks import a\r\nx = 1\r\nr = a.delay()\r\nr.get()\r\n",
    "from shop.tasks import a\rx = 1\rr = a.delay()\rif x:\r    r.get()\r",
    # a non-ASCII name
    "from shop.tasks import a\nrésultat = a.delay()\nif True:\n    résultat.get()\n",
    # a statement sharing a line with a dispatch, and a wait split over lines
    "from shop.tasks import a\nx = 1; r = a.delay()\nif x:\n    r.get(\n        timeout=1)\n",
]


def test_awaited_single_walk_matches_the_walk_per_scope() -> None:
    """The one-walk ``awaited`` finds what walking each scope separately found."""
    import ast

    from celery_lint.model.apps import AppLocator
    from celery_lint.model.extract import _Extractor

    sources = list(_AWAITED_SOURCES)
    sources += [p.read_text() for p in sorted(FIXTURES.rglob("*.py"))]
    compared = 0
    for source in sources:
        tree = ast.parse(source)
        extractor = _Extractor("shop/views.py", "shop.views", "shop/views.py", AppLocator([Path(".")]))
        extractor.run_imports(tree)
        expected = _awaited_reference(extractor, tree)
        assert extractor.awaited(tree) == expected, source
        # statements without a dispatch word skipped, as extract() does with the bytes
        assert extractor.awaited(tree, source.encode()) == expected, source
        compared += bool(expected)
    assert compared >= len(_AWAITED_SOURCES)  # not vacuous: every hand-written case awaits something


def test_awaited_skips_statements_without_a_dispatch(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the file's bytes, only the statements that dispatch are walked node by node."""
    import ast

    from celery_lint.model import extract as index_module
    from celery_lint.model.apps import AppLocator

    filler = "".join(f"def helper{i}(x):\n    return {{'k': [x, x + 1]}}.get('k')\n" for i in range(50))
    source = f"from shop.tasks import a\n{filler}def view():\n    r = a.delay()\n    return r.get()\n"
    tree = ast.parse(source)
    visited: list[ast.AST] = []
    real = ast.iter_child_nodes

    def counting(node):  # type: ignore[no-untyped-def]
        visited.append(node)
        return real(node)

    monkeypatch.setattr(index_module.ast, "iter_child_nodes", counting)
    extractor = index_module._Extractor("shop/views.py", "shop.views", "shop/views.py", AppLocator([Path(".")]))
    extractor.run_imports(tree)
    assert extractor.awaited(tree) == {"shop.tasks.a"}
    full = len(visited)
    visited.clear()
    assert extractor.awaited(tree, source.encode()) == {"shop.tasks.a"}
    assert len(visited) * 10 < full


def test_preloaded_index_cache_is_used_only_while_the_file_is_unchanged(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The daemon's server preloads index cache files; a run never sees a stale copy."""
    import time

    from celery_lint.config import stamp
    from celery_lint.model import facts_cache as index_module

    # files written by this test count as settled (else every entry is checked by content)
    monkeypatch.setattr(stamp, "_run_start_ns", time.time_ns() + 10 * stamp.GRANULARITY_NS)

    root = tmp_path / "proj"
    (root / "shop").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (root / "shop" / "__init__.py").write_text("")
    tasks = root / "shop" / "tasks.py"
    tasks.write_text("from celery import shared_task\n\n@shared_task\ndef refund():\n    pass\n")
    settings = load_settings(root)
    cache_dir = root / ".celery_lint_cache"

    def names() -> set[str]:
        built = project_index(settings, cache_dir)
        assert built is not None
        return {t.name for facts in built.modules.values() for t in facts.tasks}

    assert names() == {"shop.tasks.refund"}
    [cache_file] = cache_dir.glob("index-*.json")
    monkeypatch.setattr(index_module, "_PRELOADED", {})
    index_module.preload(str(cache_file))
    reads: list[str] = []
    real_loads = json.loads
    monkeypatch.setattr(index_module.json, "loads", lambda text, *a, **k: reads.append("read") or real_loads(text, *a, **k))
    assert names() == {"shop.tasks.refund"} and reads == []  # served from memory
    # an edited file is re-read whatever the preloaded copy says (its stat differs)
    tasks.write_text("from celery import shared_task\n\n@shared_task\ndef refund_order():\n    pass\n")
    monkeypatch.setattr(index_module, "deferred_writes", [])
    assert names() == {"shop.tasks.refund_order"} and reads == []
    assert len(index_module.deferred_writes) == 1  # written after the answer, in a served run
    assert names() == {"shop.tasks.refund_order"}  # the preloaded copy was not changed by that run
    index_module.deferred_writes[0]()
    # the cache file changed on disk: the preloaded copy is not used any more
    assert names() == {"shop.tasks.refund_order"} and reads == ["read"]


def test_files_read_by_path_are_parsed_once_while_unchanged(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os

    from celery_lint.config.stamp import begin_run
    from celery_lint.model import source as context

    begin_run()  # a run with its memos (an earlier --no-cache run in this process turned them off)
    path = tmp_path / "celeryconf.py"
    path.write_text("app = 1\n")
    first = context.parse_file(str(path))
    assert context.parse_file(str(path)) is not first  # just written: parsed again
    monkeypatch.setattr(context, "settled", lambda st: True)
    kept = context.parse_file(str(path))
    assert context.parse_file(str(path)) is kept
    path.write_text("app = 22\n")
    os.utime(path, ns=(1, 1))
    changed = context.parse_file(str(path))
    assert changed is not kept and changed.body[0].value.value == 22  # type: ignore[attr-defined]


def test_index_cache_entries_of_the_wrong_shape_are_read_again(tmp_path: Path) -> None:
    settings = make(tmp_path, {"shop/tasks.py": "from celery import shared_task\n\n@shared_task(name='shop.x')\ndef x():\n    return 1\n"})
    cache = tmp_path / "cache"
    first = project_index(settings, cache)
    assert first is not None
    (cache_file,) = cache.glob("index-*.json")
    entries = json.loads(cache_file.read_text())
    stat = entries["shop/tasks.py"]["stat"]
    entries["shop/tasks.py"] = {"stat": stat, "facts": {"tasks": [["not", "a", "task"]]}}
    entries["shop/__init__.py"] = ["not", "an", "entry"]
    cache_file.write_text(json.dumps(entries))
    again = project_index(settings, cache)
    assert again is not None and [t.name for t in again.tasks] == ["shop.x"]

