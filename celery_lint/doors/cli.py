"""The ``celery-lint`` command: argument parsing, exit codes, output. No analysis here.

Only light modules are imported at the top: the engine (and with it libcst, about 0.3 s
to import) is imported when a file actually needs linting, so a pre-commit run on files
with no Celery code answers at once (see :func:`_nothing_to_lint`). Measured with
``python -X importtime``: this module with its top-level imports 27-40 ms,
``celery_lint.run.runner`` (engine, rules, libcst) 0.29 s. The imports marked
``# lazy: start-up time`` are the ones that keep that cost out of such runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .. import __version__
from ..config.settings import ConfigError, Settings, load_settings
from ..config.stamp import begin_run, end_run
from ..model.needles import ALL_NEEDLES, MAX_FILE_BYTES, MODELS_PATH_PATTERN
from ..report.summary import colored, summary_line, use_color

if TYPE_CHECKING:
    from ..engine.core import Finding
    from ..report.formats import RunInfo
    from ..run.runner import FixMode, RunResult

#: The values of --output-format (``report.FORMATS`` has one renderer for each; a test checks).
OUTPUT_FORMATS = ("github", "json", "sarif", "text")

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, like every usage error
        raise ConfigError(message)


def _codes(value: str) -> list[str]:
    codes = [c.strip().upper() for c in value.split(",") if c.strip()]
    if not codes:
        raise argparse.ArgumentTypeError("no rule code given (e.g. CLY101, CLY1)")
    for code in codes:
        if not (code.startswith("CLY") and code[3:].isdigit() and len(code) <= 6) and code != "CLY":
            raise argparse.ArgumentTypeError(f"{code!r} is not a celery-lint code or prefix (e.g. CLY101, CLY1)")
    return codes


def _globs(value: str) -> list[str]:
    return [g.strip() for g in value.split(",") if g.strip()]


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of processes")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="celery-lint",
        allow_abbrev=False,  # `--exit` is not `--exit-zero` (ruff accepts no abbreviations either)
        description="Find Celery footguns: misnamed tasks, unknown options, retries that repeat side effects, "
        "dispatches inside transactions, and more.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to lint (default: .); - reads stdin")
    parser.add_argument("--select", type=_codes, metavar="CODES", help="comma-separated codes or prefixes to enable; replaces the configured select, extend-select and ignore, and turns on off-by-default rules named more specifically than CLY")
    parser.add_argument("--ignore", type=_codes, default=[], metavar="CODES", help="codes or prefixes to disable (added to the configured ignore list)")
    parser.add_argument("--extend-select", type=_codes, default=[], metavar="CODES", help="codes or prefixes to enable on top of the selection")
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--statistics", action="store_true", help="print the number of findings per code instead of the findings (a JSON list with --output-format json)")
    parser.add_argument("-o", "--output-file", type=Path, metavar="FILE", help="write the report (findings, statistics, diff) to FILE instead of stdout")
    parser.add_argument("-q", "--quiet", action="store_true", help="print the findings and nothing else: no summary line, no fix hints")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour the text output: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR forces), always or never")
    parser.add_argument("--fix", action="store_true", help="apply safe fixes in place; report what is left")
    parser.add_argument("--unsafe-fixes", action="store_true", help="also apply (with --fix/--diff) and mark as fixable the unsafe fixes, which change behaviour toward the evident intent")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a unified diff and write nothing (also with --fix, as in ruff); exit 1 when there is something to fix")
    parser.add_argument("--show-fixes", action="store_true", help="with --fix, list the fixes applied, per file and code")
    parser.add_argument("--add-noqa", action="store_true", help="append `# noqa: CODE` to every reported line (merging with existing noqa comments), then exit 0")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--exit-non-zero-on-fix", action="store_true", help="with --fix, exit 1 when a fix was applied, even if no finding is left")
    parser.add_argument("--config", type=Path, metavar="FILE", help="read settings from FILE instead of the nearest pyproject.toml")
    parser.add_argument("--jobs", "-j", type=_positive, metavar="N", help="worker processes (default: all cores)")
    parser.add_argument("--no-index", action="store_true", help="do not build the project index: only per-file knowledge, and the project rules (CLY103, CLY407, CLY408, CLY503, CLY701, CLY702) stay silent")
    parser.add_argument("--no-cache", action="store_true", help="read and write no cache (results, project index)")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR", help="where the result cache lives (default: .celery_lint_cache at the project root)")
    parser.add_argument("--exclude", type=_globs, metavar="GLOBS", help="comma-separated globs not to lint; replaces the configured `exclude` (and its default list)")
    parser.add_argument("--extend-exclude", type=_globs, default=[], metavar="GLOBS", help="comma-separated globs not to lint, on top of `exclude`")
    parser.add_argument("--force-exclude", action=argparse.BooleanOptionalAction, default=None, help="apply the exclusions and .gitignore to paths named on the command line too (the pre-commit hooks set it)")
    parser.add_argument("--respect-gitignore", action=argparse.BooleanOptionalAction, default=None, help="skip what the repository's .gitignore files ignore (default: on)")
    parser.add_argument("--show-files", action="store_true", help="print the files that would be linted, then exit")
    parser.add_argument("--show-settings", metavar="FILE", help="print the settings that govern FILE and the configuration they come from, then exit")
    parser.add_argument("--follow-symlinks", action="store_true", help="follow symlinked directories and files out of the given paths (cycles are still visited once)")
    parser.add_argument("--stdin-filename", metavar="NAME", help="lint stdin as the file NAME (implies `-`; NAME decides settings, module name and path rules)")
    parser.add_argument("--list-rules", action="store_true", help="print every rule with its default, scope and fix, then exit (a JSON list with --output-format json)")
    parser.add_argument("--explain", metavar="CODE", help="print a rule's documentation, then exit")
    parser.add_argument("--daemon", action="store_true", help="run through a background server that keeps libcst and the rules imported (started on first use, exits after 15 idle minutes; not in CI or with CELERY_LINT_DAEMON=0): a one-file run, as in pre-commit, in a fraction of the time")
    parser.add_argument("--version", action="version", version=f"celery-lint {__version__}")
    return parser


def settings_for(args: argparse.Namespace) -> Settings:
    paths = [p for p in args.paths if p != "-"]
    if args.stdin_filename and "-" in args.paths:
        paths.append(args.stdin_filename)
    start = Path(os.path.commonpath([os.path.abspath(p) for p in paths])) if paths else Path.cwd()
    if not start.is_dir():
        start = start.parent
    return with_overrides(load_settings(start, args.config), args)


def with_overrides(settings: Settings, args: argparse.Namespace) -> Settings:
    """The command line's options on top of one configuration (every configuration of a
    run gets the same: the command line is the last layer, as in ruff)."""
    changes: dict[str, object] = {}
    if args.select is not None:
        # as in ruff, the command line is a later layer: its --select starts afresh,
        # dropping the configured select/extend-select/ignore (its own --ignore applies)
        changes["select"] = tuple(args.select)
        changes["extend_select"] = ()
        changes["ignore"] = tuple(args.ignore)
    elif args.ignore:
        changes["ignore"] = settings.ignore + tuple(args.ignore)
    if getattr(args, "no_index", False):
        changes["project_index"] = False
    if getattr(args, "exclude", None) is not None:
        changes["exclude"] = tuple(args.exclude)
    if getattr(args, "extend_exclude", None):
        changes["extend_exclude"] = settings.extend_exclude + tuple(args.extend_exclude)
    if getattr(args, "force_exclude", None) is not None:
        changes["force_exclude"] = args.force_exclude
    if getattr(args, "respect_gitignore", None) is not None:
        changes["respect_gitignore"] = args.respect_gitignore
    if args.extend_select:
        changes["extend_select"] = tuple(changes.get("extend_select", settings.extend_select)) + tuple(args.extend_select)
    return settings.replace(**changes) if changes else settings


#: What ``--list-rules``' columns mean (RULES.md's conventions).
LIST_RULES_LEGEND = """
default: on, or off (opinionated: enable with --select/--extend-select)
scope:   file (one file; runs in flake8), project (needs the project index),
         file+ (per file, more precise with the index)
fix:     safe (keeps behaviour; --fix), unsafe (changes behaviour toward the evident
         intent; --unsafe-fixes), safe* (safe only under the guard its --explain names,
         unsafe or none otherwise), - (no fix)
status:  whether this run's selection and configuration run it
"""


def list_rules(settings: Settings, as_json: bool = False) -> str:
    """Every code of the catalogue, with whether this release implements and runs it,
    and a legend of the columns (JSON: a list of objects, no legend)."""
    from ..rules.catalogue import CATALOGUE  # lazy: start-up time
    from ..engine.core import is_enabled  # lazy: start-up time
    from ..rules import RULES_BY_CODE  # lazy: start-up time

    header = ("code", "name", "default", "scope", "fix", "status")
    rows = []
    for entry in CATALOGUE:
        rule = RULES_BY_CODE.get(entry.code)
        if rule is None:
            status = "not in this release"
        else:
            status = "enabled" if is_enabled(rule, settings) else "disabled"
        fix = entry.fix.split(" (")[0]
        rows.append((entry.code, entry.name, entry.default, entry.scope, fix, status))
    if as_json:
        return json.dumps([dict(zip(header, row)) for row in rows], indent=2) + "\n"
    rows.insert(0, header)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n" for row in rows)
    return table + LIST_RULES_LEGEND


def explain(code: str) -> str:
    from ..rules import RULES_BY_CODE  # lazy: start-up time

    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        raise ConfigError(f"unknown rule code {code!r}; see `celery-lint --list-rules`")
    doc = "\n".join(line[4:] if line.startswith("    ") else line for line in (rule.__doc__ or "").splitlines())
    return f"{rule.code} {rule.name}\n\n{doc.strip()}\n"


def statistics(findings: Sequence[Finding], run: RunInfo, as_json: bool = False) -> str:
    """Findings per code, most frequent first; as ruff's ``--statistics --output-format
    json``: ``[{"code", "name", "count", "fixable"}]``."""
    from ..report.formats import fixable, summary  # lazy: start-up time

    counts: dict[str, int] = {}
    fixes: dict[str, int] = {}
    for finding in findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
        fixes[finding.code] = fixes.get(finding.code, 0) + fixable(finding, run)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if as_json:
        listed = [{"code": code, "name": _name(code), "count": count, "fixable": fixes[code]} for code, count in rows]
        return json.dumps(listed, indent=2) + "\n"
    width = max((len(str(c)) for c in counts.values()), default=1)
    lines = [f"{count:>{width}}  {code}  {_name(code)}" for code, count in rows]
    if not run.quiet:
        lines.append(summary(findings, run))
    return "".join(line + "\n" for line in lines)


def _name(code: str) -> str:
    from ..rules import RULES_BY_CODE  # lazy: start-up time

    rule = RULES_BY_CODE.get(code)
    return rule.name if rule else ""


def _fix_mode(args: argparse.Namespace) -> FixMode | None:
    from ..run.runner import FixMode  # lazy: start-up time

    if not (args.fix or args.diff):
        return None
    return FixMode(unsafe=args.unsafe_fixes, write=not args.diff)


def _lint(args: argparse.Namespace, settings: Settings) -> tuple[RunResult, str | None]:
    """Findings (noqa applied, sorted), files checked, fixes, and a cache warning if any."""
    from ..run.files import discover  # lazy: start-up time
    from ..run.runner import RunResult  # lazy: start-up time

    fix_mode = _fix_mode(args)
    if args.paths == ["-"]:
        return _lint_stdin(args, settings, fix_mode), None
    others: list[str] = []  # files that may hold worker command lines, for the index of a whole-project run
    groups = _governed(args, settings, list(discover(args.paths or ["."], settings, follow_symlinks=args.follow_symlinks, others=others)))
    # Linting the project root itself (the common `celery-lint .`): walk the tree once.
    whole = (
        len(groups) == 1
        and groups[0][0] is settings
        and [os.path.abspath(p) for p in (args.paths or ["."])] == [str(settings.project_root)]
    )
    results = [_lint_group(args, governing, files, others if whole else None, fix_mode) for governing, files in groups]
    merged = RunResult([f for r, _ in results for f in r.findings], sum(r.checked for r, _ in results))
    merged.findings.sort(key=lambda f: f.sort_key())
    for result, _ in results:
        merged.fixed.extend(result.fixed)
        merged.diffs.extend(result.diffs)
    warnings = [w for _, w in results if w]
    return merged, warnings[0] if warnings else None


def _lint_stdin(args: argparse.Namespace, settings: Settings, fix_mode: FixMode | None) -> RunResult:
    """``-``: stdin, linted as ``--stdin-filename`` (its configuration: ``settings``)."""
    from ..run.cache import CACHE_DIR_NAME  # lazy: start-up time
    from ..model.source import ModuleNames  # lazy: start-up time
    from ..engine.core import Engine  # lazy: start-up time
    from ..run.project import project_index  # lazy: start-up time
    from ..run.runner import RunResult, _shown, fix_source  # lazy: start-up time

    cache_dir = None if args.no_cache else (args.cache_dir or settings.project_root / CACHE_DIR_NAME)
    index = project_index(settings, cache_dir, None, ModuleNames(settings.src_roots()))
    engine = Engine(settings, index=index)
    name = args.stdin_filename or "<stdin>.py"
    data = sys.stdin.buffer.read()
    if fix_mode is None:
        return RunResult(_shown(engine, engine.lint_bytes(data, name)), 1)
    new, linted = fix_source(engine, data, name, fix_mode)
    if fix_mode.write:  # `--fix -`: the fixed source goes to stdout, as ruff does
        sys.stdout.buffer.write(new if new is not None else data)
        sys.stdout.flush()
    return RunResult(linted.findings, 1, linted.fixed, [linted.diff] if linted.diff else [])


def _governed(args: argparse.Namespace, settings: Settings, paths: list[str]) -> list[tuple[Settings, list[str]]]:
    """The files of a run grouped by the configuration that governs each (the nearest
    ``pyproject.toml`` with a table, as in ruff; ``--config`` governs every file). A file
    a walk found under a nested configuration also passes that configuration's
    exclusions (a file named on the command line only with its ``force-exclude``)."""
    if args.config is not None:
        return [(settings, paths)]
    from ..config.settings import Hierarchy  # lazy: start-up time (light)
    from ..run.files import shown_path  # lazy: start-up time
    from ..run.ignore import Selection  # lazy: start-up time (light)

    hierarchy = Hierarchy(settings, lambda loaded: with_overrides(loaded, args))
    named = {shown_path(p) for p in args.paths if os.path.isfile(p)}
    groups: dict[int, tuple[Settings, list[str]]] = {}
    selections: dict[int, Selection] = {}
    for path in paths:
        governing = hierarchy.settings_for(path)
        if governing is not settings and (path not in named or governing.force_exclude):
            selection = selections.get(id(governing))
            if selection is None:
                selection = selections[id(governing)] = Selection(governing)
            # the walk asked .gitignore already (one repository, whatever the configuration),
            # unless it was told not to and this configuration says otherwise
            ask_git = path in named or (governing.respect_gitignore and not settings.respect_gitignore)
            if selection.excluded(path, gitignore=ask_git):
                continue
        groups.setdefault(id(governing), (governing, []))[1].append(path)
    return list(groups.values()) or [(settings, [])]


def _lint_group(
    args: argparse.Namespace, settings: Settings, paths: list[str], others: list[str] | None, fix_mode: FixMode | None
) -> tuple[RunResult, str | None]:
    """Lint the files one configuration governs, with its project index and caches.
    ``others``: when ``paths`` are the whole project's files (the walk of its root), the
    other files that walk found that may hold worker command lines; None: the index walks."""
    from ..run.cache import CACHE_DIR_NAME, Cache, fingerprint  # lazy: start-up time
    from ..model.graph_store import GraphStore  # lazy: start-up time
    from ..model.source import ModuleNames  # lazy: start-up time
    from ..engine.core import Engine  # lazy: start-up time
    from ..run.project import project_index  # lazy: start-up time
    from ..run.runner import default_jobs, lint_files  # lazy: start-up time

    cache_dir = None if args.no_cache else (args.cache_dir or settings.project_root / CACHE_DIR_NAME)
    names = ModuleNames(settings.src_roots())
    index = project_index(settings, cache_dir, paths if others is not None else None, names, others)
    cache = graph = None
    if cache_dir is not None:
        key = fingerprint(settings, [r.code for r in Engine(settings).rules], index.digest() if index else "")
        cache = Cache(cache_dir, key, names)
        graph = GraphStore(cache_dir)
    jobs = args.jobs or default_jobs()
    result = lint_files(paths, settings, jobs=jobs, cache=cache, fix_mode=fix_mode, index=index, graph_store=graph)
    warning = None
    if cache is not None:
        cache.save()
        warning = cache.warning
    if graph is not None:
        graph.save()
    return result, warning


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.stdin_filename is not None:  # as in ruff: the name implies reading stdin
        if args.paths and args.paths != ["-"]:
            raise ConfigError("--stdin-filename lints stdin under that name; give no other paths (or only `-`)")
        args.paths = ["-"]
    if args.explain:
        sys.stdout.write(explain(args.explain))
        return EXIT_CLEAN
    begin_run(caches=not args.no_cache)  # what the caches may trust by stat is judged against this moment
    settings = settings_for(args)
    if args.output_file is not None:
        _emit(args, "")  # created (emptied) now: an unwritable path is an error before any work
    if args.list_rules:
        _emit(args, list_rules(settings, as_json=args.output_format == "json"))
        return EXIT_CLEAN
    if "-" in args.paths and len(args.paths) > 1:
        raise ConfigError("`-` (stdin) cannot be combined with other paths")
    if args.add_noqa and "-" in args.paths:
        raise ConfigError("--add-noqa edits files; it cannot be used with stdin")
    if args.add_noqa and (args.fix or args.diff):
        raise ConfigError("--add-noqa cannot be combined with --fix or --diff")
    if args.show_fixes and not (args.fix or args.diff):
        raise ConfigError("--show-fixes lists the fixes --fix applies; use it with --fix or --diff")
    if args.show_files:
        return _show_files(args, settings)
    if args.show_settings is not None:
        return _show_settings(args, settings)
    if _nothing_to_lint(args, settings):
        return _report_clean(args)
    from ..report.formats import FORMATS, RunInfo, source_root  # lazy: start-up time

    result, warning = _lint(args, settings)
    findings, checked = result.findings, result.checked
    if warning:
        sys.stderr.write(f"celery-lint: warning: {warning}\n")
    if args.add_noqa:
        return _add_noqa(findings)
    if args.show_fixes:
        sys.stderr.write(_fixes_listing(result.fixed))
    if args.diff:
        return _report_diff(args, result)
    stdin_fixed = args.fix and args.paths == ["-"]
    out = sys.stderr if stdin_fixed else sys.stdout
    run_info = RunInfo(
        files_checked=checked,
        color=_color(args, out),
        unsafe_fixes=args.unsafe_fixes,
        fixed=len(result.fixed) if args.fix else None,
        quiet=args.quiet,
        source_root=source_root(Path.cwd()) if args.output_format == "sarif" else None,
    )
    if stdin_fixed:  # the fixed source went to stdout: what is left goes to stderr
        if findings:
            out.write(FORMATS["text"](findings, run_info))
    elif args.statistics:
        _emit(args, statistics(findings, run_info, as_json=args.output_format == "json"))
    else:
        _emit(args, FORMATS[args.output_format](findings, run_info))
    if args.exit_zero:
        return EXIT_CLEAN
    if findings or (args.exit_non_zero_on_fix and args.fix and result.fixed):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _emit(args: argparse.Namespace, text: str) -> None:
    """The report goes to stdout, or to ``--output-file`` (created by the first call)."""
    if args.output_file is None:
        sys.stdout.write(text)
        return
    started = getattr(args, "_output_started", False)
    try:
        with open(args.output_file, "a" if started else "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ConfigError(f"cannot write --output-file {args.output_file}: {exc.strerror or exc}") from None
    args._output_started = True


def _color(args: argparse.Namespace, stream: object) -> bool:
    """``--color``: always, never, or auto (a terminal; NO_COLOR and FORCE_COLOR as usual)."""
    if args.color != "auto":
        return args.color == "always"
    if args.output_file is not None:
        return use_color(False)
    isatty = getattr(stream, "isatty", None)
    return use_color(bool(isatty and isatty()))


def _nothing_to_lint(args: argparse.Namespace, settings: Settings) -> bool:
    """True when every path is a plain file that no rule could report on.

    The common pre-commit case: a commit touching no Celery code. Such files hold none
    of the rules' needles, no ``noqa`` (CLY901), no NUL byte and decode as UTF-8, so the
    full run would print exactly "All checks passed": answer without importing libcst.
    Anything else (directories, exclusions, other formats) takes the full path.
    """
    if not args.paths or "-" in args.paths or args.output_format == "sarif":
        return False
    needles = [n.encode() for n in (*ALL_NEEDLES, "noqa")]
    paths = args.paths
    if settings.force_exclude:  # what is excluded is not linted at all (the pre-commit hooks)
        from ..run.ignore import Selection  # lazy: start-up time (light: no libcst)

        selection = Selection(settings)
        paths = [p for p in paths if not (os.path.lexists(p) and selection.excluded(p))]
        args.checked = len({os.path.normpath(p) for p in paths})
    for path in paths:
        if not os.path.isfile(path) or os.path.islink(path):
            return False
        if settings.project_index and MODELS_PATH_PATTERN.search(Path(path).as_posix()):
            return False  # CLY107 with the index: any module defining tasks counts
        try:
            if os.path.getsize(path) > MAX_FILE_BYTES:
                return False
            with open(path, "rb") as handle:
                data = handle.read()
            data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        if b"\x00" in data or any(needle in data for needle in needles):
            return False
    return True


def _report_clean(args: argparse.Namespace) -> int:
    checked = getattr(args, "checked", None)
    line = summary_line(0, 0, len({os.path.normpath(p) for p in args.paths}) if checked is None else checked)
    if args.diff:
        pass  # nothing to change: no diff
    elif args.add_noqa:
        sys.stdout.write("Added 0 noqa directives to 0 files.\n")
    elif args.output_format == "json":
        _emit(args, "[]\n")
    elif args.quiet:
        pass
    elif args.statistics:
        _emit(args, line + "\n")
    elif args.output_format == "text":
        _emit(args, colored(line, _color(args, sys.stdout)) + "\n")
    return EXIT_CLEAN


def _show_files(args: argparse.Namespace, settings: Settings) -> int:
    """``--show-files``: the files a run with these paths and settings would lint."""
    from ..run.files import discover  # lazy: start-up time

    if "-" in args.paths:
        raise ConfigError("--show-files lists files to lint; stdin (`-`) is not one")
    found = list(discover(args.paths or ["."], settings, follow_symlinks=args.follow_symlinks))
    kept = {path for _, files in _governed(args, settings, found) for path in files}
    for path in found:
        if path in kept:
            _emit(args, printable_path(path) + "\n")
    return EXIT_CLEAN


def _show_settings(args: argparse.Namespace, settings: Settings) -> int:
    """``--show-settings FILE``: the configuration that governs FILE, and every setting."""
    from ..config.settings import _KEYS, Hierarchy  # lazy: start-up time (light)

    path = args.show_settings
    governing = settings
    if args.config is None:
        governing = Hierarchy(settings, lambda loaded: with_overrides(loaded, args)).settings_for(path)
    source = str(governing.config_file) if governing.config_file else "none (the defaults)"
    lines = [
        f"Settings for {path}",
        f"configuration: {source}" + (" (--config)" if args.config is not None else ""),
        f"project root: {governing.project_root}",
    ]
    for key, (attr, _) in _KEYS.items():
        value = getattr(governing, attr)
        if key == "target-version":
            shown = f'"{value[0]}.{value[1]}"  # from {governing.target_version_source or "the default (newest known)"}'
        else:
            shown = _toml(value)
        lines.append(f"{key} = {shown}")
    _emit(args, "\n".join(lines) + "\n")
    return EXIT_CLEAN


def _toml(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "pattern"):
        return json.dumps(value.pattern)  # type: ignore[attr-defined]
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value) + " }"
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return json.dumps(str(value))


def printable_path(path: str) -> str:
    """A path on one line (a line break in a file name is shown escaped)."""
    return path.encode("unicode_escape").decode("ascii") if _CONTROL.search(path) else path


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _report_diff(args: argparse.Namespace, result: RunResult) -> int:
    """``--diff``: the unified diffs on stdout (or ``--output-file``), a count on stderr
    (not with ``--quiet``); exit 1 when any."""
    from ..report.summary import plural  # lazy: start-up time

    _emit(args, "".join(diff if diff.endswith("\n") else diff + "\n" for diff in result.diffs))
    if result.fixed:
        if not args.quiet:
            sys.stderr.write(f"Would fix {plural(len(result.fixed), 'finding')} in {plural(len(result.diffs), 'file')}.\n")
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _fixes_listing(fixed: Sequence[Finding]) -> str:
    """``--show-fixes``: per file, how many findings of each code were fixed."""
    if not fixed:
        return "No fixes applied.\n"
    from ..report.summary import plural  # lazy: start-up time

    by_file: dict[str, dict[str, int]] = {}
    for finding in fixed:
        counts = by_file.setdefault(finding.filename, {})
        counts[finding.code] = counts.get(finding.code, 0) + 1
    lines = [f"Fixed {plural(len(fixed), 'finding')}:"]
    for path in sorted(by_file):
        lines.append(f"- {path}:")
        for code, count in sorted(by_file[path].items()):
            lines.append(f"    {count} \u00d7 {code} ({_name(code)})")
    return "\n".join(lines) + "\n"


def _add_noqa(findings: Sequence[Finding]) -> int:
    from ..run.noqa import add_noqa  # lazy: start-up time

    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.filename, []).append(finding)
    lines = files = 0
    failed = False
    for path, file_findings in by_file.items():
        if path == "-" or not os.path.isfile(path):
            continue
        try:
            changed = add_noqa(path, file_findings)
        except (OSError, UnicodeError, SyntaxError) as exc:  # the file is left as it was
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            sys.stderr.write(f"celery-lint: error: cannot add noqa directives to {path}: {reason}\n")
            failed = True
            continue
        if changed:
            lines += changed
            files += 1
    sys.stdout.write(f"Added {lines} noqa directive{'s' if lines != 1 else ''} to {files} file{'s' if files != 1 else ''}.\n")
    return EXIT_ERROR if failed else EXIT_CLEAN


def run_in_process(argv: Sequence[str] | None = None) -> int:
    """One run in this process: exit status 0 clean, 1 findings, 2 usage or configuration error.

    A reader that stops early (``celery-lint . | head``) ends the run with status 2 and
    no traceback: the output was not delivered, so the run is neither clean nor a list
    of findings. stdout is pointed at /dev/null so the interpreter's final flush is quiet.
    """
    try:
        return run(argv)
    except ConfigError as exc:
        sys.stderr.write(f"celery-lint: error: {exc}\n")
        return EXIT_ERROR
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_ERROR
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    finally:
        end_run()  # the memos a --no-cache run turned off serve the next run in this process again
