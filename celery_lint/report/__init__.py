"""Output formats. Each takes findings and returns the text to print."""

from __future__ import annotations

import json
from typing import Callable, Sequence

from ..engine import Finding


def text(findings: Sequence[Finding]) -> str:
    return "".join(f"{f.filename}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in findings)


def json_format(findings: Sequence[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2) + "\n"


FORMATS: dict[str, Callable[[Sequence[Finding]], str]] = {"text": text, "json": json_format}
