"""Inputs that crash or stall libcst's parser give CLY000, never a crash, and the rest is linted."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

HEADER = "from celery import shared_task\n"
PATHOLOGICAL = {
    "parens": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "and_chain": "x = " + " and ".join(["a"] * 20000) + "\n",
    "plus_chain_multiline": "x = (\n" + " +\n".join(["a"] * 100000) + ")\n",
    "attribute_chain": "x = a" + ".b" * 20000 + "\n",
    "string_run": "x = " + " ".join(['"a"'] * 20000) + "\n",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_file_is_reported_not_crashed(name: str, tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(HEADER + PATHOLOGICAL[name])
    (tmp_path / "good.py").write_text(HEADER + "\n@shared_task\ndef ok():\n    return 1\n")
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "celery_lint", "--output-format", "json", "bad.py", "good.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    codes = {(f["filename"], f["code"]) for f in json.loads(proc.stdout)}
    assert codes == {("bad.py", "CLY000"), ("good.py", "CLY101")}
    assert elapsed < 60


def test_linted_code_is_never_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    (tmp_path / "evil.py").write_text(
        f"from celery import shared_task\nopen({str(marker)!r}, 'w').write('x')\nimport sys\nsys.exit(3)\n"
        "@shared_task\ndef t():\n    return 1\n"
    )
    proc = subprocess.run([sys.executable, "-m", "celery_lint", "evil.py"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1 and "CLY101" in proc.stdout
    assert not marker.exists()


def test_symlink_loops_terminate(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "loop").symlink_to(pkg, target_is_directory=True)
    (pkg / "t.py").write_text(HEADER + "@shared_task\ndef t():\n    return 1\n")
    proc = subprocess.run([sys.executable, "-m", "celery_lint", "pkg"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout.count(": CLY101 ") == 1


def test_huge_file_completes(tmp_path: Path) -> None:
    count = 3000
    body = "".join(f"@shared_task\ndef task_{i}(x):\n    print(x)\n\n" for i in range(count))
    (tmp_path / "huge.py").write_text(HEADER + "\n" + body)
    proc = subprocess.run(
        [sys.executable, "-m", "celery_lint", "--select", "CLY101", "huge.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    assert proc.stdout.count(": CLY101 ") == count


def test_unreadable_file_is_cly000_and_the_rest_is_linted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from celery_lint import lint_paths
    from celery_lint.config.settings import Settings

    (tmp_path / "secret.py").write_text(HEADER)
    (tmp_path / "tasks.py").write_text(HEADER + "@shared_task\ndef t():\n    return 1\n")
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):  # root can read anything, so simulate EACCES
        if str(file).endswith("secret.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    findings = lint_paths([tmp_path], Settings(project_root=tmp_path))
    assert sorted((Path(f.filename).name, f.code) for f in findings) == [("secret.py", "CLY000"), ("tasks.py", "CLY101")]
    assert "cannot read file: Permission denied" in findings[0].message


def test_symlinks_out_of_the_tree_are_followed_only_when_asked(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "t.py").write_text(HEADER + "@shared_task\ndef t():\n    return 1\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "linked_dir").symlink_to(outside, target_is_directory=True)
    (tree / "linked_file.py").symlink_to(outside / "t.py")
    (tree / "loop").symlink_to(tree, target_is_directory=True)
    run = lambda *a: subprocess.run([sys.executable, "-m", "celery_lint", *a, "tree"], cwd=tmp_path, capture_output=True, text=True, timeout=60)  # noqa: E731
    assert "CLY" not in run().stdout
    followed = run("--follow-symlinks").stdout
    assert followed.count(": CLY101 ") == 2  # through the linked dir and the linked file; the loop ends


def test_new_python_syntax_is_linted_not_reported(tmp_path: Path) -> None:
    """3.12+ syntax is valid input even when celery-lint runs on an older Python."""
    source = (
        HEADER
        + "type Payload = dict[str, int]\n\n"
        + "class Box[T]:\n    item: T\n\n"
        + "def first[T](items: list[T]) -> T:\n    return items[0]\n\n"
        + "@shared_task\ndef t(name):\n"
        + "    try:\n        return f\"{f'{name!r:>{10}}'}\"\n"
        + "    except* ValueError:\n        pass\n"
        + "    try:\n        return 1\n"
        + "    except TypeError, KeyError:\n        return 2\n"
    )
    (tmp_path / "new.py").write_text(source)
    proc = subprocess.run([sys.executable, "-m", "celery_lint", "new.py"], cwd=tmp_path, capture_output=True, text=True)
    assert "CLY000" not in proc.stdout, proc.stdout
    assert "CLY101" in proc.stdout


@pytest.mark.parametrize("name", ["and_chain", "attribute_chain", "plus_chain_multiline"])
def test_pathological_file_with_the_callers_ast_is_still_reported(name: str) -> None:
    """flake8 hands over its ``ast``: the safety check walks that tree instead of parsing again."""
    import ast

    from celery_lint.config.settings import Settings
    from celery_lint.engine.core import Engine

    text = HEADER + PATHOLOGICAL[name]
    try:
        tree = ast.parse(text)
    except (RecursionError, SyntaxError, MemoryError):
        pytest.skip("CPython's own parser refuses it: flake8 reports E999 and never calls plugins")
    result = Engine(Settings()).lint_text(text, "bad.py", tree)
    assert [f.code for f in result.findings] == ["CLY000"]
