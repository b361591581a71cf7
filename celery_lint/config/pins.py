"""Which Celery the project runs: its lock file or requirement pins decide `target-version`.

RULES.md checks against a Celery release (`target-version`, default the newest known).
A project pinned to `celery==5.6.3` is not on 5.7, so what 5.7 deprecates (CLY202) or
adds does not concern it yet. Without a `target-version` in the configuration, the
newest Celery minor release the project allows is used, read from (first found):

1. a lock file at the project root: `uv.lock`, `poetry.lock`, `pdm.lock` (the locked
   version) or `Pipfile.lock`;
2. requirement files: `requirements*.txt` and `requirements/*.txt` (the newest release
   any of them allows), else pip-tools' `requirements*.in`;
3. `pyproject.toml`: `[project]` dependencies and optional dependencies, Poetry's
   `[tool.poetry.dependencies]` (`^5.3` allows every 5.x from 5.3).

Nothing is installed or imported; a file that cannot be read is skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

#: `name = "celery"` then its `version = "..."` in a TOML lock file ([[package]] tables).
_LOCKED = re.compile(r'^name\s*=\s*"celery"\s*\n(?:[^\[\n][^\n]*\n)*?version\s*=\s*"([^"]+)"', re.MULTILINE)
#: Compiled pins first: a `.in` file (pip-tools' input) is read only when no `.txt` names Celery.
_REQUIREMENT_FILES = (("requirements*.txt", "requirements/*.txt"), ("requirements*.in", "requirements/*.in"))
#: Lock files can be large; only their first megabytes are searched.
_MAX_BYTES = 8 * 1024 * 1024


def project_celery_version(root: Path, newest: tuple[int, int]) -> tuple[tuple[int, int], str] | None:
    """The newest Celery 5 minor release (up to ``newest``) the project allows, and the file
    that says so; None when nothing at the root names Celery (then ``newest`` applies)."""
    for name in ("uv.lock", "poetry.lock", "pdm.lock"):
        text = _read(root / name)
        match = _LOCKED.search(text) if text else None
        locked = re.match(r"5\.(\d+)\b", match.group(1)) if match else None
        if locked and int(locked.group(1)) <= newest[1]:
            return (5, int(locked.group(1))), name
    pipfile = _read(root / "Pipfile.lock")
    if pipfile:
        try:
            pinned = json.loads(pipfile).get("default", {}).get("celery", {}).get("version")
        except (ValueError, AttributeError):
            pinned = None
        found = _newest_allowed(_specifier(pinned), newest) if isinstance(pinned, str) else None
        if found is not None:
            return found, "Pipfile.lock"
    allowed: list[tuple[tuple[int, int], str]] = []
    for patterns in _REQUIREMENT_FILES:
        for pattern in patterns:
            for path in sorted(root.glob(pattern)):
                for specifier in _requirement_lines(_read(path)):
                    found = _newest_allowed(specifier, newest)
                    if found is not None:
                        allowed.append((found, path.relative_to(root).as_posix()))
        if allowed:
            return max(allowed, key=lambda found: found[0])
    for specifier in _pyproject_specifiers(root / "pyproject.toml"):
        found = _newest_allowed(specifier, newest)
        if found is not None:
            allowed.append((found, "pyproject.toml"))
    return max(allowed, key=lambda found: found[0]) if allowed else None


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(_MAX_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def _specifier(text: str | None) -> SpecifierSet | None:
    if not text:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # lazy: start-up time (20 ms; lock files need none)

    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _requirement_lines(text: str) -> Iterable[SpecifierSet]:
    for line in text.splitlines():
        line = line.split(" #", 1)[0].split(" --hash", 1)[0].rstrip("\\ \t").strip()
        if not line or line.startswith(("#", "-")):
            continue
        specifier = _celery_specifier(line)
        if specifier is not None:
            yield specifier


def _celery_specifier(text: str) -> SpecifierSet | None:
    if "celery" not in text.lower():
        return None
    from packaging.requirements import InvalidRequirement, Requirement  # lazy: start-up time (20 ms)

    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    if requirement.name.lower() != "celery" or requirement.url:
        return None
    return requirement.specifier


def _pyproject_specifiers(path: Path) -> Iterable[SpecifierSet]:
    text = _read(path)
    if "celery" not in text:
        return
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    lines: list[Any] = list(project.get("dependencies") or [])
    for extra in (project.get("optional-dependencies") or {}).values():
        lines.extend(extra or [])
    for line in lines:
        specifier = _celery_specifier(line) if isinstance(line, str) else None
        if specifier is not None:
            yield specifier
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {}) if isinstance(data.get("tool"), dict) else {}
    value = poetry.get("celery") if isinstance(poetry, dict) else None
    if isinstance(value, dict):
        value = value.get("version")
    if isinstance(value, str):
        specifier = _specifier(_poetry_to_pep440(value))
        if specifier is not None:
            yield specifier


def _poetry_to_pep440(value: str) -> str:
    """Poetry's ``^5.3``/``~5.3``/``5.3.*``/``*`` as a PEP 440 specifier."""
    value = value.strip()
    caret = re.fullmatch(r"\^(\d+)(?:\.(\d+))?(?:\.(\d+))?", value)
    if caret:
        major = int(caret.group(1))
        return f">={value[1:]},<{major + 1}" if major else f">={value[1:]},<0.{int(caret.group(2) or 0) + 1}"
    tilde = re.fullmatch(r"~(\d+)\.(\d+)(?:\.(\d+))?", value)
    if tilde:
        return f">={value[1:]},<{tilde.group(1)}.{int(tilde.group(2)) + 1}"
    if value == "*":
        return ""
    return value if value[:1] in "<>=!~" else f"=={value}"


def _newest_allowed(specifier: SpecifierSet | None, newest: tuple[int, int]) -> tuple[int, int] | None:
    """The newest 5.x minor release (up to ``newest``) with a patch release the specifier
    accepts (checked up to .30, prereleases included when the pin names one)."""
    if specifier is None:
        return None
    from packaging.version import InvalidVersion, Version  # lazy: start-up time

    for minor in range(newest[1], -1, -1):
        for patch in range(0, 31):
            try:
                if specifier.contains(Version(f"5.{minor}.{patch}"), prereleases=True):
                    return (5, minor)
            except InvalidVersion:  # pragma: no cover
                return None
    return None
