"""Output formats: text, json, sarif, github. Each renders findings plus run facts."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from typing import Callable, Sequence

from .. import HOMEPAGE, __version__
from ..engine import Finding
from ..rules import ALL_RULES, RULES_BY_CODE, Rule
from .docs import rule_doc
from .summary import colored, plural, summary_line, use_color

__all__ = ["FORMATS", "RunInfo", "summary", "use_color"]

#: Where each rule's documentation is (``docs/rules.md``, one heading per rule).
RULES_URI = f"{HOMEPAGE}/blob/main/docs/rules.md"


@dataclass(frozen=True)
class RunInfo:
    files_checked: int = 0
    color: bool = False
    #: ``--unsafe-fixes``: unsafe fixes count as available.
    unsafe_fixes: bool = False
    #: ``--fix``: how many findings the fixes resolved (None: not a fix run).
    fixed: int | None = None
    #: ``--quiet``: the findings only (no summary line, no hints).
    quiet: bool = False
    #: SARIF: the directory its URIs are relative to (``%SRCROOT%``, the repository root).
    source_root: str | None = None


def fixable(finding: Finding, run: RunInfo) -> bool:
    return finding.fix is not None and (run.unsafe_fixes or finding.fix["applicability"] == "safe")


def summary(findings: Sequence[Finding], run: RunInfo) -> str:
    line = summary_line(len(findings), len({f.filename for f in findings}), run.files_checked)
    if run.fixed:
        line += f" Fixed {plural(run.fixed, 'finding')}."
    return line


def fix_hint(findings: Sequence[Finding], run: RunInfo) -> str | None:
    """ruff's hint under the text output: what ``--fix`` (and ``--unsafe-fixes``) would do."""
    available = sum(1 for f in findings if fixable(f, run))
    hidden = sum(1 for f in findings if f.fix is not None and not fixable(f, run))
    parts = []
    if available:
        parts.append(f"[*] {available} fixable with the `--fix` option.")
    if hidden:
        parts.append(f"({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the `--unsafe-fixes` option.)")
    return " ".join(parts) if parts else None


#: Control characters as escapes (``\n``, ``\x1b``): a path or a name holding a line
#: break would split a finding over two lines, an escape sequence would reach the terminal.
_CONTROL = {code: repr(chr(code))[1:-1] for code in (*range(0x20), 0x7F)}


def printable(value: str) -> str:
    return value.translate(_CONTROL)


def text(findings: Sequence[Finding], run: RunInfo) -> str:
    if run.color:
        bold, red, dim, reset = "\033[1m", "\033[1;31m", "\033[2m", "\033[0m"
    else:
        bold = red = dim = reset = ""
    lines = [
        f"{bold}{printable(f.filename)}{reset}{dim}:{reset}{f.line}{dim}:{reset}{f.column}{dim}:{reset} "
        f"{red}{f.code}{reset} {'[*] ' if fixable(f, run) else ''}{printable(f.message)}"
        for f in findings
    ]
    if run.quiet:
        return "".join(line + "\n" for line in lines)
    lines.append(colored(summary(findings, run), run.color))
    hint = fix_hint(findings, run)
    if hint:
        lines.append(hint)
    if findings:
        lines.append(explain_hint(findings))
    return "\n".join(lines) + "\n"


def explain_hint(findings: Sequence[Finding]) -> str:
    """Where the text output points for more: the rule reported most (``--explain``)."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    code = min(counts, key=lambda c: (-counts[c], c))
    return f"Why each matters and how to fix it: `celery-lint --explain {code}` (any code)."


def json_format(findings: Sequence[Finding], run: RunInfo) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(findings: Sequence[Finding], run: RunInfo) -> str:
    """GitHub Actions workflow commands: one ``::error`` annotation per finding."""
    lines = []
    for f in findings:
        props = (
            f"file={_escape_property(f.filename)},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},title={_escape_property(f.code)}"
        )
        lines.append(f"::error {props}::{_escape_data(f'{f.code} {f.message}')}")
    return "".join(line + "\n" for line in lines)


def _rule_descriptor(rule: type[Rule]) -> dict[str, object]:
    full = rule_doc(rule)
    what = full.split("## What it does", 1)[-1].split("\n## ", 1)[0].strip()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": what},
        "help": {"text": full, "markdown": full},
        "helpUri": f"{RULES_URI}#{rule.code.lower()}-{rule.name}",
        "defaultConfiguration": {"level": "error" if rule.code == "CLY000" else "warning", "enabled": rule.default_enabled},
        "properties": {"tags": ["celery", rule.scope], "precision": "high"},
    }


def sarif(findings: Sequence[Finding], run: RunInfo) -> str:
    """SARIF 2.1.0, with every rule's metadata so GitHub code scanning can show its help.

    File URIs are relative to ``run.source_root`` (the repository root: what GitHub code
    scanning resolves them against) through ``uriBaseId: %SRCROOT%``, percent-encoded;
    a file outside it gets an absolute ``file://`` URI and no base. Each result has a
    ``partialFingerprints`` entry that survives lines moving: the code, the file and the
    reported line's text (whitespace removed), numbered when they repeat."""
    index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
    root = os.path.abspath(run.source_root or os.getcwd())
    texts: dict[str, list[str] | None] = {}
    seen: dict[str, int] = {}
    results = []
    for f in findings:
        rule = RULES_BY_CODE.get(f.code)
        uri, base = _uri(f.filename, root)
        location: dict[str, str] = {"uri": uri, "uriBaseId": base} if base else {"uri": uri}
        key = f"{f.code}\0{uri}\0{_line_text(f, texts)}"
        seen[key] = seen.get(key, 0) + 1
        fingerprint = hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest()[:32]
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": "error" if f.code == "CLY000" else "warning",
                "message": {"text": f.message},
                "partialFingerprints": {"celeryLint/v1": fingerprint},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": location,
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.column,
                                "endLine": f.end_line,
                                "endColumn": f.end_column,
                            },
                        }
                    }
                ],
                "properties": {"name": rule.name if rule else f.name},
            }
        )
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "celery-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": HOMEPAGE,
                        "rules": [_rule_descriptor(rule) for rule in ALL_RULES],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(root).as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _uri(path: str, root: str) -> tuple[str, str | None]:
    """A file's URI: percent-encoded and relative to ``root`` with the base id, or an
    absolute ``file://`` URI (no base) for a file outside it."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:  # another drive (Windows)
        relative = os.pardir
    if relative == os.pardir or relative.startswith(os.pardir + os.sep) or os.path.isabs(relative):
        return Path(absolute).as_uri(), None
    return quote(relative.replace(os.sep, "/"), safe="/"), "%SRCROOT%"


def _line_text(finding: Finding, texts: dict[str, list[str] | None]) -> str:
    """The reported line without whitespace (the message when the file cannot be read)."""
    if finding.filename not in texts:
        try:
            with open(finding.filename, "rb") as handle:
                texts[finding.filename] = handle.read().decode("utf-8", "replace").splitlines()
        except OSError:
            texts[finding.filename] = None
    lines = texts[finding.filename]
    if lines is None or not 0 < finding.line <= len(lines):
        return finding.message
    return "".join(lines[finding.line - 1].split())


def source_root(start: str | Path) -> str:
    """The repository root at or above ``start`` (the working directory: the nearest
    directory with ``.git``), or ``start`` itself outside a repository: what SARIF's
    ``%SRCROOT%`` stands for, as GitHub code scanning resolves it (the checkout's root,
    wherever in it the linter runs)."""
    here = Path(start).resolve()
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return str(directory)
    return str(here)


FORMATS: dict[str, Callable[[Sequence[Finding], RunInfo], str]] = {
    "text": text,
    "json": json_format,
    "sarif": sarif,
    "github": github,
}
