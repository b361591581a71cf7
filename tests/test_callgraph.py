"""The call graph (issue 16): calls through project helpers, any depth, across modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from celery_lint.model.apps import AppLocator
from celery_lint.model.callgraph import MAX_DEPTH, CallGraph, blocking_sink, dispatch_sink, waits_sink
from celery_lint.model.summaries import _LINES, skim, summarise
from celery_lint.model.transactions import snippet_calls, transaction_calls, transaction_snippet
from celery_lint.model.side_effects import EffectSink, compile_patterns, has_idempotency_key

from tests.test_index import make, run

MAIL = EffectSink(compile_patterns(("django.core.mail.send_mail", "requests.post")))


def graph_for(root: Path, current: str, files: dict[str, str]) -> CallGraph:
    make(root, files)
    graph = CallGraph(AppLocator(), str(root))
    path = root / current
    module = current[:-3].replace("/", ".")
    graph.set_current(str(path), module, lambda: ast.parse(path.read_text()))
    return graph


def reach(graph: CallGraph, root: Path, current: str, qualified: str, sink, **kwargs):  # type: ignore[no-untyped-def]
    return graph.reach(qualified, str(root / current), current[:-3].replace("/", "."), sink, **kwargs)


def test_a_path_across_three_modules_is_named_with_the_line_of_the_call(tmp_path: Path) -> None:
    graph = graph_for(
        tmp_path,
        "shop/tasks.py",
        {
            "shop/tasks.py": "from shop.notify import notify\n",
            "shop/notify.py": "from shop import mail\n\ndef notify(a):\n    mail.send_receipt(a)\n",
            "shop/mail.py": "from django.core.mail import send_mail\n\ndef send_receipt(a):\n    x = 1\n    send_mail('s', 'b', None, [a])\n",
        },
    )
    found = reach(graph, tmp_path, "shop/tasks.py", "shop.notify.notify", MAIL)
    assert found is not None
    assert found.chain() == "notify() -> send_receipt() -> django.core.mail.send_mail"
    assert found.where == "shop/mail.py:5"
    assert {str(tmp_path / "shop/notify.py"), str(tmp_path / "shop/mail.py")} <= graph.locator.touched


def test_depth_is_bounded_and_cycles_end(tmp_path: Path) -> None:
    chain = "".join(f"def f{i}():\n    f{i + 1}()\n\n" for i in range(MAX_DEPTH + 2))
    chain += f"def f{MAX_DEPTH + 2}():\n    requests.post('u')\n\ndef a():\n    b()\n\ndef b():\n    a()\n"
    graph = graph_for(tmp_path, "shop/tasks.py", {"shop/tasks.py": "import requests\n\n" + chain})
    assert graph.reach_local("f3", MAIL) is not None  # MAX_DEPTH - 1 calls away
    assert graph.reach_local("f0", MAIL) is None  # too deep
    assert graph.reach_local("a", MAIL) is None  # a cycle without a sink ends


def test_calls_deferred_to_on_commit_or_a_lambda_are_not_followed_for_now(tmp_path: Path) -> None:
    graph = graph_for(
        tmp_path,
        "shop/views.py",
        {
            "shop/views.py": "from shop.billing import later, at_once\n",
            "shop/billing.py": (
                "from django.db import transaction\nfrom shop.tasks import send\n\n"
                "def later(o):\n    transaction.on_commit(lambda: queue(o))\n    transaction.on_commit(send.s(o.pk).delay)\n\n"
                "def at_once(o):\n    queue(o)\n\n"
                "def queue(o):\n    send.delay(o.pk)\n"
            ),
            "shop/tasks.py": "def send(pk):\n    return pk\n",
        },
    )
    assert reach(graph, tmp_path, "shop/views.py", "shop.billing.later", dispatch_sink, now=True) is None
    found = reach(graph, tmp_path, "shop/views.py", "shop.billing.at_once", dispatch_sink, now=True)
    assert found is not None and found.chain() == "at_once() -> queue() -> shop.tasks.send.delay"


def test_a_function_re_exported_by_a_package_is_followed(tmp_path: Path) -> None:
    graph = graph_for(
        tmp_path,
        "shop/tasks.py",
        {
            "shop/tasks.py": "from shop.net import fetch\n",
            "shop/net/__init__.py": "from .impl import fetch\n",
            "shop/net/impl.py": "import requests\n\ndef fetch(u):\n    with open(u) as f:\n        pass\n    return requests.get(u)\n",
        },
    )
    found = reach(graph, tmp_path, "shop/tasks.py", "shop.net.fetch", blocking_sink)
    assert found is not None and found.where == "shop/net/impl.py:6"


def test_a_helper_with_an_idempotency_key_is_not_followed(tmp_path: Path) -> None:
    graph = graph_for(
        tmp_path,
        "shop/tasks.py",
        {"shop/tasks.py": "import requests\n\ndef pay(u, k):\n    requests.post(u, headers={'Idempotency-Key': k})\n"},
    )
    assert graph.reach_local("pay", MAIL) is not None
    assert graph.reach_local("pay", MAIL, has_idempotency_key) is None


def test_waits_and_bounded_calls(tmp_path: Path) -> None:
    graph = graph_for(
        tmp_path,
        "shop/tasks.py",
        {
            "shop/tasks.py": (
                "import eventlet, requests\nfrom shop.jobs import render\n\n"
                "def collect(ids):\n    r = render.delay(1)\n    return r.get()\n\n"
                "def cache_get(cache):\n    return cache.get('k')\n\n"
                "def bounded(u):\n    with eventlet.Timeout(5):\n        return requests.get(u)\n"
            )
        },
    )
    found = graph.reach_local("collect", waits_sink)
    assert found is not None and found.what == "shop.jobs.render.delay().get()" and found.where.endswith(":6")
    assert graph.reach_local("cache_get", waits_sink) is None  # `dict.get`-like: not a result
    assert graph.reach_local("bounded", blocking_sink) is None


TRICKY = '''\
import requests
from django.core.mail import send_mail as mail
session = requests.Session()


def multi_line(
    a,
    b,
) -> None:
    mail("s", a, None, [b])


@decorator
def decorated(u):
    return session.post(u)


def twice():
    pass


def twice():
    requests.put("u")


async def later(u):
    await requests.delete(u)


def with_text():
    sql = """
SELECT 1
"""
    requests.patch(sql)


class Thing:
    def method(self):
        requests.post("x")
'''


def test_skimming_a_module_reads_what_a_full_parse_reads() -> None:
    exact = summarise(ast.parse(TRICKY), "m.py", "m", _LINES.findall(TRICKY))
    skimmed = skim(TRICKY, "m.py", "m")
    for name in ("multi_line", "decorated", "twice", "later", "with_text"):
        assert skimmed.function(name) == exact.function(name), name
    assert skimmed.function("decorated").calls[0].name == "requests.Session().post"  # type: ignore[union-attr]
    assert skimmed.function("twice").calls[0].name == "requests.put"  # type: ignore[union-attr]  # the last one binds
    assert not skimmed.defines("method")


REGIONS = '''\
from django.db import transaction
from django.db.transaction import atomic
from shop.billing import (
    create,
    refund,
)


def view(o):
    with transaction.atomic():
        create(o)
    refund(o)


@atomic
def decorated(o):
    refund(o)


class Order(Model):
    class Meta:
        atomic = False

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        create(self)
'''


IMPORTS = """\
import requests
from shop.mail import \\
    send_receipt
from shop import (
    billing,  # a comment
)
\"\"\"A docstring line that reads
import this is not a statement
\"\"\"


def local():
    from shop.tasks import refund
    refund.delay(1)


def uses_an_import_made_elsewhere():
    refund.delay(2)  # NameError at run time: `refund` is bound only in `local`


def calls():
    send_receipt(1)
    billing.create(2)
    requests.get("u")
"""


def test_skimmed_imports_are_read_lazily_as_the_module_binds_them() -> None:
    exact = summarise(ast.parse(IMPORTS), "m.py", "m", _LINES.findall(IMPORTS))
    skimmed = skim(IMPORTS, "m.py", "m")
    for name in ("local", "uses_an_import_made_elsewhere", "calls"):
        assert skimmed.function(name) == exact.function(name), name
    assert [c.name for c in skimmed.function("calls").calls] == [  # type: ignore[union-attr]
        "shop.mail.send_receipt",
        "shop.billing.create",
        "requests.get",
    ]
    assert "refund" not in skimmed.imports  # bound inside `local` only
    assert skimmed.function("uses_an_import_made_elsewhere").calls == ()  # type: ignore[union-attr]


def test_the_transaction_snippet_holds_every_call_of_every_region() -> None:
    snippet = transaction_snippet(REGIONS)
    assert snippet is not None
    assert snippet[3] == 3
    cut = snippet_calls(snippet, "m.py", "m")
    full = transaction_calls(ast.parse(REGIONS), "m.py", "m")
    assert set(full) <= set(cut)
    assert {"shop.billing.create", "shop.billing.refund"} <= set(cut)
    # a region the cut cannot see: the whole file is read instead
    assert transaction_snippet("from django.db import transaction\n\nwith (\n    transaction.atomic(),\n):\n    pass\n") is None


@pytest.mark.parametrize(
    "region",
    [
        # a string whose lines sit left of the region: the cut ends inside it
        'def f():\n    with transaction.atomic():\n        x = """\nleft\n"""\n        create(x)\n',
        # brackets continued on a line left of the region
        "def f():\n    with transaction.atomic():\n        log(\n    'x')\n        create(1)\n",
        # a backslash continuation
        "def f():\n    with transaction.atomic():\n        y = 1 + \\\n2\n        create(y)\n",
    ],
)
def test_a_region_that_does_not_stand_alone_is_read_from_the_whole_file(region: str) -> None:
    text = "from django.db import transaction\nfrom shop.billing import create\n\n" + region
    snippet = transaction_snippet(text)
    assert snippet is not None and snippet[3] == 1
    with pytest.raises(SyntaxError):
        snippet_calls(snippet, "m.py", "m")
    assert "shop.billing.create" in transaction_calls(ast.parse(text), "m.py", "m")


def test_the_snippet_names_calls_as_the_parse_does() -> None:
    text = (
        "from django.db import transaction\nimport shop.billing as billing\nfrom shop import mail\n\n"
        "def helper():\n    pass\n\n"
        "def f(o):\n    with transaction.atomic():\n        billing . create (o)\n        helper()\n"
        "        o.save()\n        mail.send(o).then()\n        unknown(o)\n"
    )
    snippet = transaction_snippet(text)
    assert snippet is not None
    cut = snippet_calls(snippet, "m.py", "m")
    assert set(transaction_calls(ast.parse(text), "m.py", "m")) - {"shop.mail.send().then"} <= set(cut)
    assert {"shop.billing.create", ".helper", "shop.mail.send"} <= set(cut)
    assert not any("unknown" in c or "save" in c for c in cut)


def test_an_edit_three_modules_away_reaches_the_cached_result(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "shop/tasks.py": (
                "from celery import shared_task\nfrom shop.notify import notify\n\n"
                "@shared_task(name='shop.t', acks_late=True, ignore_result=True)\ndef t(a):\n    notify(a)\n"
            ),
            "shop/notify.py": "from shop.mail import send_receipt\n\ndef notify(a):\n    send_receipt(a)\n",
            "shop/mail.py": "from django.core.mail import send_mail\n\ndef send_receipt(a):\n    send_mail('s', 'b', None, [a])\n",
        },
    )
    first = run(tmp_path, "shop/tasks.py")
    assert "CLY307" in first.stdout and "notify() -> send_receipt() -> django.core.mail.send_mail" in first.stdout
    mail = tmp_path / "shop" / "mail.py"
    mail.write_text("def send_receipt(a):\n    return a\n")
    cached = run(tmp_path, "shop/tasks.py")
    uncached = run(tmp_path, "--no-cache", "shop/tasks.py")
    assert cached.stdout == uncached.stdout and cached.returncode == uncached.returncode == 0


@pytest.mark.parametrize("source", ["def f(:\n", "\x00", "x = '" + "(" * 200 + "'\n"])
def test_unreadable_helpers_end_the_walk_quietly(tmp_path: Path, source: str) -> None:
    graph = graph_for(tmp_path, "shop/tasks.py", {"shop/tasks.py": "from shop.bad import f\n", "shop/bad.py": "x = 1\n"})
    (tmp_path / "shop" / "bad.py").write_text(source)
    assert reach(graph, tmp_path, "shop/tasks.py", "shop.bad.f", MAIL) is None


def test_the_fixture_project_reports_at_the_calls_and_names_the_paths() -> None:
    from tests.conftest import FIXTURES

    proc = run(FIXTURES, "--no-cache", "helpers")
    assert "through `notify() -> send_receipt() -> django.core.mail.send_mail` (helpers/billing/mail.py:8)" in proc.stdout
    assert "`create_invoice() -> queue_invoice() -> billing.tasks.send_invoice.delay` (helpers/billing/invoices.py:13)" in proc.stdout


def test_sinks_walked_together_answer_as_walked_alone(tmp_path: Path) -> None:
    files = {
        "shop/tasks.py": (
            "import requests\nfrom shop.jobs import render\n\n"
            "def start(u):\n    a(u)\n    fetch(u)\n\n"
            "def fetch(u):\n    return requests.get(u)\n\n"
            "def a(u):\n    b(u)\n\n"
            "def b(u):\n    return render.delay(u).get()\n"
        )
    }
    together = graph_for(tmp_path, "shop/tasks.py", files)
    first = (together.reach_local("start", waits_sink), together.reach_local("start", blocking_sink))
    alone_blocking = graph_for(tmp_path, "shop/tasks.py", files).reach_local("start", blocking_sink)
    alone_waits = graph_for(tmp_path, "shop/tasks.py", files).reach_local("start", waits_sink)
    assert first == (alone_waits, alone_blocking)
    assert first[0] is not None and first[0].chain() == "start() -> a() -> b() -> shop.jobs.render.delay().get()"
    assert first[1] is not None and first[1].chain() == "start() -> fetch() -> requests.get"


@pytest.mark.parametrize(("depth", "expected"), [(0, set()), (1, {"CLY501"}), (2, {"CLY306", "CLY307", "CLY501", "CLY601", "CLY603"})])
def test_helper_depth_bounds_every_rule_that_follows_helpers(tmp_path: Path, depth: int, expected: set[str]) -> None:
    import json
    import shutil

    from tests.conftest import FIXTURES

    shutil.copytree(FIXTURES / "helpers", tmp_path / "helpers")
    (tmp_path / "helpers" / "pyproject.toml").write_text(f"[tool.celery-lint]\nhelper-depth = {depth}\n")
    proc = run(tmp_path / "helpers", "--no-cache", "--output-format", "json", ".")
    assert {f["code"] for f in json.loads(proc.stdout)} == expected


def test_a_relative_import_inside_a_helper_is_followed(tmp_path: Path) -> None:
    graph = graph_for(
        tmp_path,
        "shop/tasks.py",
        {
            "shop/tasks.py": "from shop.orders.notify import notify\n",
            "shop/orders/notify.py": "def notify(a):\n    from ..mail import send\n    send(a)\n",
            "shop/mail.py": "import requests\n\ndef send(a):\n    requests.post(a)\n",
        },
    )
    found = reach(graph, tmp_path, "shop/tasks.py", "shop.orders.notify.notify", MAIL)
    assert found is not None and found.chain() == "notify() -> send() -> requests.post"
