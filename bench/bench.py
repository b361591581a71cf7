"""Benchmark celery-lint against celery-audit and ruff on a tree you provide.

Fetches nothing. Runs each tool on the tree in alternation, N rounds, and prints medians,
the largest process's peak memory, and the ratios the performance targets are written in.

    python bench/bench.py /path/to/saleor --rounds 5 \\
        --audit-config saleor/settings.py --audit-config saleor/celeryconf.py --audit-namespace CELERY

Tools are looked up on PATH (or --celery-lint / --celery-audit / --ruff); a tool that is
missing is skipped and its ratio reported as n/a. ``--scale`` adds runs on the first
quarter and half of the tree's files (sorted), to show how time grows with size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and the peak RSS (KiB) of the largest process of ``command``'s tree."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    del before
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{command[0]} failed with status {os.waitstatus_to_exitcode(status)}: {' '.join(command)}")
    return elapsed, usage.ru_maxrss


def python_files(tree: Path) -> list[str]:
    skip = {".git", ".venv", "venv", "node_modules", "build", "dist", ".celery_lint_cache"}
    found = []
    for directory, dirnames, filenames in os.walk(tree):
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        found.extend(os.path.relpath(os.path.join(directory, f), tree) for f in filenames if f.endswith(".py"))
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--celery-lint", default=shutil.which("celery-lint") or "celery-lint")
    parser.add_argument("--celery-audit", default=shutil.which("celery-audit"))
    parser.add_argument("--ruff", default=shutil.which("ruff"))
    parser.add_argument("--audit-config", action="append", default=[], help="celery-audit --config (repeatable)")
    parser.add_argument("--audit-namespace", help="celery-audit --settings-namespace")
    parser.add_argument("--jobs", type=int, help="celery-lint --jobs (default: its own default, all cores)")
    parser.add_argument("--scale", action="store_true", help="also time a quarter and a half of the tree's files")
    args = parser.parse_args()
    tree = args.tree.resolve()
    cache_dir = Path(tempfile.mkdtemp(prefix="celery-lint-bench-cache-"))
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    lint = [args.celery_lint, "--exit-zero", *jobs]

    commands: dict[str, list[str]] = {
        "celery-lint cold": [*lint, "--no-cache", "."],
        "celery-lint warm": [*lint, "--cache-dir", str(cache_dir), "."],
    }
    if args.celery_audit:
        audit = [args.celery_audit, ".", "--fail-on", "critical"]
        for config in args.audit_config:
            audit += ["--config", config]
        if args.audit_namespace:
            audit += ["--settings-namespace", args.audit_namespace]
        commands["celery-audit"] = audit
    if args.ruff:
        commands["ruff --no-cache"] = [args.ruff, "check", "--no-cache", "--exit-zero", "-q", "."]
    if args.scale:
        files = python_files(tree)
        for label, fraction in (("quarter", 4), ("half", 2)):
            commands[f"celery-lint cold, {label} ({len(files) // fraction} files)"] = [
                *lint,
                "--no-cache",
                *files[: len(files) // fraction],
            ]

    timed(commands["celery-lint warm"], tree)  # prime the cache
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for round_number in range(args.rounds):
        for name, command in commands.items():  # in alternation: one of each per round
            samples[name].append(timed(command, tree))
        print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)
    shutil.rmtree(cache_dir, ignore_errors=True)

    print(f"tree: {tree}  ({len(python_files(tree))} Python files)  rounds: {args.rounds}")
    print(f"{'tool':<48} {'median s':>9} {'min s':>7} {'peak MiB':>9}")
    medians = {}
    for name, values in samples.items():
        times = [t for t, _ in values]
        peak = max(m for _, m in values) / 1024
        medians[name] = statistics.median(times)
        print(f"{name:<48} {medians[name]:>9.2f} {min(times):>7.2f} {peak:>9.0f}")

    def ratio(a: str, b: str) -> str:
        return f"{medians[a] / medians[b]:.3f}x" if a in medians and b in medians else "n/a"

    print()
    print(f"cold / celery-audit     = {ratio('celery-lint cold', 'celery-audit')}   (target <= 0.15x)")
    print(f"warm / ruff --no-cache  = {ratio('celery-lint warm', 'ruff --no-cache')}   (target <= 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
