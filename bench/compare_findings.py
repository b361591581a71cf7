"""Record celery-lint's findings on real trees, and compare two records.

    python bench/compare_findings.py record OUT.json TREE [TREE ...] [--celery-lint CMD]
    python bench/compare_findings.py compare BEFORE.json AFTER.json

``record`` runs celery-lint (``--no-cache``, JSON output) on each tree twice: with the
tree's own selection, and with every rule on (``--select CLY1,...,CLY9``, which also turns
on the rules that are off by default), and keeps every finding with its fix. Paths are
stored relative to the tree, so two checkouts of the same tree compare equal.

``compare`` prints, per tree and selection, the findings per code before and after and
every finding that appeared or disappeared; it exits 1 when the records differ. Used to
show that a change of structure changes no finding (issue 15), and to list what a change
of behaviour did to each tree.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

SELECTIONS = {
    "default": [],
    "all": ["--select", "CLY0,CLY1,CLY2,CLY3,CLY4,CLY5,CLY6,CLY7,CLY9"],
}


def _key(finding: dict[str, Any]) -> str:
    return json.dumps(finding, sort_keys=True)


def record(out: Path, trees: list[Path], command: list[str]) -> int:
    result: dict[str, Any] = {}
    for tree in trees:
        tree = tree.resolve()
        for label, extra in SELECTIONS.items():
            argv = [*command, "--no-cache", "--exit-zero", "--output-format", "json", *extra, "."]
            start = time.perf_counter()
            done = subprocess.run(argv, cwd=tree, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                print(f"{tree.name} [{label}]: exit {done.returncode}\n{done.stderr}", file=sys.stderr)
                return 2
            findings = json.loads(done.stdout or "[]")
            for finding in findings:  # records made before paths lost their `./` compare equal
                finding["filename"] = finding["filename"].removeprefix("./")
            result[f"{tree.name} [{label}]"] = sorted(findings, key=lambda f: (f["filename"], f["line"], f["column"], f["code"]))
            print(f"{tree.name} [{label}]: {len(findings)} findings in {seconds:.2f} s")
    out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return 0


def compare(before_path: Path, after_path: Path) -> int:
    before = json.loads(before_path.read_text())
    after = json.loads(after_path.read_text())
    differ = False
    for run in sorted(set(before) | set(after)):
        old = before.get(run, [])
        new = after.get(run, [])
        old_codes = Counter(f["code"] for f in old)
        new_codes = Counter(f["code"] for f in new)
        codes = ", ".join(
            f"{code} {old_codes[code]}" + ("" if old_codes[code] == new_codes[code] else f"->{new_codes[code]}")
            for code in sorted(set(old_codes) | set(new_codes))
        )
        old_keys = {_key(f): f for f in old}
        new_keys = {_key(f): f for f in new}
        gone = [old_keys[k] for k in old_keys if k not in new_keys]
        came = [new_keys[k] for k in new_keys if k not in old_keys]
        same = "identical" if not gone and not came else f"{len(gone)} gone, {len(came)} new"
        print(f"{run}: {len(old)} -> {len(new)} findings, {same}\n  {codes}")
        for label, items in (("-", gone), ("+", came)):
            for f in items:
                print(f"  {label} {f['filename']}:{f['line']}:{f['column']} {f['code']} {f['message']}")
        differ = differ or bool(gone or came)
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)
    rec = verbs.add_parser("record", help="run celery-lint on trees and store the findings")
    rec.add_argument("out", type=Path)
    rec.add_argument("trees", type=Path, nargs="+")
    rec.add_argument("--celery-lint", default=f"{shlex.quote(sys.executable)} -m celery_lint", help="the command to run")
    cmp_ = verbs.add_parser("compare", help="compare two records; exit 1 when they differ")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.verb == "record":
        return record(args.out, args.trees, shlex.split(args.celery_lint))
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
