"""``# noqa`` in the CLI: ``--add-noqa`` and CLY901 unused-noqa.

flake8 applies its own ``# noqa``; the CLI does the same through
:mod:`celery_lint.engine.suppression` (re-exported here).
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Iterable, Sequence

from ..engine.core import FileResult, Finding, decode_source
from ..engine.suppression import NOQA, UNPARSED, governing_line, noqa_codes, string_continuations, visible
from ..rules.catalogue import BY_CODE
from .files import write_atomically

UNUSED_NOQA = "CLY901"


def stale_noqa(result: FileResult, enabled: Iterable[str]) -> dict[int, list[str]]:
    """Line -> the CLY codes of its ``# noqa: ...`` that suppressed nothing in this run.

    Only codes of enabled rules (and codes that name no rule at all) are judged; other
    tools' codes (E501, B008) and bare ``# noqa`` are left alone.
    """
    enabled_codes = set(enabled)
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
                message=f"unused `noqa` code{'s' if len(stale) > 1 else ''} {', '.join(stale)}: nothing to suppress here; remove it",
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
        write_atomically(path, out)
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


__all__ = ["NOQA", "UNPARSED", "UNUSED_NOQA", "add_noqa", "governing_line", "noqa_codes", "stale_noqa", "string_continuations", "unused_noqa", "visible", "without_codes"]
