"""What a lint produces: findings, and a file's findings with what ``# noqa`` needs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One reported problem. Lines and columns are 1-based; ``end_*`` is exclusive."""

    code: str
    name: str
    message: str
    filename: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.filename, self.line, self.column, self.code)


@dataclass
class FileResult:
    """Findings of one file, plus what is needed to honour ``# noqa`` on them."""

    path: str
    findings: list[Finding]
    lines: list[str]
    parsed: bool
