"""The test-code policy (issue 16): what runs in test modules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from celery_lint.model.recognise import is_test_module

from tests.test_index import make, run

TEST_MODULE = """
from celery import shared_task, signature
from django.db import transaction
from shop.tasks import send


def test_throwaway():
    @shared_task
    def double(x):
        return 2 * x

    with transaction.atomic():
        send.delay(1)
    signature("sig1").delay()


@shared_task(name="shop.tests.flaky", bind=True, max_retry=3)  # noqa: CLY502
def flaky(self):
    self.retry(countdown=1)
"""
PRODUCTION = "from celery import shared_task\n\n@shared_task(name='shop.send', ignore_result=True)\ndef send(pk):\n    return pk\n"


def codes(root: Path, *args: str) -> list[str]:
    proc = run(root, "--no-cache", "--output-format", "json", "--extend-select", "CLY901", *args, ".")
    return sorted(f["code"] for f in json.loads(proc.stdout))


def test_lenient_runs_only_the_rules_about_code_wrong_anywhere(tmp_path: Path) -> None:
    make(tmp_path, {"shop/tasks.py": PRODUCTION, "shop/tests/test_send.py": TEST_MODULE})
    assert codes(tmp_path) == ["CLY201", "CLY301"]  # the noqa for CLY502 is not judged stale either


def test_strict_runs_every_rule_in_tests(tmp_path: Path) -> None:
    make(tmp_path, {"shop/tasks.py": PRODUCTION, "shop/tests/test_send.py": TEST_MODULE})
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\ntest-code = "strict"\n')
    found = codes(tmp_path)
    assert {"CLY101", "CLY104", "CLY201", "CLY301", "CLY408", "CLY601"} <= set(found)


def test_a_test_task_is_neither_a_duplicate_nor_a_served_name(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "shop/tasks.py": PRODUCTION,
            "shop/views.py": "from shop.celery import app\n\ndef v():\n    app.send_task('shop.only_in_tests')\n",
            "shop/tests/test_send.py": (
                "from celery import shared_task\n\n"
                "@shared_task(name='shop.send')\ndef fake(pk):\n    return pk\n\n"
                "@shared_task(name='shop.only_in_tests')\ndef other():\n    return 1\n"
            ),
        },
    )
    assert codes(tmp_path) == ["CLY408"]  # views.py: no deployed task has that name; no CLY103


@pytest.mark.parametrize(
    ("path", "test"),
    [
        ("shop/tests/test_a.py", True),
        ("shop/tests.py", True),
        ("tests/conftest.py", True),
        ("shop/test_views.py", True),
        ("shop/views_test.py", True),
        ("testing/utils.py", True),
        ("shop/latest_news.py", False),
        ("shop/contest.py", False),
        ("shop/attestation/views.py", False),
    ],
)
def test_which_modules_are_tests(path: str, test: bool) -> None:
    assert is_test_module(path) is test
