"""One freshness rule for every cache (issue 17, items 1 and 3 of "Why").

Each test reproduces a way a cached run used to differ from a ``--no-cache`` run: an edit
during a run, an edit whose mtime was restored, an edit within one clock tick, an
``__init__.py`` added, an app module changed, and ``flake8 --celery-no-cache`` reading the
index cache. Files written by a test are normally too recent to be trusted by stat (the
racy rule); ``settled`` moves the run's start ten granularities ahead so that the stat
shortcut itself is what is tested.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from celery_lint.config import stamp
from celery_lint.doors import cli
from tests.conftest import begin_settled_run
from celery_lint.engine import core

TASKS = (
    "from celery import shared_task\n\n"
    "@shared_task\ndef resize(pk):\n    return pk\n"
)
VIEWS = "from shop.tasks import resize\n\n\ndef view():\n    resize.delay(1)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "tasks.py").write_text(TASKS)
    (tmp_path / "shop" / "views.py").write_text(VIEWS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file written so far counts as quiet for long enough to be trusted by stat."""
    monkeypatch.setattr(stamp, "_run_start_ns", time.time_ns() + 10 * stamp.GRANULARITY_NS)
    monkeypatch.setattr(cli, "begin_run", begin_settled_run)


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> list[tuple[str, str, int]]:
    cli.run_in_process(["--output-format", "json", "--jobs", "1", *args])
    found = json.loads(capsys.readouterr().out)
    return sorted((f["filename"].removeprefix("./"), f["code"], f["line"]) for f in found)


def same_as_uncached(capsys: pytest.CaptureFixture[str], *paths: str) -> list[tuple[str, str, int]]:
    cached = lint(capsys, *paths)
    assert cached == lint(capsys, "--no-cache", *paths)
    return cached


def test_a_file_edited_during_a_run_is_linted_again(project: Path, capsys, settled, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`celery-lint . & sleep 10; echo ... >> proj/views.py`: the edit lands after the read."""
    real = core.Engine.lint_bytes

    def edit_after_reading(self: core.Engine, data: bytes, path: str) -> object:
        result = real(self, data, path)
        if path.endswith("views.py"):
            with open(path, "a") as handle:
                handle.write("    resize.delay(7, countdown=5)\n")
        return result

    monkeypatch.setattr(core.Engine, "lint_bytes", edit_after_reading)
    lint(capsys, ".")
    monkeypatch.setattr(core.Engine, "lint_bytes", real)
    findings = same_as_uncached(capsys, "shop/views.py")
    assert ("shop/views.py", "CLY208", 6) in findings


def test_a_same_size_edit_with_its_mtime_restored_is_seen(project: Path, capsys, settled) -> None:  # type: ignore[no-untyped-def]
    """`cp -p`, `tar`, `rsync -t`: same size, same mtime, other bytes."""
    views = project / "shop" / "views.py"
    before = lint(capsys, ".")
    st = views.stat()
    views.write_text(VIEWS.replace("resize.delay(1)", "resize.delay()"))  # a missing argument: CLY407
    views.write_text(views.read_text() + " ")  # the same size as before
    os.utime(views, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert views.stat().st_size == st.st_size and views.stat().st_mtime_ns == st.st_mtime_ns
    after = same_as_uncached(capsys, ".")
    assert after != before and any(code == "CLY407" for _, code, _ in after)


def test_an_edit_within_one_clock_tick_is_seen(project: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A file system with one-second timestamps (and no ctime to tell): a warm run, then a
    same-size fix within that second; `--fix` must not write the old typo back."""
    real_stat = os.stat

    class Coarse:  # a stat as such a file system gives it: whole seconds, ctime no finer
        def __init__(self, st: os.stat_result) -> None:
            self._st = st
            second = st.st_mtime_ns // 1_000_000_000 * 1_000_000_000
            self.st_mtime_ns = self.st_ctime_ns = second
            self.st_mtime = self.st_ctime = second / 1e9

        def __getattr__(self, name: str) -> object:
            return getattr(self._st, name)

    monkeypatch.setattr(os, "stat", lambda path, *a, **k: Coarse(real_stat(path, *a, **k)))
    views = project / "shop" / "views.py"
    views.write_text("from shop.tasks import resize\n\n\ndef view():\n    resize.delay(1, countdwn=50)\n")
    lint(capsys, ".")
    st = views.stat()
    views.write_text("from shop.tasks import resize\n\n\ndef view():\n    resize.delay(1, countdown=5)\n")
    os.utime(views, ns=(st.st_atime_ns, st.st_mtime_ns))  # the same second
    same_as_uncached(capsys, ".")


def test_adding_an_init_renames_modules_in_every_cache(project: Path, capsys, settled) -> None:  # type: ignore[no-untyped-def]
    """Adding the missing `__init__.py` is the usual fix of CLY701/CLY408 on a name."""
    (project / "shop" / "__init__.py").unlink()
    (project / "shop" / "beat.py").write_text(
        "from celery import Celery\n\napp = Celery('shop')\n"
        "app.conf.beat_schedule = {'r': {'task': 'shop.tasks.resize', 'schedule': 60.0}}\n"
    )
    before = lint(capsys, ".")
    (project / "shop" / "__init__.py").write_text("")
    after = same_as_uncached(capsys, ".")
    assert before != after
    (project / "shop" / "__init__.py").unlink()
    assert same_as_uncached(capsys, ".") == before


def test_changing_the_app_module_reaches_the_cached_index(project: Path, capsys, settled) -> None:  # type: ignore[no-untyped-def]
    """`app = Celery("shop")` -> `app = make_app("shop")` and back."""
    celery = project / "shop" / "celery_setup.py"  # not a name trusted to hold an app: what it makes decides
    celery.write_text("from celery import Celery\n\napp = Celery('shop')\n")
    (project / "shop" / "tasks.py").write_text(
        "from shop.celery_setup import app\n\n@app.task\ndef resize(pk):\n    return pk\n"
    )
    (project / "shop" / "views.py").write_text(
        "from shop.celery_setup import app\n\n\ndef view():\n    app.send_task('shop.tasks.resize')\n"
    )
    made = same_as_uncached(capsys, ".")
    celery.write_text("def make_app(name):\n    return name\n\napp = make_app('shop')\n")
    plain = same_as_uncached(capsys, ".")
    assert made != plain and ("shop/views.py", "CLY408", 5) in plain  # no app: no task of that name
    celery.write_text("from celery import Celery\n\napp = Celery('shop')\n")
    assert same_as_uncached(capsys, ".") == made


def flake8(cwd: Path, *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=CLY", *args, "."], cwd=cwd, capture_output=True, text=True
    )
    assert proc.returncode in (0, 1), proc.stderr
    return sorted(proc.stdout.splitlines())


def test_flake8_sees_an_added_init(project: Path) -> None:
    (project / "shop" / "__init__.py").unlink()
    before = flake8(project)
    (project / "shop" / "__init__.py").write_text("")
    assert flake8(project) == flake8(project, "--celery-no-cache") != before


def test_flake8_no_cache_reads_no_index_cache(project: Path) -> None:
    (project / "shop" / "beat.py").write_text(
        "from celery import Celery\n\napp = Celery('shop')\n"
        "app.conf.beat_schedule = {'r': {'task': 'shop.tasks.resize', 'schedule': 60.0}}\n"
    )
    expected = flake8(project, "--celery-no-cache")
    assert not (project / ".celery_lint_cache").exists()  # nothing read, nothing written
    flake8(project)
    [index] = (project / ".celery_lint_cache").glob("index-*.json")
    entries = json.loads(index.read_text())
    entry = entries["shop/tasks.py"]
    entry["facts"]["tasks"][0]["name"] = "shop.tasks.bogus"  # a wrong picture of the project
    entry["stat"] = stamp.current_stat(str(project / "shop" / "tasks.py"))
    index.write_text(json.dumps(entries))
    assert any("CLY701" in line for line in flake8(project))  # the cached picture is used...
    assert flake8(project, "--celery-no-cache") == expected  # ...but never under --celery-no-cache


def test_a_snapshot_is_only_taken_of_a_settled_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.py"
    path.write_text("x = 1\n")
    stamp.begin_run()
    assert stamp.snapshot(str(path)) is None  # written within the granularity of the run's start
    monkeypatch.setattr(stamp, "_run_start_ns", time.time_ns() + 10 * stamp.GRANULARITY_NS)
    assert stamp.snapshot(str(path)) == stamp.current_stat(str(path))
    assert stamp.snapshot(str(tmp_path / "missing.py")) is None


def test_module_names_of_the_fast_path_equal_module_name_for(tmp_path: Path) -> None:
    from celery_lint.model.source import ModuleNames, module_name_for

    for rel in ["pkg/__init__.py", "pkg/sub/__init__.py", "src/lib/__init__.py", "plain/x"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    roots = ((tmp_path / "src").resolve(),)
    names = ModuleNames(roots)
    for rel in ["pkg/a.py", "pkg/__init__.py", "pkg/sub/b.py", "pkg/ns/c.py", "src/lib/d.py", "src/e.py",
                "plain/f.py", "g.py", "pkg/h.txt", "pkg/.py", "pkg/bad-name.py", "src/__init__.py"]:
        path = str(tmp_path / rel)
        assert names(path) == module_name_for(path, roots), rel


def test_no_cache_bypasses_the_in_memory_memos_too(project: Path, capsys, settled) -> None:  # type: ignore[no-untyped-def]
    """A daemon's server keeps parsed app modules and pyproject tables for the runs it
    forks; `--no-cache` must not read them (here: a poisoned memo of the app module)."""
    import ast

    from celery_lint.model import source

    (project / "shop" / "celery_setup.py").write_text("from celery import Celery\n\napp = Celery('shop')\n")
    (project / "shop" / "tasks.py").write_text(
        "from shop.celery_setup import app\n\n@app.task(name='shop.resize')\ndef resize(pk):\n    return pk\n"
    )
    (project / "shop" / "views.py").write_text(
        "from shop.celery_setup import app\n\n\ndef view():\n    app.send_task('shop.resize')\n"
    )
    clean = lint(capsys, "--no-cache", ".")
    path = str(project / "shop" / "celery_setup.py")
    key = stamp.stat_key(os.stat(path))
    source._FILE_TREES[path] = (key, ast.parse("app = 1\n"))  # what an earlier read left, wrongly
    try:
        assert lint(capsys, "--no-cache", ".") == clean
    finally:
        source._FILE_TREES.pop(path, None)
