"""The ``celery-lint`` command: argument parsing, exit codes, output. No analysis here."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from .config import ConfigError, Settings, load_settings
from .engine import Engine, Finding, is_enabled
from .files import discover, lint_file, visible
from .report import FORMATS
from .rules import ALL_RULES, RULES_BY_CODE

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, like every usage error
        raise ConfigError(message)


def _codes(value: str) -> list[str]:
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    for code in codes:
        if not (code.startswith("CLY") and code[3:].isdigit() and len(code) <= 6) and code != "CLY":
            raise argparse.ArgumentTypeError(f"{code!r} is not a celery-lint code or prefix (e.g. CLY101, CLY1)")
    return codes


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="celery-lint",
        description="Find Celery footguns: misnamed tasks, unknown options, retries that repeat side effects, "
        "dispatches inside transactions, and more.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to lint (default: .); - reads stdin")
    parser.add_argument("--select", type=_codes, metavar="CODES", help="comma-separated codes or prefixes to enable (replaces the configured selection; also turns on off-by-default rules named more specifically than CLY)")
    parser.add_argument("--ignore", type=_codes, default=[], metavar="CODES", help="codes or prefixes to disable (added to the configured ignore list)")
    parser.add_argument("--extend-select", type=_codes, default=[], metavar="CODES", help="codes or prefixes to enable on top of the selection")
    parser.add_argument("--output-format", choices=sorted(FORMATS), default="text", help="output format (default: text)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--config", type=Path, metavar="FILE", help="read settings from FILE instead of the nearest pyproject.toml")
    parser.add_argument("--follow-symlinks", action="store_true", help="follow symlinked directories and files out of the given paths (cycles are still visited once)")
    parser.add_argument("--stdin-filename", metavar="NAME", help="the file name to lint stdin (-) as")
    parser.add_argument("--list-rules", action="store_true", help="print every rule with its default, scope and fix, then exit")
    parser.add_argument("--explain", metavar="CODE", help="print a rule's documentation, then exit")
    parser.add_argument("--version", action="version", version=f"celery-lint {__version__}")
    return parser


def settings_for(args: argparse.Namespace) -> Settings:
    paths = [p for p in args.paths if p != "-"]
    if args.stdin_filename and "-" in args.paths:
        paths.append(args.stdin_filename)
    start = Path(os.path.commonpath([os.path.abspath(p) for p in paths])) if paths else Path.cwd()
    if not start.is_dir():
        start = start.parent
    settings = load_settings(start, args.config)
    changes: dict[str, object] = {}
    if args.select is not None:
        changes["select"] = tuple(args.select)
    if args.ignore:
        changes["ignore"] = settings.ignore + tuple(args.ignore)
    if args.extend_select:
        changes["extend_select"] = settings.extend_select + tuple(args.extend_select)
    return settings.replace(**changes) if changes else settings


def list_rules(settings: Settings) -> str:
    rows = [("code", "name", "default", "scope", "fix", "enabled")]
    for rule in ALL_RULES:
        rows.append(
            (
                rule.code,
                rule.name,
                "on" if rule.default_enabled else "off",
                rule.scope,
                rule.fix or "-",
                "yes" if is_enabled(rule, settings) else "no",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in rows)


def explain(code: str) -> str:
    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        raise ConfigError(f"unknown rule code {code!r}; see `celery-lint --list-rules`")
    doc = "\n".join(line[4:] if line.startswith("    ") else line for line in (rule.__doc__ or "").splitlines())
    return f"{rule.code} {rule.name}\n\n{doc.strip()}\n"


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.explain:
        sys.stdout.write(explain(args.explain))
        return EXIT_CLEAN
    settings = settings_for(args)
    if args.list_rules:
        sys.stdout.write(list_rules(settings))
        return EXIT_CLEAN
    if "-" in args.paths and len(args.paths) > 1:
        raise ConfigError("`-` (stdin) cannot be combined with other paths")
    engine = Engine(settings)
    findings: list[Finding] = []
    if args.paths == ["-"]:
        name = args.stdin_filename or "<stdin>.py"
        findings.extend(visible(engine.lint_bytes(sys.stdin.buffer.read(), name)))
    else:
        for path in discover(args.paths or ["."], settings, follow_symlinks=args.follow_symlinks):
            findings.extend(visible(lint_file(engine, path)))
    sys.stdout.write(FORMATS[args.output_format](findings))
    if findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except ConfigError as exc:
        sys.stderr.write(f"celery-lint: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:  # pragma: no cover
        return 130
