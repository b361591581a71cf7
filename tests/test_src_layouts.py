"""Names are pinned only when certain (issue 17, item 7): CLY101's fix pins the name a
real Celery registers, on a flat layout, a src layout and a configured `src` root; a
`src` root that is a package is a configuration error; a module whose name depends on
the worker's `sys.path` gets no fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("celery")

APP = "from celery import Celery\n\napp = Celery('shop')\n"
TASKS = "from celery import shared_task\n\n\n@shared_task\ndef send_invoice(pk):\n    return pk\n"
REGISTERED = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
for name in sys.argv[2:]:
    importlib.import_module(name)
from shop.celery import app
app.finalize(auto=True)
print(json.dumps(sorted(n for n in app.tasks if not n.startswith("celery."))))
"""


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "celery_lint", "--no-cache", *args], cwd=cwd, capture_output=True, text=True)


def registered(sys_path: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", REGISTERED, str(sys_path), "shop.tasks", "shop.billing.tasks"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def make(base: Path) -> None:
    (base / "shop" / "billing").mkdir(parents=True)
    (base / "shop" / "__init__.py").write_text("")
    (base / "shop" / "billing" / "__init__.py").write_text("")
    (base / "shop" / "celery.py").write_text(APP)
    (base / "shop" / "tasks.py").write_text(TASKS)
    (base / "shop" / "billing" / "tasks.py").write_text(TASKS.replace("send_invoice", "refund"))


@pytest.mark.parametrize(
    ("layout", "config"),
    [
        ("", ""),  # flat: the packages in the project root
        ("src", ""),  # src layout, found without configuration
        ("lib", 'src = ["lib"]\n'),  # a configured source root
    ],
)
def test_the_pinned_name_is_the_one_celery_registers(tmp_path: Path, layout: str, config: str) -> None:
    base = tmp_path / layout if layout else tmp_path
    make(base)
    (tmp_path / "pyproject.toml").write_text(f"[tool.celery-lint]\n{config}")
    before = registered(base)
    assert before == ["shop.billing.tasks.refund", "shop.tasks.send_invoice"]
    proc = cli(tmp_path, "--fix", "--select", "CLY101", ".")
    assert "Fixed 2 findings" in proc.stdout, proc.stdout + proc.stderr
    assert registered(base) == before  # nothing registered changed...
    text = (base / "shop" / "tasks.py").read_text()
    assert '@shared_task(name="shop.tasks.send_invoice")' in text  # ...and the name is pinned


def test_a_src_root_that_is_a_package_is_a_configuration_error(tmp_path: Path) -> None:
    make(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\nsrc = ["shop"]\n')
    proc = cli(tmp_path, ".")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "`src` entry `shop` is a package (shop/__init__.py)" in proc.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\nsrc = ["shop/billing"]\n')
    proc = cli(tmp_path, ".")
    assert proc.returncode == 2 and "is a package" in proc.stderr


def test_a_module_in_a_plain_directory_gets_no_fix(tmp_path: Path) -> None:
    """`scripts/jobs.py` is `jobs` with `scripts/` on sys.path, `scripts.jobs` from the root."""
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "jobs.py").write_text(TASKS)
    proc = cli(tmp_path, "--select", "CLY101", ".")
    assert "[*]" not in proc.stdout and "when the worker imports this file as `jobs`" in proc.stdout
    proc = cli(tmp_path, "--fix", "--select", "CLY101", ".")
    assert (tmp_path / "scripts" / "jobs.py").read_text() == TASKS
