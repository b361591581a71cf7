"""Rule and configuration documentation generated from the code.

The rule reference (``docs/rules.md``), the README's rule and configuration tables, and a
rule's help (``--explain``, SARIF) all come from the rules' docstrings here.
``python -m celery_lint.doors.readme`` writes them; ``tests/test_docs.py`` fails when they
are stale.
"""

from __future__ import annotations

from ..rules.catalogue import CATALOGUE
from ..config.settings import CONFIG_DOCS
from ..rules import ALL_RULES, Rule

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


def rules_markdown() -> str:
    parts = ["# Rule reference", "", "Generated from the rules' docstrings by `python -m celery_lint.doors.readme`; do not edit.", ""]
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
