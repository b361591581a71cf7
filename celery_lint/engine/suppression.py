"""``# noqa`` comments: which findings they suppress.

The engine needs this to leave suppressed findings unfixed; the run (``run/noqa.py``)
adds ``--add-noqa`` and CLY901 unused-noqa on top. A finding on a line inside a
multi-line string is governed by the string's last line, where a comment can stand (as
in flake8).

A whole file is exempted, in every door, by a comment line (a line that starts with the
comment, as flake8 requires) ``# celery-lint: noqa`` (every rule) or
``# celery-lint: noqa: CLY101, CLY2`` (those codes and prefixes), as ruff's
``# ruff: noqa``; the CLI also honours flake8's ``# flake8: noqa`` as flake8 does: the
whole file, codes or not (flake8 itself never runs the plugin on such a file). CLY000
(the file could not be read or parsed) is never suppressed.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Sequence

from .findings import FileResult, Finding

NOQA = re.compile(r"#\s*noqa(?::[\s]*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
UNPARSED = "CLY000"
#: File-level exemptions; ``match`` (at the start of a line) as flake8's ``NOQA_FILE``.
FILE_NOQA = re.compile(r"\s*#\s*celery-lint:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?", re.IGNORECASE)
FLAKE8_FILE_NOQA = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)  # flake8.defaults.NOQA_FILE


def file_exemption(lines: Sequence[str], flake8: bool = True) -> frozenset[str] | None:
    """The codes a file-level comment exempts the whole file from: None for none, an
    empty set for every code. ``flake8``: also honour ``# flake8: noqa`` (the CLI; under
    flake8, flake8 itself does)."""
    codes: set[str] = set()
    found = False
    for line in lines:
        if "noqa" not in line and "NOQA" not in line.upper():
            continue
        if flake8 and FLAKE8_FILE_NOQA.match(line):
            return frozenset()
        match = FILE_NOQA.match(line)
        if match is None:
            continue
        if not match.group("codes"):
            return frozenset()
        found = True
        codes.update(c.upper() for c in re.split(r"[,\s]+", match.group("codes").strip()) if c)
    return frozenset(codes) if found else None


def exempted(findings: list[Finding], lines: Sequence[str], flake8: bool = True) -> list[Finding]:
    """``findings`` without those a file-level comment exempts (CLY000 always stays)."""
    codes = file_exemption(lines, flake8)
    if codes is None:
        return findings
    return [f for f in findings if f.code == UNPARSED or (codes and not any(f.code.startswith(c) for c in codes))]


def noqa_codes(line: str) -> frozenset[str] | None:
    """Codes a ``# noqa`` comment on ``line`` suppresses; empty set = all; None = no noqa."""
    match = NOQA.search(line)
    if match is None:
        return None
    codes = match.group("codes")
    if not codes:
        return frozenset()
    return frozenset(c.upper() for c in re.split(r"[,\s]+", codes.strip()) if c)


def string_continuations(lines: Sequence[str]) -> dict[int, int]:
    """line -> last line of the multi-line string it lies in (for lines before the last)."""
    text = "\n".join(lines) + "\n"
    if '"""' not in text and "'''" not in text and "\\\n" not in text:
        return {}
    mapping: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            start, end = token.start[0], token.end[0]
            if token.type == tokenize.STRING and end > start or token.type == getattr(tokenize, "FSTRING_END", -1):
                for line in range(start, end):
                    mapping.setdefault(line, end)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return {}
    return mapping


def governing_line(line: int, continuations: dict[int, int]) -> int:
    return continuations.get(line, line)


def _suppressed(finding: Finding, lines: Sequence[str], continuations: dict[int, int]) -> bool:
    if finding.code == UNPARSED:
        return False
    target = governing_line(finding.line, continuations)
    if not 0 < target <= len(lines):
        return False
    codes = noqa_codes(lines[target - 1])
    if codes is None:
        return False
    return not codes or any(finding.code.startswith(c) for c in codes)


def visible(result: FileResult) -> list[Finding]:
    """Findings of a file that no ``# noqa`` comment suppresses."""
    if not result.findings:
        return []
    findings = exempted(result.findings, result.lines)
    if not findings:
        return []
    continuations = string_continuations(result.lines) if any("noqa" in l for l in result.lines) else {}
    return [f for f in findings if not _suppressed(f, result.lines, continuations)]
