"""The daemon's file watcher and the index snapshots it keeps (Linux: inotify)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Iterator

import pytest

from celery_lint import watch
from celery_lint.config import Settings, load_settings
from celery_lint.files import discover
from celery_lint.index import build_index, index_from_snapshot

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")

TASKS = """\
from celery import shared_task


@shared_task(name="shop.refund")
def refund(pk):
    return pk
"""
VIEWS = """\
from shop.tasks import refund


def view(pk):
    return refund.delay(pk).get()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "shop" / "sub").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "tasks.py").write_text(TASKS)
    (root / "shop" / "views.py").write_text(VIEWS)
    (root / "shop" / "sub" / "plain.py").write_text("x = 1\n")
    return root


@pytest.fixture
def watcher() -> Iterator[watch.Watcher]:
    found = watch.Watcher()
    yield found
    found.close()


def _settings(project: Path) -> Settings:
    return load_settings(project)


def _full_digest(settings: Settings, cache: Path) -> str:
    return build_index(settings, discover([str(settings.project_root)], settings), cache).digest()


def _snapshot_index(watcher: watch.Watcher, settings: Settings, cache: Path):  # type: ignore[no-untyped-def]
    watcher.drain()
    found = watcher.lookup(settings, cache)
    if found is None:
        return None
    return index_from_snapshot(settings, cache, *found)


def test_snapshot_then_edits_give_the_index_a_full_walk_gives(project: Path, watcher: watch.Watcher, tmp_path: Path) -> None:
    settings = _settings(project)
    cache = tmp_path / "cache"
    watcher.take(str(project), cache)
    assert str(project) not in watcher.unwatchable
    unchanged = _snapshot_index(watcher, settings, cache)
    assert unchanged is not None and unchanged.digest() == _full_digest(settings, cache)
    # a task renamed, a file gaining facts (a task), one losing them (its dispatch and wait)
    (project / "shop" / "tasks.py").write_text(TASKS.replace("shop.refund", "shop.refund_v2"))
    (project / "shop" / "sub" / "plain.py").write_text(TASKS.replace("refund", "ship"))
    (project / "shop" / "views.py").write_text("x = 2\n")
    watcher.drain()
    found = watcher.lookup(settings, cache)
    assert found is not None
    assert found[1] == {str(project / "shop" / n) for n in ("tasks.py", "views.py", "sub/plain.py")}
    edited = index_from_snapshot(settings, cache, *found)
    assert edited is not None
    assert {t.name for t in edited.tasks} == {"shop.refund_v2", "shop.ship"} and not edited.awaited
    assert edited.digest() == _full_digest(settings, cache)
    assert [t.name for t in edited.tasks] == [t.name for t in build_index(settings, discover([str(project)], settings), None).tasks]


def test_a_new_or_removed_python_file_means_a_walk(project: Path, watcher: watch.Watcher, tmp_path: Path) -> None:
    settings = _settings(project)
    watcher.take(str(project), None)
    (project / "shop" / "notes.txt").write_text("not Python\n")  # not a project file: still usable
    assert _snapshot_index(watcher, settings, None) is not None
    (project / "shop" / "new.py").write_text(TASKS)
    assert _snapshot_index(watcher, settings, None) is None
    watcher.take(str(project), None)
    assert _snapshot_index(watcher, settings, None) is not None
    (project / "shop" / "sub" / "plain.py").unlink()
    assert _snapshot_index(watcher, settings, None) is None


def test_an_editor_saving_by_rename_is_a_change_not_a_new_file(project: Path, watcher: watch.Watcher) -> None:
    settings = _settings(project)
    watcher.take(str(project), None)
    temporary = project / "shop" / ".tasks.py.swp"
    temporary.write_text(TASKS.replace("shop.refund", "shop.saved"))
    os.replace(temporary, project / "shop" / "tasks.py")
    built = _snapshot_index(watcher, settings, None)
    assert built is not None and [t.name for t in built.tasks] == ["shop.saved"]


@pytest.mark.parametrize("change", ["mkdir", "rmdir", "rename", "chmod", "venv"])
def test_directory_changes_mean_a_walk(project: Path, watcher: watch.Watcher, change: str) -> None:
    settings = _settings(project)
    watcher.take(str(project), None)
    sub = project / "shop" / "sub"
    if change == "mkdir":
        (project / "shop" / "more").mkdir()
    elif change == "rmdir":
        (sub / "plain.py").unlink()
        sub.rmdir()
    elif change == "rename":
        sub.rename(project / "shop" / "moved")
    elif change == "chmod":
        sub.chmod(0o700)
    else:
        (sub / "pyvenv.cfg").write_text("home = /usr\n")  # discovery skips virtualenvs
    assert _snapshot_index(watcher, settings, None) is None


def test_other_settings_or_cache_directory_mean_a_walk(project: Path, watcher: watch.Watcher, tmp_path: Path) -> None:
    settings = _settings(project)
    watcher.take(str(project), tmp_path / "cache")
    assert _snapshot_index(watcher, settings, tmp_path / "cache") is not None
    assert _snapshot_index(watcher, settings.replace(src=("shop",)), tmp_path / "cache") is None
    assert _snapshot_index(watcher, settings, tmp_path / "elsewhere") is None


def test_lost_events_mean_a_walk(project: Path, watcher: watch.Watcher) -> None:
    settings = _settings(project)
    watcher.take(str(project), None)
    watcher._event(-1, watch.IN_Q_OVERFLOW, "")
    assert _snapshot_index(watcher, settings, None) is None


def test_too_many_changes_mean_a_walk(project: Path, watcher: watch.Watcher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "MAX_CHANGED", 2)
    settings = _settings(project)
    watcher.take(str(project), None)
    for name in ("tasks.py", "views.py", "__init__.py"):
        (project / "shop" / name).write_text("x = 1\n")
    assert _snapshot_index(watcher, settings, None) is None


def test_watch_limit_leaves_the_project_unwatched(project: Path, watcher: watch.Watcher, monkeypatch: pytest.MonkeyPatch) -> None:
    real = watch.Watcher._add
    calls: list[str] = []

    def limited(self, directory: str) -> None:  # type: ignore[no-untyped-def]
        calls.append(directory)
        if len(calls) > 2:
            raise watch.WatchUnavailable("inotify's watch limit reached (fs.inotify.max_user_watches)")
        real(self, directory)

    monkeypatch.setattr(watch.Watcher, "_add", limited)
    watcher.take(str(project), None)
    assert "watch limit" in watcher.unwatchable[str(project)]
    assert watcher.directories == {}  # the watches it had added are removed
    assert _snapshot_index(watcher, _settings(project), None) is None
    watcher.indexed(project, None)
    assert not watcher.pending  # not tried again


def test_real_watch_limit(project: Path, watcher: watch.Watcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """inotify_add_watch failing with ENOSPC is the limit."""
    import errno

    class NoSpace:
        def inotify_add_watch(self, fd: int, path: bytes, mask: int) -> int:
            import ctypes

            ctypes.set_errno(errno.ENOSPC)
            return -1

        def inotify_rm_watch(self, fd: int, wd: int) -> int:
            return 0

    monkeypatch.setattr(watcher, "_libc", NoSpace())
    watcher.take(str(project), None)
    assert "max_user_watches" in watcher.unwatchable[str(project)]


def test_network_file_systems_are_not_watched(project: Path, watcher: watch.Watcher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "file_system_type", lambda path: 0x6969)  # NFS
    watcher.take(str(project), None)
    assert "not a local file system" in watcher.unwatchable[str(project)]
    assert watcher.directories == {}


def test_this_machines_file_system_is_known() -> None:
    """Not vacuous: the tests above ran on a watched file system."""
    assert watch.file_system_type(os.getcwd()) in watch.LOCAL_FILE_SYSTEMS


def test_symlinked_python_files_leave_the_project_unwatched(project: Path, watcher: watch.Watcher) -> None:
    (project / "shop" / "alias.py").symlink_to(project / "shop" / "tasks.py")
    watcher.take(str(project), None)
    assert "symbolic link" in watcher.unwatchable[str(project)]


def test_excluded_directories_are_not_watched(project: Path, watcher: watch.Watcher) -> None:
    (project / "node_modules" / "pkg").mkdir(parents=True)
    (project / ".venv").mkdir()
    (project / ".venv" / "pyvenv.cfg").write_text("home = /usr\n")
    watcher.take(str(project), None)
    watched = set(watcher.directories.values())
    assert str(project / "shop" / "sub") in watched
    assert not any("node_modules" in d or ".venv" in d for d in watched)


def test_projects_beyond_the_limit_are_forgotten(tmp_path: Path, watcher: watch.Watcher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "MAX_PROJECTS", 2)
    roots = []
    for number in range(3):
        root = tmp_path / f"p{number}"
        (root / "pkg").mkdir(parents=True)
        (root / "pyproject.toml").write_text("[tool.celery-lint]\n")
        (root / "pkg" / "tasks.py").write_text(TASKS)
        roots.append(root)
        watcher.take(str(root), None)
    assert list(watcher.projects) == [str(roots[1]), str(roots[2])]
    assert not any(d.startswith(str(roots[0])) for d in watcher.directories.values())


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, True), ({watch.ENV_WATCH: "0"}, False), ({watch.ENV_WATCH: "off"}, False), ({watch.ENV_WATCH: "1"}, True)],
)
def test_switch(environ: dict[str, str], expected: bool) -> None:
    assert watch.enabled(environ) is expected


def test_events_parse() -> None:
    name = b"tasks.py\0\0\0\0\0\0\0\0"
    data = watch._EVENT.pack(3, watch.IN_MODIFY, 0, len(name)) + name + watch._EVENT.pack(4, watch.IN_Q_OVERFLOW, 0, 0)
    assert list(watch._events(data)) == [(3, watch.IN_MODIFY, "tasks.py"), (4, watch.IN_Q_OVERFLOW, "")]


def test_report_round_trip(tmp_path: Path) -> None:
    lines: list[str] = []
    watch.reporter(lines.append)(tmp_path / "proj", tmp_path / "cache")
    watch.reporter(lines.append)(tmp_path / "proj", None)
    assert [watch.parse_report(line) for line in lines] == [(tmp_path / "proj", tmp_path / "cache"), (tmp_path / "proj", None)]
    assert watch.parse_report("/some/index-file.json") is None


def test_snapshot_index_is_not_changed_by_a_run(project: Path, watcher: watch.Watcher) -> None:
    """Runs get their own copies: a config module merged into one run's index does not
    leak into the snapshot the next run starts from."""
    (project / "shop" / "celeryconfig.py").write_text("task_acks_late = True\n")
    (project / "shop" / "app.py").write_text(
        textwrap.dedent(
            """
            from celery import Celery
            app = Celery("shop")
            app.config_from_object("shop.celeryconfig")
            """
        )
    )
    settings = _settings(project)
    watcher.take(str(project), None)
    snapshot = watcher.projects[str(project)].snapshot
    assert snapshot is not None
    before = {rel: (facts.settings.copy()) for rel, facts in snapshot.collected.modules.items()}
    first = _snapshot_index(watcher, settings, None)
    assert first is not None and first.setting("task_acks_late") is True
    assert {rel: facts.settings for rel, facts in snapshot.collected.modules.items()} == before


def test_snapshots_wait_for_a_quiet_moment_but_not_forever(project: Path, watcher: watch.Watcher, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(watch.time, "monotonic", lambda: now[0])
    assert not watcher.due(idle=True)  # nothing to take
    watcher.indexed(project, None)
    assert watcher.due(idle=True) and not watcher.due(idle=False)
    now[0] += watch.MAX_DEFER_SECONDS + 0.1
    assert watcher.due(idle=False)  # requests keep coming: taken anyway
    watcher.take_pending()
    assert not watcher.pending and watcher.projects[str(project)].snapshot is not None


def test_taking_a_snapshot_again_rereads_only_changed_files(project: Path, watcher: watch.Watcher, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(project)
    walks: list[str] = []
    real = watch.Watcher._watch_tree

    def counted(self, root: str, settings: Settings) -> bool:  # type: ignore[no-untyped-def]
        walks.append(root)
        return real(self, root, settings)

    monkeypatch.setattr(watch.Watcher, "_watch_tree", counted)
    watcher.take(str(project), None)
    (project / "shop" / "tasks.py").write_text(TASKS.replace("shop.refund", "shop.refund_v2"))
    watcher.take(str(project), None)
    assert len(walks) == 1
    project_state = watcher.projects[str(project)]
    assert project_state.changed == set() and project_state.snapshot is not None
    assert [t.name for t in project_state.snapshot.collected.modules["shop/tasks.py"].tasks] == ["shop.refund_v2"]
    built = _snapshot_index(watcher, settings, None)
    assert built is not None and built.digest() == _full_digest(settings, None)  # type: ignore[arg-type]
    (project / "shop" / "new.py").write_text("x = 1\n")  # the set of files changed: a walk is needed
    watcher.take(str(project), None)
    assert len(walks) == 2 and watcher.projects[str(project)].snapshot is not None


def test_a_directory_moved_out_of_the_project_is_no_longer_watched(project: Path, watcher: watch.Watcher, tmp_path: Path) -> None:
    settings = _settings(project)
    watcher.take(str(project), None)
    (project / "shop" / "sub").rename(tmp_path / "elsewhere")
    assert _snapshot_index(watcher, settings, None) is None  # the set of files changed
    watcher.take(str(project), None)
    assert str(project / "shop" / "sub") not in watcher.directories.values()
    (tmp_path / "elsewhere" / "plain.py").write_text("x = 2\n")  # outside: not a change of the project
    watcher.drain()
    found = watcher.lookup(settings, None)
    assert found is not None and found[1] == set()
