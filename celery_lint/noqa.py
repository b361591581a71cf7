"""``# noqa`` in the CLI: suppression, ``--add-noqa`` and CLY901 unused-noqa.

flake8 applies its own ``# noqa``; the CLI does the same thing here. A finding on a
line inside a multi-line string is governed by the string's last line, where a comment
can stand (as in flake8).
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Iterable, Sequence

from .engine import FileResult, Finding, decode_source

NOQA = re.compile(r"#\s*noqa(?::[\s]*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
UNPARSED = "CLY000"
UNUSED_NOQA = "CLY901"


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


def stale_noqa(result: FileResult, enabled: Iterable[str]) -> dict[int, list[str]]:
    """Line -> the CLY codes of its ``# noqa: ...`` that suppressed nothing in this run.

    Only codes of enabled rules (and codes that name no rule at all) are judged; other
    tools' codes (E501, B008) and bare ``# noqa`` are left alone.
    """
    enabled_codes = set(enabled)
    from .catalogue import BY_CODE

    continuations = string_continuations(result.lines) if result.findings else {}
    used: dict[int, set[str]] = {}
    for finding in result.findings:
        used.setdefault(governing_line(finding.line, continuations), set()).add(finding.code)
    found: dict[int, list[str]] = {}
    for number, line in enumerate(result.lines, 1):
        if "noqa" not in line.lower():
            continue
        codes = noqa_codes(line)
        if not codes:
            continue
        stale = []
        for code in sorted(codes):
            if not code.startswith("CLY") or code in (UNUSED_NOQA,):
                continue
            known = code in BY_CODE or len(code) < 6
            if known and not any(c.startswith(code) for c in enabled_codes):
                continue  # the rule is not running: cannot tell
            if not any(c.startswith(code) for c in used.get(number, ())):
                stale.append(code)
        if stale:
            found[number] = stale
    return found


def unused_noqa(result: FileResult, enabled: Iterable[str]) -> list[Finding]:
    """CLY901: findings for the codes :func:`stale_noqa` finds."""
    found = []
    for number, stale in stale_noqa(result, enabled).items():
        match = NOQA.search(result.lines[number - 1])
        assert match is not None
        found.append(
            Finding(
                code=UNUSED_NOQA,
                name="unused-noqa",
                message=f"unused `noqa` code{'s' if len(stale) > 1 else ''} {', '.join(stale)}: nothing to suppress here",
                filename=result.path,
                line=number,
                column=match.start() + 1,
                end_line=number,
                end_column=match.end() + 1,
                fix={"applicability": "safe", "message": "Remove the unused codes"},
            )
        )
    return found


def without_codes(line: str, stale: Iterable[str]) -> str:
    """``line`` with ``stale`` codes dropped from its ``# noqa: ...`` (the comment goes when none is left).

    Other text in the same comment (``# noqa: CLY101  # reason``) is kept.
    """
    match = NOQA.search(line)
    if match is None or not match.group("codes"):
        return line
    drop = {c.upper() for c in stale}
    keep = [c for c in re.split(r"[,\s]+", match.group("codes").strip()) if c and c.upper() not in drop]
    if keep:
        return line[: match.start()] + "# noqa: " + ", ".join(keep) + line[match.end() :]
    before = line[: match.start()].rstrip()
    after = line[match.end() :].lstrip()
    if after.startswith("#"):  # another comment follows: keep it
        return f"{before}  {after}" if before else after
    ending = line[len(line.rstrip("\r\n")) :]
    return (before + " " + after).rstrip() + ending if after.strip() else before + ending


def add_noqa(path: str, findings: Sequence[Finding]) -> int:
    """Append ``# noqa: CODES`` to every line with a finding, merging with existing comments.

    Keeps the file's encoding, BOM and line endings. Returns the number of lines changed.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    bom = data.startswith(b"\xef\xbb\xbf")
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = decode_source(data)
    lines = text.splitlines(keepends=True)
    plain = [line.rstrip("\r\n") for line in lines]
    continuations = string_continuations(plain)
    wanted: dict[int, set[str]] = {}
    for finding in findings:
        if finding.code in (UNPARSED, UNUSED_NOQA):
            continue
        wanted.setdefault(governing_line(finding.line, continuations), set()).add(finding.code)
    changed = 0
    for number, codes in wanted.items():
        if not 0 < number <= len(lines):
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        merged = _merge(body, codes)
        if merged != body:
            lines[number - 1] = merged + ending
            changed += 1
    if changed:
        out = "".join(lines).encode("utf-8" if encoding == "utf-8-sig" else encoding)
        if bom and not out.startswith(b"\xef\xbb\xbf"):
            out = b"\xef\xbb\xbf" + out
        with open(path, "wb") as handle:
            handle.write(out)
    return changed


def _merge(line: str, codes: set[str]) -> str:
    match = NOQA.search(line)
    if match is None:
        return f"{line}  # noqa: {', '.join(sorted(codes))}"
    existing = noqa_codes(line)
    if not existing:
        return line  # a bare `# noqa` already suppresses everything
    if all(any(c.startswith(e) for e in existing) for c in codes):
        return line
    merged = sorted(existing | codes)
    return line[: match.start()] + f"# noqa: {', '.join(merged)}" + line[match.end() :]
