"""The one-line summary and the colour decision, importable without libcst."""

from __future__ import annotations

import os


def use_color(stream_is_tty: bool) -> bool:
    """Colour when writing to a terminal; ``NO_COLOR`` (any value) wins, ``FORCE_COLOR`` forces."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream_is_tty


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(findings: int, files_with_findings: int, files_checked: int) -> str:
    checked = plural(files_checked, "file")
    if not findings:
        return f"All checks passed ({checked} checked)."
    return f"Found {plural(findings, 'finding')} in {plural(files_with_findings, 'file')} ({checked} checked)."


def colored(text: str, color: bool) -> str:
    return f"\033[36m{text}\033[0m" if color else text
