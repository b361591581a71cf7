"""--fix and --add-noqa replace files atomically (issue 17, item 3)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from celery_lint.run import files
from celery_lint.run.files import write_atomically

SOURCE = "from celery import shared_task\n\n@shared_task\ndef send(pk):\n    return pk\n"


def test_the_mode_is_kept_and_a_symlink_keeps_pointing_at_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.py"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.py"
    link.symlink_to(target)
    write_atomically(str(link), b"new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.py", "real.py"]


@pytest.mark.parametrize("fail_at", ["write", "fsync", "replace"])
def test_a_write_that_fails_half_way_leaves_the_original_whole(tmp_path: Path, monkeypatch, fail_at: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tasks.py"
    path.write_text(SOURCE)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    if fail_at == "write":
        real_fdopen = os.fdopen

        class Half:
            def __init__(self, handle):  # type: ignore[no-untyped-def]
                self.handle = handle

            def __enter__(self):  # type: ignore[no-untyped-def]
                return self

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                self.handle.close()

            def write(self, data: bytes) -> None:
                self.handle.write(data[: len(data) // 2])
                self.handle.flush()
                boom()

        monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: Half(real_fdopen(fd, mode)))
    else:
        monkeypatch.setattr(files.os, fail_at, boom)
    with pytest.raises(OSError):
        write_atomically(str(path), b"x" * 100_000)
    assert path.read_text() == SOURCE
    assert [p.name for p in tmp_path.iterdir()] == ["tasks.py"]  # no temporary file left


@pytest.mark.parametrize("flag", ["--fix", "--add-noqa"])
def test_fix_and_add_noqa_report_an_unwritable_directory_and_keep_the_file(tmp_path: Path, monkeypatch, capsys, flag: str) -> None:  # type: ignore[no-untyped-def]
    """A directory the user may not write (simulated: the tests run as root) is a clear
    error, exit 2 for --add-noqa and CLY000 for --fix, with the file untouched."""
    from celery_lint.doors.cli import run_in_process

    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    path = tmp_path / "shop" / "tasks.py"
    path.write_text(SOURCE)

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", denied)
    monkeypatch.chdir(tmp_path)
    status = run_in_process(["--no-cache", "--jobs", "1", flag, "shop"])
    out = capsys.readouterr()
    assert path.read_text() == SOURCE
    assert "Permission denied" in out.out + out.err
    assert status == (2 if flag == "--add-noqa" else 1)


def test_fix_writes_through_the_atomic_path(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").touch()
    path = tmp_path / "shop" / "tasks.py"
    path.write_text(SOURCE)
    path.chmod(0o600)
    proc = subprocess.run([sys.executable, "-m", "celery_lint", "--no-cache", "--fix", "--select", "CLY101", "shop"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '@shared_task(name="shop.tasks.send")' in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["__init__.py", "tasks.py"]


@pytest.mark.parametrize("args", [["--diff"], ["--fix"], []])
def test_every_run_that_makes_the_cache_directory_writes_its_gitignore(tmp_path: Path, args: list[str]) -> None:
    """Issue 17, item 8: `git add -A` must not pick the cache up, whichever writer came first."""
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "tasks.py").write_text(SOURCE)
    subprocess.run([sys.executable, "-m", "celery_lint", *args, "."], cwd=tmp_path, capture_output=True, text=True)
    cache = tmp_path / ".celery_lint_cache"
    assert cache.is_dir() and (cache / ".gitignore").read_text().endswith("*\n")
