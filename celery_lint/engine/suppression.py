"""``# noqa`` comments: which findings they suppress.

The engine needs this to leave suppressed findings unfixed; the run (``run/noqa.py``)
adds ``--add-noqa`` and CLY901 unused-noqa on top. A finding on a line inside a
multi-line string is governed by the string's last line, where a comment can stand (as
in flake8).
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Sequence

from .findings import FileResult, Finding

NOQA = re.compile(r"#\s*noqa(?::[\s]*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
UNPARSED = "CLY000"


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
    continuations = string_continuations(result.lines) if any("noqa" in l for l in result.lines) else {}
    return [f for f in result.findings if not _suppressed(f, result.lines, continuations)]
