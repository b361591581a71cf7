"""The flake8 plugin: options override [tool.celery-lint], errors go through flake8's own path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TASK = 'from celery import shared_task\n\n@shared_task(name="shop.refund")\ndef refund():\n    return 1\n'


def flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--select=CLY", *args, "tasks.py"], cwd=cwd, capture_output=True, text=True
    )


def test_plugin_is_registered(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True)
    assert "celery-lint" in proc.stdout


def test_flake8_option_overrides_pyproject(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK)
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\ntask-name-prefixes = ["shop"]\n')
    assert flake8(tmp_path).stdout == ""
    proc = flake8(tmp_path, "--celery-task-name-prefixes=billing,ops")
    assert proc.returncode == 1
    assert "CLY102 task name `shop.refund` does not start with a prefix (`billing`, `ops`)" in proc.stdout


def test_flake8_options_from_setup_cfg(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK)
    (tmp_path / "setup.cfg").write_text("[flake8]\ncelery-task-name-pattern = ^billing\\.\n")
    proc = flake8(tmp_path)
    assert "does not match `task-name-pattern` `^billing\\.`" in proc.stdout


def test_numeric_option_visibility_timeout(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text("from shop.tasks import remind\n\nremind.apply_async(args=(1,), countdown=7200)\n")
    assert "CLY405 `countdown` of 2 h is longer than the broker's visibility timeout (1 h)" in flake8(tmp_path).stdout
    assert "CLY405" not in flake8(tmp_path, "--celery-visibility-timeout=43200").stdout
    proc = flake8(tmp_path, "--celery-visibility-timeout=soon")
    assert proc.returncode != 0 and "`visibility-timeout` must be a positive number of seconds" in proc.stdout + proc.stderr


def test_pyproject_selection_applies_in_flake8(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK.replace('(name="shop.refund")', ""))
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\nignore = ["CLY101"]\n')
    assert flake8(tmp_path).stdout == ""


def test_config_error_goes_through_flake8_error_path(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK)
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\nbogus = 1\n")
    proc = flake8(tmp_path)
    assert proc.returncode != 0
    assert "celery-lint: unknown key `bogus` in [tool.celery-lint]" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    (tmp_path / "pyproject.toml").unlink()
    proc = flake8(tmp_path, "--celery-require-queue=sometimes")
    assert proc.returncode != 0 and "must be one of auto, always, off" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_noqa_is_flake8s(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK.replace('(name="shop.refund")', "  # noqa: CLY101"))
    assert flake8(tmp_path).stdout == ""


def _entries(root: Path) -> list[Path]:
    return sorted((root / ".celery_lint_cache").glob("flake8-*/*.json"))


def test_findings_cache_is_used_and_never_stale(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (tmp_path / "tasks.py").write_text(TASK.replace('(name="shop.refund")', ""))
    (tmp_path / "plain.py").write_text("x = 1\n")  # never parsed: no entry
    first = flake8(tmp_path)
    assert "CLY101" in first.stdout
    (entry,) = _entries(tmp_path)
    # the second run reads the entry (proved by changing what it says)
    entry.write_text(entry.read_text().replace("has no explicit", "CACHED has no explicit"))
    assert "CACHED" in flake8(tmp_path).stdout
    # an edit of the file: linted again, the entry replaced
    (tmp_path / "tasks.py").write_text(TASK.replace('(name="shop.refund")', "") + "\n# edited\n")
    again = flake8(tmp_path)
    assert "CLY101" in again.stdout and "CACHED" not in again.stdout
    assert len(_entries(tmp_path)) == 1
    # another setting: another fingerprint, the same findings as without a cache
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\nignore = ["CLY101"]\n')
    assert flake8(tmp_path).stdout == ""
    assert flake8(tmp_path, "--celery-no-cache").stdout == ""


def test_findings_cache_follows_the_files_a_finding_depended_on(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    mail = tmp_path / "shop" / "mail.py"
    mail.write_text("import requests\n\ndef notify(url):\n    return requests.post(url, timeout=5)\n")
    (tmp_path / "tasks.py").write_text(
        "from celery import shared_task\nfrom shop.mail import notify\n\n"
        "@shared_task(name='shop.t', acks_late=True, ignore_result=True)\ndef t(url):\n    notify(url)\n"
    )
    assert "reaches non-idempotent `requests.post` through `notify() -> requests.post` (shop/mail.py:4)" in flake8(tmp_path).stdout
    mail.write_text(mail.read_text().replace("requests.post", "requests.get"))
    assert "CLY307" not in flake8(tmp_path).stdout  # tasks.py is unchanged; its entry is not reused


def test_no_cache_option_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK.replace('(name="shop.refund")', ""))
    assert "CLY101" in flake8(tmp_path, "--celery-no-cache").stdout
    assert _entries(tmp_path) == []


def test_old_fingerprint_directories_are_pruned(tmp_path: Path) -> None:
    import os

    (tmp_path / "tasks.py").write_text(TASK.replace('(name="shop.refund")', ""))
    cache = tmp_path / ".celery_lint_cache"
    for number in range(6):
        old = cache / f"flake8-old{number}"
        old.mkdir(parents=True)
        os.utime(old, (1000 + number, 1000 + number))
    flake8(tmp_path)
    left = sorted(d.name for d in cache.glob("flake8-*"))
    assert len(left) == 4 and "flake8-old5" in left and "flake8-old0" not in left


def test_findings_cache_entries_that_are_corrupt_are_linted_again(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text(TASK.replace('(name="shop.refund")', ""))
    first = flake8(tmp_path)
    (entry,) = _entries(tmp_path)
    for garbage in ("{not json", '["a list"]', '{"hash": 1, "deps": [], "findings": "x"}'):
        entry.write_text(garbage)
        again = flake8(tmp_path)
        assert again.stdout == first.stdout and "Traceback" not in again.stderr
