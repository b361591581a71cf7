"""Documentation generated from the code: README sections and docs/rules.md.

``python -m celery_lint.docs`` rewrites them; ``tests/test_docs.py`` fails when they are
stale, so the README's rule table, configuration and flag references never drift.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .catalogue import CATALOGUE
from .cli import build_parser
from .config import CONFIG_DOCS
from .rules import ALL_RULES, Rule

ROOT = Path(__file__).resolve().parent.parent


def rule_doc(rule: type[Rule]) -> str:
    """The rule's docstring without its indentation."""
    lines = (rule.__doc__ or "").splitlines()
    body = "\n".join(line[4:] if line.startswith("    ") else line for line in lines[1:])
    return f"{lines[0].strip()}\n{body}".strip()


def _fix(rule: type[Rule]) -> str:
    return rule.fix or "-"


def rule_table() -> str:
    rows = ["| Code | Name | Default | Scope | Fix | What it catches |", "|---|---|---|---|---|---|"]
    for rule in ALL_RULES:
        default = "on" if rule.default_enabled else "off"
        anchor = f"docs/rules.md#{rule.code.lower()}-{rule.name}"
        rows.append(f"| [{rule.code}]({anchor}) | {rule.name} | {default} | {rule.scope} | {_fix(rule)} | {rule.summary()} |")
    implemented = {r.code for r in ALL_RULES}
    planned = [f"{e.code} {e.name}" for e in CATALOGUE if e.code not in implemented]
    note = ""
    if planned:
        note = "\n\nNot in this release yet (the rest of the catalogue): " + ", ".join(planned) + "."
    return "\n".join(rows) + note


def config_table() -> str:
    rows = ["| Key | Type | Default | Meaning |", "|---|---|---|---|"]
    for key, (kind, default, meaning) in CONFIG_DOCS.items():
        rows.append(f"| `{key}` | {kind} | {default} | {meaning} |")
    return "\n".join(rows)


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


def rules_markdown() -> str:
    parts = ["# Rule reference", "", "Generated from the rules' docstrings by `python -m celery_lint.docs`; do not edit.", ""]
    for rule in ALL_RULES:
        default = "on" if rule.default_enabled else "off"
        parts.append(f"## {rule.code} {rule.name}")
        parts.append("")
        parts.append(f"Default: **{default}** · Scope: **{rule.scope}** · Fix: **{_fix(rule)}**")
        parts.append("")
        doc = rule_doc(rule).replace("\n## ", "\n### ")
        parts.append(doc)
        parts.append("")
    return "\n".join(parts)


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
            print(f"stale: {path.relative_to(ROOT)} (run python -m celery_lint.docs)")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(exist_ok=True)
        path.write_text(targets[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
