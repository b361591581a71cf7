"""Module constants folded across modules (issue 16): values, timedeltas, the cache."""

from __future__ import annotations

import datetime
from pathlib import Path

from celery_lint.model.apps import AppLocator
from celery_lint.model.values import UNKNOWN

from tests.test_index import make, run


def constant(root: Path, qualified: str) -> object:
    return AppLocator().constant(qualified, str(root / "shop" / "tasks.py"), "shop.tasks")


def test_constants_of_another_module_fold_as_python_binds_them(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "shop/tasks.py": "",
            "shop/limits.py": (
                "import os\nfrom datetime import timedelta\nfrom shop.base import MINUTE\n\n"
                "SOFT = 10 * MINUTE\nSOFT = 20 * MINUTE\nDELAY = timedelta(minutes=5, seconds=MINUTE)\n"
                "QUEUE = 'reports'\nFROM_ENV = int(os.environ.get('X', 3))\nA = B\nB = A\n"
                "def LATER():\n    return 1\nLOOPED = 1\nfor LOOPED in range(3):\n    pass\n"
            ),
            "shop/base.py": "MINUTE = 60\n",
        },
    )
    assert constant(tmp_path, "shop.limits.SOFT") == 1200  # the last binding, through an import
    assert constant(tmp_path, "shop.limits.DELAY") == datetime.timedelta(minutes=6)
    assert constant(tmp_path, "shop.limits.QUEUE") == "reports"
    for opaque in ("FROM_ENV", "A", "LATER", "LOOPED", "MISSING"):
        assert constant(tmp_path, f"shop.limits.{opaque}") is UNKNOWN, opaque
    assert constant(tmp_path, "django.conf.settings.X") is UNKNOWN  # not a project module


def test_an_edit_to_the_constants_module_reaches_the_cached_result(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "shop/tasks.py": (
                "from celery import shared_task\nfrom shop.limits import SOFT, HARD\n\n"
                "@shared_task(name='shop.t', soft_time_limit=SOFT, time_limit=HARD, ignore_result=True)\n"
                "def t():\n    return 1\n"
            ),
            "shop/limits.py": "SOFT = 600\nHARD = 300\n",
        },
    )
    assert "CLY205" in run(tmp_path, "shop/tasks.py").stdout
    (tmp_path / "shop" / "limits.py").write_text("SOFT = 200\nHARD = 300\n")
    cached, uncached = run(tmp_path, "shop/tasks.py"), run(tmp_path, "--no-cache", "shop/tasks.py")
    assert cached.stdout == uncached.stdout and cached.returncode == uncached.returncode == 0


def test_a_constant_re_exported_through_a_parenthesised_import(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "shop/tasks.py": "",
            "shop/limits.py": "from shop.base import (\n    MINUTE,\n    HOUR as H,\n)\n\nclass Task:\n    pass\n",
            "shop/base.py": "MINUTE = 60\nHOUR = 3600\n",
        },
    )
    assert constant(tmp_path, "shop.limits.MINUTE") == 60
    assert constant(tmp_path, "shop.limits.H") == 3600
    assert constant(tmp_path, "shop.limits.Task") is UNKNOWN  # a class: the module is not even parsed
