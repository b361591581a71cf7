"""Rewrite the generated parts of the README and ``docs/rules.md`` from the code.

    python -m celery_lint.doors.readme [--check]

The rule, configuration and flag tables of the README and the whole rule reference are
generated (``celery_lint.report.docs`` and the command line's parser); ``--check`` exits
1 when a file is stale (``tests/test_docs.py`` runs it). A front door because the flag
table is the command line's own parser.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..report.docs import config_table, rule_table, rules_markdown
from .cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def cli_table() -> str:
    rows = ["| Flag | Meaning |", "|---|---|"]
    for action in build_parser()._actions:
        if not action.option_strings:
            flag = "`PATH ...`"
        else:
            metavar = f" {action.metavar}" if action.metavar else ""
            if action.choices and not action.metavar:
                metavar = " {" + ",".join(action.choices) + "}"
            flag = ", ".join(f"`{o}{metavar}`" for o in action.option_strings)
        text = (action.help or "").replace("%(default)s", str(action.default)).replace("|", "\\|")
        rows.append(f"| {flag} | {text} |")
    return "\n".join(rows)


SECTIONS = {"rules": rule_table, "config": config_table, "cli": cli_table}


def render_readme(text: str) -> str:
    for name, render in SECTIONS.items():
        pattern = re.compile(rf"(<!-- begin: {name} -->\n).*?(<!-- end: {name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"README has no `<!-- begin: {name} -->` section")
        rendered = render()
        text = pattern.sub(lambda m, r=rendered: m.group(1) + r + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are stale instead of writing")
    args = parser.parse_args(argv)
    targets = {
        ROOT / "README.md": render_readme((ROOT / "README.md").read_text()),
        ROOT / "docs" / "rules.md": rules_markdown(),
    }
    stale = [p for p, content in targets.items() if not p.exists() or p.read_text() != content]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run python -m celery_lint.doors.readme)")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(exist_ok=True)
        path.write_text(targets[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
