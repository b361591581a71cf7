"""The flake8 plugin's share of a flake8 run, measured inside one flake8 process.

    python bench/flake8_share.py /path/to/readthedocs.org [--rounds 3] [--cold]

``--cold`` removes ``.celery_lint_cache/`` (the project index and the plugin's findings)
before each round, as in CI without a kept cache; without it the cache is kept between
rounds, as in local runs and CI that keeps the directory.

Wall-clock comparisons of two flake8 runs on a shared 2-core machine drift by 20-30%
between runs (CPU frequency, neighbours), more than the 10% being measured. This runs
flake8 once per round with ``--jobs 1``, times celery-lint's own work inside it (importing
libcst and the rules, ``parse_options`` with the project index, and the plugin's ``run``
on each file, interleaved with flake8's other checks on the same file) and reports it as a
percentage of the rest of the run: what the plugin adds over flake8 without it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--cold", action="store_true", help="delete .celery_lint_cache/ before each round (a CI run without a kept cache)"
    )
    parser.add_argument("--import-samples", type=int, default=7, help="fresh interpreters timing the plugin's import")
    args = parser.parse_args()
    os.chdir(args.tree)

    # The import happens once per flake8 process; one sample of it swings by 0.1 s on a
    # shared machine, so it is the median of fresh interpreters importing the plugin.
    probe = "import time; t = time.perf_counter(); import celery_lint.flake8_plugin; print(time.perf_counter() - t)"
    samples = [
        float(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
        for _ in range(args.import_samples)
    ]
    import_seconds = statistics.median(samples)
    print(f"import: median {import_seconds:.3f} s of {len(samples)} fresh interpreters "
          f"({min(samples):.3f}-{max(samples):.3f} s)", file=sys.stderr)
    from celery_lint.doors import flake8_plugin  # libcst, the engine and the rules
    from flake8.main.application import Application

    plugin = flake8_plugin.CeleryLintPlugin
    spent = {"parse_options": 0.0, "run": 0.0, "files": 0}
    original_parse, original_run = plugin.parse_options.__func__, plugin.run

    def parse_options(cls, options):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return original_parse(cls, options)
        finally:
            spent["parse_options"] += time.perf_counter() - began

    def run(self):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        results = list(original_run(self))
        spent["run"] += time.perf_counter() - began
        spent["files"] += 1
        return iter(results)

    plugin.parse_options = classmethod(parse_options)  # type: ignore[method-assign,assignment]
    plugin.run = run  # type: ignore[method-assign]
    shares = []
    for round_number in range(args.rounds):
        spent.update(parse_options=0.0, run=0.0, files=0)
        plugin._engine = None
        if args.cold:  # the project index and the plugin's findings, as in CI without a kept cache
            shutil.rmtree(".celery_lint_cache", ignore_errors=True)
        began = time.perf_counter()
        Application().run(["--jobs=1", "--exit-zero", f"--output-file={os.devnull}", "."])
        total = time.perf_counter() - began
        in_run = spent["parse_options"] + spent["run"]
        share = (in_run + import_seconds) / (total - in_run)  # imports happen in every flake8 process
        shares.append(share)
        print(
            f"round {round_number + 1}: flake8 {total:.2f} s, of which celery-lint: import {import_seconds:.2f} s, "
            f"parse_options {spent['parse_options']:.2f} s, run {spent['run']:.2f} s on {spent['files']} files "
            f"-> +{share * 100:.1f}%",
            file=sys.stderr,
        )
    state = "no .celery_lint_cache/" if args.cold else ".celery_lint_cache/ kept between rounds"
    print(
        f"flake8 plugin overhead (median of {args.rounds}, --jobs 1, {state}): "
        f"+{statistics.median(shares) * 100:.1f}%  (target <= +10%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
