"""Time two celery-lint installations on one tree, in alternation: before and after a change.

    python bench/ab.py /path/to/saleor --before /venv-old/bin/celery-lint --after /venv-new/bin/celery-lint --rounds 10

Each round runs, in turn, a cold run (``--no-cache``) and a warm run (a cache directory of
its own, primed once) of each installation, so both see the same machine load. Prints
the median and minimum wall time and the median CPU time of each, and after/before.
Install the "after" tree non-editable, or compile it first (``python -m compileall``):
with ``PYTHONDONTWRITEBYTECODE`` set an editable install recompiles on every run.
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


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    before = os.times()
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree", type=Path)
    parser.add_argument("--before", required=True, help="the celery-lint executable before the change")
    parser.add_argument("--after", required=True, help="the celery-lint executable after the change")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    tree = args.tree.resolve()
    caches = {name: Path(tempfile.mkdtemp(prefix=f"celery-lint-ab-{name}-")) for name in ("before", "after")}
    exe = {"before": args.before, "after": args.after}
    commands = {}
    for name in ("before", "after"):
        commands[f"{name} cold"] = [exe[name], "--exit-zero", "--no-cache", "."]
        commands[f"{name} warm"] = [exe[name], "--exit-zero", "--cache-dir", str(caches[name]), "."]
        timed(commands[f"{name} warm"], tree)  # prime the cache
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    try:
        for number in range(args.rounds):
            for name, command in commands.items():
                samples[name].append(timed(command, tree))
            print(f"round {number + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for cache in caches.values():
            shutil.rmtree(cache, ignore_errors=True)
    medians = {}
    print(f"{tree.name}, {args.rounds} rounds in alternation")
    print(f"{'':<14} {'median s':>9} {'min s':>7} {'CPU s':>7}")
    for name, values in samples.items():
        walls = [w for w, _ in values]
        medians[name] = statistics.median(walls)
        print(f"{name:<14} {medians[name]:>9.3f} {min(walls):>7.3f} {statistics.median(c for _, c in values):>7.3f}")
    for kind in ("cold", "warm"):
        print(f"{kind}: after / before = {medians[f'after {kind}'] / medians[f'before {kind}']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
