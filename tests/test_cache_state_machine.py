"""A cache may make it faster, never different: a stateful property test (issue 17, item 2).

Hypothesis drives a small project through the edits users make - edit a file, a same-size
edit with the mtime restored, add or remove ``__init__.py``, change the app module, rename
a task, change the configuration, delete or add a file, edit a helper that a view calls
inside a transaction (the call graph's store) - and after each run compares:

- after every step, the CLI with its caches (in this process, with every file counting as
  settled, so the stat shortcut itself is exercised) against ``--no-cache``;
- when hypothesis picks that step, flake8 with its caches against ``--celery-no-cache``,
  and a daemon's served run against a run without it and without caches.

A bounded run is part of the suite; ``CELERY_LINT_STATEFUL_EXAMPLES=N`` (and
``CELERY_LINT_STATEFUL_STEPS``) run longer, e.g. for a closing note's figures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from celery_lint.config import stamp
from celery_lint.doors import cli, daemon
from tests.conftest import begin_settled_run

EXAMPLES = int(os.environ.get("CELERY_LINT_STATEFUL_EXAMPLES", "10"))
STEPS = int(os.environ.get("CELERY_LINT_STATEFUL_STEPS", "10"))

APPS = [
    "from celery import Celery\n\napp = Celery('shop')\n",
    "def make_app(name):\n    return name\n\n\napp = make_app('shop')\n",
]
TASKS = (
    "from shop.celery_setup import app\n\n\n"
    "@app.task(name='{name}')\ndef resize(pk):\n    return pk\n\n\n"
    "@app.task\ndef crop(pk, size):\n    return pk\n"
)
VIEWS = [
    "from shop.celery_setup import app\nfrom shop.tasks import crop\n\n\ndef view():\n    app.send_task('shop.resize')\n    crop.delay(1)\n",
    "from shop.celery_setup import app\nfrom shop.tasks import crop\n\n\ndef view():\n    app.send_task('shop.resize2')\n    crop.delay(1, 2, countdown=5)\n",
    "from shop.tasks import crop\n\n\ndef view():\n    crop.apply_async((1, 2), countdwn=5)\n",
    "from django.db import transaction\nfrom shop.helpers import notify\n\n\n"
    "def view():\n    with transaction.atomic():\n        notify(1)\n",
]
#: A helper the last view calls inside a transaction: the call graph (and its store)
#: answers whether it dispatches, directly, two calls deep, or not at all.
HELPERS = [
    "from shop.tasks import crop\n\n\ndef notify(pk):\n    crop.delay(pk, 1)\n",
    "def notify(pk):\n    return _send(pk)\n\n\ndef _send(pk):\n    from .tasks import crop\n    crop.delay(pk, 2)\n",
    "def notify(pk):\n    return pk\n",
]
CONFIGS = ["[tool.celery-lint]\n", "[tool.celery-lint]\nignore = ['CLY101']\n", "[tool.celery-lint]\nselect = ['CLY4']\n"]
#: What a run of the machine did (the test fails when it compared nothing).
STATS: dict[str, int] = {"steps": 0, "cli": 0, "doors": 0}
EXTRA = "from shop.tasks import crop\n\n\ndef later():\n    crop.delay()\n"


def _env(sockets: str, **extra: str) -> dict[str, str]:
    removed = {*daemon.CI_VARIABLES, daemon.ENV_SWITCH, "NO_COLOR", "FORCE_COLOR"}
    env = {k: v for k, v in os.environ.items() if k not in removed}
    env.update({daemon.ENV_DIR: sockets, daemon.ENV_IDLE: "60"}, **extra)
    return env


class CachedEqualsUncached(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="cly-state-"))
        self.sockets = tempfile.mkdtemp(prefix="cly-sock-")
        self.task_name = "shop.resize"
        self.started = False

    @initialize()
    def project(self) -> None:
        (self.root / "shop").mkdir()
        (self.root / "pyproject.toml").write_text(CONFIGS[0])
        (self.root / "shop" / "__init__.py").write_text("")
        (self.root / "shop" / "celery_setup.py").write_text(APPS[0])
        (self.root / "shop" / "tasks.py").write_text(TASKS.format(name=self.task_name))
        (self.root / "shop" / "views.py").write_text(VIEWS[-1])
        (self.root / "shop" / "helpers.py").write_text(HELPERS[0])
        self.started = True

    # -- the edits users make ----------------------------------------------------------

    @rule(variant=st.sampled_from(VIEWS))
    def edit_views(self, variant: str) -> None:
        (self.root / "shop" / "views.py").write_text(variant)

    @rule(variant=st.sampled_from(HELPERS))
    def edit_helper(self, variant: str) -> None:
        (self.root / "shop" / "helpers.py").write_text(variant)

    @rule()
    def same_size_edit_with_mtime_restored(self) -> None:
        tasks = self.root / "shop" / "tasks.py"
        before = tasks.stat()
        text = tasks.read_text()
        # `size` required or not: `crop.delay(1)` is CLY407 or clean, in the same number of bytes
        swapped = text.replace("pk, size):", "pk, sz=1):") if "pk, size):" in text else text.replace("pk, sz=1):", "pk, size):")
        tasks.write_text(swapped)
        os.utime(tasks, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert tasks.stat().st_size == before.st_size

    @rule()
    def toggle_init(self) -> None:
        init = self.root / "shop" / "__init__.py"
        if init.exists():
            init.unlink()
        else:
            init.write_text("")

    @rule(app=st.sampled_from(APPS))
    def change_app_module(self, app: str) -> None:
        (self.root / "shop" / "celery_setup.py").write_text(app)

    @rule(name=st.sampled_from(["shop.resize", "shop.resize2", "shop.resize_v2"]))
    def rename_task(self, name: str) -> None:
        tasks = self.root / "shop" / "tasks.py"
        tasks.write_text(tasks.read_text().replace(f"name='{self.task_name}'", f"name='{name}'"))
        self.task_name = name

    @rule(config=st.sampled_from(CONFIGS))
    def change_config(self, config: str) -> None:
        (self.root / "pyproject.toml").write_text(config)

    @rule()
    def add_or_delete_a_file(self) -> None:
        extra = self.root / "shop" / "extra.py"
        if extra.exists():
            extra.unlink()
        else:
            extra.write_text(EXTRA)

    # -- runs ------------------------------------------------------------------------

    @invariant()
    def cli_cached_equals_uncached(self) -> None:
        """After every step (in this process: cheap)."""
        if self.started:
            STATS["steps"] += 1
            STATS["cli"] += 1
            assert self._cli() == self._cli("--no-cache")

    @rule()
    def run_every_door(self) -> None:
        """flake8 and the daemon (processes: a few seconds), when hypothesis picks it."""
        STATS["doors"] += 1
        assert self._flake8() == self._flake8("--celery-no-cache")
        served = self._daemon({})
        alone = self._daemon({daemon.ENV_SWITCH: "0"}, "--no-cache")
        assert served == alone

    def teardown(self) -> None:
        daemon.stop_servers(self.sockets)
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.sockets, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------

    def _cli(self, *args: str) -> list[tuple[str, str, int, str]]:
        cwd = os.getcwd()
        os.chdir(self.root)
        try:
            out = _captured(lambda: cli.run_in_process(["--output-format", "json", "--jobs", "1", *args, "."]))
        finally:
            os.chdir(cwd)
        return sorted((f["filename"], f["code"], f["line"], f["message"]) for f in json.loads(out))

    def _flake8(self, *args: str) -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "flake8", "--select=CLY", *args, "."], cwd=self.root, capture_output=True, text=True
        )
        assert proc.returncode in (0, 1), proc.stderr
        return sorted(proc.stdout.splitlines())

    def _daemon(self, env: dict[str, str], *args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "celery_lint", "--daemon", *args, "."],
            cwd=self.root,
            env=_env(self.sockets, **env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode in (0, 1), proc.stderr
        return proc.stdout


def _captured(call) -> str:  # type: ignore[no-untyped-def]
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        call()
    return buffer.getvalue()


def test_cached_runs_equal_uncached_runs_after_any_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    # The in-process CLI counts every file as settled (its stat is trusted); flake8 and the
    # daemon run with the real clock (fresh files are compared by content).
    monkeypatch.setattr(stamp, "_run_start_ns", time.time_ns() + 10**15)
    monkeypatch.setattr(cli, "begin_run", begin_settled_run)
    monkeypatch.delenv("CI", raising=False)
    run_state_machine_as_test(
        CachedEqualsUncached,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize="CELERY_LINT_STATEFUL_EXAMPLES" not in os.environ,  # CI: the same steps every run
            suppress_health_check=list(HealthCheck),
        ),
    )
    print(f"stateful cache test: {STATS}")
    assert STATS["cli"] >= EXAMPLES and STATS["doors"] >= 1, STATS
