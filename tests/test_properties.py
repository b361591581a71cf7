"""Property tests: the engine never raises, whatever mix of Celery-shaped code it gets."""

from __future__ import annotations

import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celery_lint.config.settings import Settings
from celery_lint.engine.core import Engine

# hypothesmith compiles its own candidates, which warns about odd but valid code
pytestmark = __import__("pytest").mark.filterwarnings("ignore::SyntaxWarning")

FRAGMENTS = [
    "from celery import shared_task, Celery, group\n",
    "from django.db import transaction, models\n",
    "import requests\n",
    "app = Celery('p')\n",
    "app.conf.task_routes = {'p.*': {'queue': 'q'}}\n",
    "@shared_task\ndef a(self, x):\n    self.retry()\n",
    "@app.task(bind=True, ignore_results=True, name=N)\ndef b(self):\n    return requests.post(u)\n",
    "@shared_task(**opts)\ndef c():\n    pass\n",
    "with transaction.atomic():\n    a.delay(1)\n    a.apply_async(queue='q')\n",
    "class M(models.Model):\n    def save(self):\n        a.delay(self)\n",
    "app.send_task('x', args=(1,))\n",
    "group(a.s(), a.s()).apply_async()\n",
    "def f():\n    from p.tasks import a\n    a, b = 1, 2\n    return a.apply_async()\n",
    "x = lambda: a.delay()\n",
    "app.task(f)\n",
    "app.task(name='x')(f)\n",
    "@a.task\ndef d(): ...\n",
    "if TYPE_CHECKING:\n    from .tasks import t\n",
    "try:\n    a.retry()\nexcept Exception:\n    pass\n",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8), st.sampled_from(["p/tasks.py", "p/models.py", "p/models/x.py"]))
def test_engine_never_raises_on_valid_code(parts: list[str], path: str) -> None:
    source = "".join(parts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(source, path, "exec")  # the generator only makes valid Python
    result = Engine(Settings()).lint_text(source, path)
    lines = source.count("\n") + 1
    for finding in result.findings:
        assert finding.code != "CLY000", finding.message
        assert 1 <= finding.line <= lines


FIXABLE_FRAGMENTS = FRAGMENTS + [
    "from celery.schedules import crontab\nfrom datetime import datetime\n",
    "@shared_task(rate_limit='5/min', acks_on_failure_or_timeout=True)\ndef e(x):\n    print(x)\n",
    "a.apply_async(args=(x), countdwon=3, eta=datetime.utcnow())\n",
    "a.delay(1, 2, k=3, countdown=4, queue='q')\n",
    "S = crontab(hour=7)\n",
    "CELERY_BEAT_SCHEDULE = {'x': {'task': 't', 'schedule': 5, 'queue': 'q', 'expires': 3}}\n",
    "@log\n@shared_task\ndef g(self):\n    try:\n        pass\n    except OSError as exc:\n        self.retry()\n",
    "with transaction.atomic():\n    e.delay(1)\n",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FIXABLE_FRAGMENTS), max_size=8), st.sampled_from(["p/tasks.py", "p/settings.py"]))
def test_fixes_keep_valid_code_valid_and_converge(parts: list[str], path: str) -> None:
    source = "".join(parts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(source, path, "exec")
    engine = Engine(Settings(extend_select=("CLY",)))
    once = engine.fix_text(source, path, unsafe=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(once.text, path, "exec")
    assert engine.fix_text(once.text, path, unsafe=True).text == once.text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("celry.()[]{}:=\n @'\"#\\ab0\t")), max_size=200))
def test_engine_never_raises_on_garbage(text: str) -> None:
    result = Engine(Settings()).lint_text("import celery\n" + text, "g.py")
    assert all(f.code == "CLY000" for f in result.findings) or result.parsed


hypothesmith = __import__("pytest").importorskip("hypothesmith")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_engine_never_raises_on_hypothesmith_programs(source: str) -> None:
    """Programs from Python's grammar, prefixed so the prefilter lets every rule run."""
    source = "import celery\nfrom celery import shared_task\n" + source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<generated>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # not valid as a whole after prefixing (e.g. a __future__ import); not our input
    result = Engine(Settings(extend_select=("CLY",))).lint_text(source, "p/tasks.py")
    for finding in result.findings:
        # Python accepts it; the only acceptable CLY000 is libcst's own limitation, named as such
        assert finding.code != "CLY000" or "libcst cannot parse" in finding.message, finding.message
