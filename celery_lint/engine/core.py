"""One engine for every front door: prefilter -> parse once -> one traversal -> findings.

Cost model (libcst): parsing is ~8x ``ast.parse``; ``PositionProvider`` ~2x the parse;
``CSTVisitor`` rebuilds every node it walks. So the engine

* skips the parse when no enabled rule's needle occurs in the text (:meth:`Engine.active_rules`);
* parses a slimmed copy (``slim.py``: definitions no rule can read blanked, found with
  CPython's ``ast``), with libcst's per-node validation off while its parser runs;
* walks the tree itself, over syntactic child fields only (whitespace, comments and
  punctuation are never visited), calling only the hooks the active rules define;
* computes positions only when something was reported, with a codegen pass over just the
  top-level statements holding reported nodes, recording just those nodes (and the
  statements their positions are hoisted from).
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import gc
import os
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import libcst as cst

from ..config.settings import ConfigError, Settings, relative_posix
from ..model.apps import AppLocator
from ..model.callgraph import CallGraph
from ..model.context import FileContext
from ..model.recognise import is_test_module
from ..model.edits import MAX_ROUNDS, SAFE, Fix
from ..model.needles import CELERY_WORD, MAX_FILE_BYTES, NEEDLE_GUARDS, WORD_START_NEEDLES, TextPattern
from ..model.source import (
    SourceError,
    check_parser_safety,
    decode_source,
    may_be_pathological,
    module_name_for,
    parse_module,
    quiet_ast_parse,
    syntax_error,
)
from ..rules import ALL_RULES, FILE_NOT_PARSED, Rule
from ..rules.base import Report
from .findings import FileResult, Finding
from .fixes import apply_fixes
from .positions import positions_of
from .slim import slim
from .suppression import visible
from .walk import walk_for

if TYPE_CHECKING:
    from ..model.project import ProjectIndex

__all__ = [  # decode_source and SourceError: the run and the doors read files through the engine
    "Engine",
    "FileResult",
    "Finding",
    "FixOutcome",
    "SourceError",
    "decode_source",
    "enabled_rules",
    "is_enabled",
]


# ---------------------------------------------------------------------------
# rule selection


def _specificity(code: str, selectors: Iterable[str]) -> int:
    """Length of the longest selector that is a prefix of ``code`` (-1: none)."""
    return max((len(s) for s in selectors if code.startswith(s)), default=-1)


def is_enabled(rule: type[Rule], settings: Settings) -> bool:
    """ruff-style selection: the most specific of select/extend-select/ignore wins.

    Without ``select``, rules that are on by default count as selected. An off-by-default
    rule is only turned on by a selector more specific than the bare ``CLY`` prefix
    (``CLY3``, ``CLY304``), so ``--select CLY`` means "the default rules" everywhere,
    flake8 included.
    """
    selectors = tuple(settings.select or ()) + tuple(settings.extend_select)
    chosen = _specificity(rule.code, selectors)
    if settings.select is None and rule.default_enabled:
        chosen = max(chosen, 0)
    if not rule.default_enabled and chosen <= len("CLY"):
        chosen = -1
    ignored = _specificity(rule.code, settings.ignore)
    return chosen >= 0 and chosen > ignored


def enabled_rules(settings: Settings) -> tuple[type[Rule], ...]:
    check_selectors(settings)
    return tuple(rule for rule in ALL_RULES if is_enabled(rule, settings))


def check_selectors(settings: Settings) -> None:
    """Every code or prefix in ``select``, ``extend-select``, ``ignore`` and
    ``per-file-ignores`` names at least one rule (as ruff's "unknown rule selector"):
    ``--select CLY999`` used to check nothing and say "All checks passed". Raises
    ConfigError with the closest code or prefix when there is one."""
    codes = [rule.code for rule in ALL_RULES]
    known = sorted({*codes, *(code[:4] for code in codes), *(code[:5] for code in codes), "CLY"})
    named = [
        ("select", settings.select or ()),
        ("extend-select", settings.extend_select),
        ("ignore", settings.ignore),
        *((f"per-file-ignores `{pattern}`", found) for pattern, found in settings.per_file_ignores),
    ]
    for where, selectors in named:
        for selector in selectors:
            if not any(code.startswith(selector) for code in codes):
                same = [k for k in known if len(k) == len(selector)]  # a code for a code, a prefix for a prefix
                close = difflib.get_close_matches(selector, same, n=1, cutoff=0.6) or difflib.get_close_matches(
                    selector, known, n=1, cutoff=0.6
                )
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                raise ConfigError(f"unknown rule selector `{selector}` in {where}{hint}")


# ---------------------------------------------------------------------------
# parsing


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while one file is parsed and linted.

    libcst builds a Python object per node (about 100,000 for a 2,000-line file), and
    each allocation burst triggers collections; a full collection walks every object the
    process holds (in flake8: its own and the other plugins'), so the same parse took
    0.52 to 0.89 s over readthedocs.org's 53 parsed files depending on when collections
    fell, and 0.45-0.51 s with the collector paused. libcst trees hold no reference
    cycles, so reference counting frees them; the cycles a file's analysis leaves
    (about 25,000 objects for readthedocs.org's 2,300-line projects/models.py) are
    collected after the file, once the collector is back on. It is switched back on only
    if it was on.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------------------
# the engine


@dataclass
class _Capture:
    """What fixing needs from a lint: the module, the fixes by finding, the names bound."""

    module: cst.Module | None = None
    ctx: FileContext | None = None
    pairs: list[tuple[Finding, Fix]] = dataclasses.field(default_factory=list)
    bound_names: dict[str, str] = dataclasses.field(default_factory=dict)


def _keep_final_newline(before: str, after: str) -> str:
    """libcst drops the last line ending of a file with CR-only line endings (``"a\r"``
    comes back as ``"a"``): a fix must not change a line it did not touch."""
    ending = "\r\n" if before.endswith("\r\n") else before[-1:] if before.endswith(("\r", "\n")) else ""
    if ending and not after.endswith(("\r", "\n")):
        return after + ending
    return after


def _compiles(text: str) -> bool:
    try:
        quiet_ast_parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@dataclass
class FixOutcome:
    """A file after ``--fix``: the new text, the findings fixed, the findings left."""

    text: str
    applied: list[Finding]
    result: FileResult


_WORD_START_NEEDLE_KEYS = frozenset(WORD_START_NEEDLES)


class Engine:
    """Lints sources with one Settings. Safe to reuse for any number of files."""

    def __init__(
        self,
        settings: Settings,
        rules: Sequence[type[Rule]] | None = None,
        index: ProjectIndex | None = None,
        *,
        slim: bool = True,
    ) -> None:
        self.settings = settings
        #: Lint a slimmed copy of each file (``slim.py``): same findings, less to parse.
        self.slim = slim
        #: The project index (None: per-file knowledge only; project rules stay silent).
        self.index = index
        self.rules = tuple(rules) if rules is not None else enabled_rules(settings)
        self.file_rules = tuple(r for r in self.rules if r is not FILE_NOT_PARSED)
        self.reports_unparsed = FILE_NOT_PARSED in self.rules
        #: Each rule's needles; a rule may add some from the project index (CLY107).
        self._rule_needles = {r: r.needles_for(index) for r in self.file_rules}
        self._needles = sorted({n for needles in self._rule_needles.values() for n in needles})
        #: needle -> the positions (in ``file_rules``) of the rules it can switch on
        self._needle_rules: dict[str, list[int]] = defaultdict(list)
        for position, rule in enumerate(self.file_rules):
            for needle in set(self._rule_needles[rule]):
                self._needle_rules[needle].append(position)
        #: Rules limited to some paths (CLY107: models modules); their needles are looked
        #: for only in files on those paths.
        self._path_rules = tuple(r for r in self.file_rules if r.path_pattern is not None)
        self._searches: dict[tuple[bool, ...], tuple[tuple[str | None, tuple[str, ...]], ...]] = {}
        self.apps = AppLocator(settings.src_roots())
        self._off_in_tests = tuple(r.code for r in ALL_RULES if not r.in_tests and r is not FILE_NOT_PARSED)
        self.graph = CallGraph(self.apps, str(settings.project_root), settings.helper_depth)
        #: The text being linted (the module the walk sees may be slimmed): the call
        #: graph reads the file's own functions from it.
        self._text: tuple[str, str, ast.Module | None] = ("", "", None)

    # -- selection -------------------------------------------------------------

    def active_rules(self, text: str, path: str) -> tuple[type[Rule], ...]:
        """The rules that can possibly report in this file: the prefilter."""
        return self._active(text, path)[0]

    def _active(self, text: str, path: str) -> tuple[tuple[type[Rule], ...], set[str]]:
        """:meth:`active_rules`, and the needles present in the text."""
        posix = relative_posix(path, self.settings.project_root)
        key = tuple(rule.applies_to_path(posix) for rule in self._path_rules)
        search = self._searches.get(key)
        if search is None:
            search = self._searches[key] = self._search_plan(key)
        present: set[str] = set()
        for guard, needles in search:
            if guard is None or guard in text:
                present.update(n for n in needles if n in text)
        for needle in present & _WORD_START_NEEDLE_KEYS:
            if WORD_START_NEEDLES[needle].search(text) is None:
                present.discard(needle)
        if not present:
            return (), present
        # Only the rules a present needle names are looked at further (in rule order):
        # most files that get this far hold one common needle, not 45 rules' worth.
        candidates = sorted({position for needle in present for position in self._needle_rules[needle]})
        ignored = self.ignored_for(path)
        patterns: dict[TextPattern, bool] = {}

        def matches(pattern: TextPattern | None) -> bool:
            if pattern is None:
                return True
            if pattern not in patterns:
                patterns[pattern] = pattern.matches(text)
            return patterns[pattern]

        rules = self.file_rules
        active = tuple(
            rules[position]
            for position in candidates
            if not any(rules[position].code.startswith(c) for c in ignored)
            and rules[position].applies_to_path(posix)
            and matches(rules[position].text_pattern)
        )
        return active, present

    def ignored_for(self, path: str) -> tuple[str, ...]:
        """Codes switched off for ``path``: ``per-file-ignores``, and in a test module under
        ``test-code = "lenient"`` every rule not marked ``in_tests``."""
        ignored = self.settings.ignored_codes_for(path)
        if self.settings.test_code == "lenient" and is_test_module(relative_posix(path, self.settings.project_root)):
            ignored = (*ignored, *self._off_in_tests)
        return ignored

    def _prechecked(
        self,
        rules: tuple[type[Rule], ...],
        present: set[str],
        text: str,
        path: str,
        tree: ast.Module | None,
    ) -> tuple[tuple[type[Rule], ...], ast.Module | None]:
        """The rules left when every active rule came in by its ``precheck_needles`` alone
        and is asked (on the file's ``ast``) whether it can report (CLY601: does a call in a
        transaction reach a dispatch?); the ``ast`` made for that, for the parse to reuse."""
        if not rules or any(not present & set(r.precheck_needles) or present & (set(self._rule_needles[r]) - set(r.precheck_needles)) for r in rules):
            return rules, tree
        if not self.settings.helper_depth:
            return (), tree  # only helpers could make these rules report here
        module = module_name_for(path, self.settings.src_roots())
        # A walk that reaches a function of this file skims its text (no parse of it all).
        self.graph.set_current(path, module, (lambda: tree) if tree is not None else (lambda: text))
        kept = tuple(r for r in rules if r.precheck(text, path, module, self.graph))
        return kept, tree

    def _search_plan(self, applies: tuple[bool, ...]) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        """The needles to look for in a file, given which path-limited rules apply to it,
        grouped under a :data:`NEEDLE_GUARDS` substring they share: a file without the
        guard (most files) cannot hold any of them, so one search answers for the group.
        The prefilter is a substring search per needle over every file: 4.8 MB times 34
        needles on readthedocs.org, about a tenth of the plugin's time in flake8."""
        skipped = {rule for rule, applies_here in zip(self._path_rules, applies) if not applies_here}
        needles = sorted({n for rule in self.file_rules if rule not in skipped for n in self._rule_needles[rule]})
        groups: dict[str | None, list[str]] = {}
        for needle in needles:
            guard = next((g for g in NEEDLE_GUARDS if g in needle), None)
            groups.setdefault(guard, []).append(needle)
        plan = [(None, tuple(groups.pop(None, ())))]
        for guard, members in groups.items():
            if len(members) == 1:
                plan[0] = (None, (*plan[0][1], *members))  # a guard of one is the needle again
            else:
                plan.append((guard, tuple(members)))
        return tuple(plan)

    # -- entry points ------------------------------------------------------------

    def oversized(self, path: str, size: int) -> FileResult | None:
        """CLY000 for a file over the size limit (:data:`MAX_FILE_BYTES`), which is never
        parsed: a 50 MB generated module took libcst minutes and gigabytes."""
        if size <= MAX_FILE_BYTES:
            return None
        limit, actual = MAX_FILE_BYTES // (1024 * 1024), size / (1024 * 1024)
        return self._unparsed(path, SourceError(f"file is {actual:.1f} MiB, over the {limit} MiB limit; not linted"), [])

    def lint_path(self, path: str) -> FileResult:
        try:
            too_large = self.oversized(path, os.path.getsize(path))
            if too_large is not None:
                return too_large
            with open(path, "rb") as handle:
                data = handle.read()
        except SourceError as exc:
            return self._unparsed(path, exc, [])
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return self._unparsed(path, SourceError(f"cannot read file: {reason}"), [])
        return self.lint_bytes(data, path)

    def lint_bytes(self, data: bytes, path: str) -> FileResult:
        too_large = self.oversized(path, len(data))
        if too_large is not None:
            return too_large
        try:
            text = decode_source(data)
        except SourceError as exc:
            return self._unparsed(path, exc, [])
        return self.lint_text(text, path)

    def lint_text(self, text: str, path: str, tree: ast.Module | None = None) -> FileResult:
        """Findings of ``text``; ``tree``: its ``ast`` when the caller has it (flake8)."""
        too_large = self.oversized(path, len(text))  # characters: never more than its bytes
        if too_large is not None:
            return too_large
        return self._analyse(text, path, None, tree)

    def fix_text(self, text: str, path: str, *, unsafe: bool = False) -> FixOutcome:
        """Lint ``text`` and apply its fixes (safe ones; unsafe too with ``unsafe``).

        Rounds of lint -> apply until nothing more applies; fixes for findings that a
        ``# noqa`` suppresses are not applied. ``result`` holds the findings of the fixed
        text (what is left), ``applied`` the findings the fixes resolved.
        """
        applied: list[Finding] = []
        current = text
        result = None
        for _ in range(MAX_ROUNDS):
            capture = _Capture()
            result = self._analyse(current, path, capture)
            if capture.module is None or not capture.pairs:
                break
            shown = {id(f) for f in visible(result)}
            wanted = [
                (finding, fix)
                for finding, fix in capture.pairs
                if id(finding) in shown and (fix.applicability == SAFE or unsafe)
            ]
            if not wanted:
                break
            by_fix: dict[int, list[Finding]] = {}
            for finding, fix in wanted:  # one fix may resolve several findings
                by_fix.setdefault(id(fix), []).append(finding)
            unique = list({id(fix): fix for _, fix in wanted}.values())
            new_module, chosen = apply_fixes(capture.module, unique, capture.bound_names)
            new_text = _keep_final_newline(current, new_module.code) if chosen else current
            if new_text == current or not _compiles(new_text):
                break
            applied.extend(finding for fix in chosen for finding in by_fix[id(fix)])
            current = new_text
        else:
            result = self._analyse(current, path, None)
        assert result is not None
        return FixOutcome(current, applied, result)

    def context_of(self, text: str, path: str) -> FileContext | None:
        """The shared facts of a file (tasks, settings) without running any rule.

        For files CPython's ``ast`` cannot read but libcst can (newer syntax than the
        running Python): the project index falls back to this. None when unparsable.
        """
        try:
            if may_be_pathological(text, text.splitlines()):
                return None
            module = parse_module(text)
            capture = _Capture()
            self.lint_module(module, path, (), capture)
        except Exception:  # noqa: BLE001 - the index just goes without this file
            return None
        return capture.ctx

    def _tree_of(self, path: str, module: cst.Module) -> Callable[[], ast.Module | str]:
        """The file being linted for the call graph: its ``ast`` when the engine made one,
        else its text to skim (read only if a walk reaches one of its functions)."""
        text_path, text, tree = self._text

        def tree_of() -> ast.Module | str:
            if text_path != path:
                return module.code
            return tree if tree is not None else text

        return tree_of

    def _analyse(self, text: str, path: str, capture: _Capture | None, tree: ast.Module | None = None) -> FileResult:
        self.apps.touched = set()
        lines = text.splitlines()
        rules, present = self._active(text, path)
        rules, tree = self._prechecked(rules, present, text, path, tree)
        self._text = (path, text, tree)
        if not rules:
            return FileResult(path, [], lines, parsed=False)
        with _collector_paused():
            return self._parse_and_lint(text, path, capture, tree, lines, rules)

    def _parse_and_lint(
        self,
        text: str,
        path: str,
        capture: _Capture | None,
        tree: ast.Module | None,
        lines: list[str],
        rules: tuple[type[Rule], ...],
    ) -> FileResult:
        try:
            if may_be_pathological(text, lines):
                tree = check_parser_safety(text, tree)
            compiles = True
            if tree is None:
                try:  # once, for slimming and for the call graph's view of this file
                    tree = quiet_ast_parse(text)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    tree = None  # libcst's parse reports the error
                    compiles = False
                self._text = (path, text, tree)
            # Fixes rewrite the module: they need all of it.
            if capture is not None or not self.slim:
                source, statements = text, (tree.body if tree is not None else None)
            else:
                source, statements = slim(text, tree)
            try:
                module = parse_module(source)
            except cst.ParserSyntaxError:
                if source is text:
                    raise
                source, statements = text, None
                module = parse_module(text)  # never report what slimming caused
        except SourceError as exc:
            return self._unparsed(path, exc, lines)
        except cst.ParserSyntaxError as exc:
            return self._unparsed(path, syntax_error(text, exc), lines)
        except RecursionError:
            return self._unparsed(path, SourceError("code is nested too deeply for the parser"), lines)
        except Exception as exc:  # noqa: BLE001 - libcst raises assorted errors on odd input
            return self._unparsed(path, SourceError(f"the parser failed: {type(exc).__name__}: {exc}"), lines)
        try:
            findings = self.lint_module(
                module, path, rules, capture, statements=statements, source=source, mentions_celery=CELERY_WORD.search(text) is not None
            )
        except RecursionError:
            return self._unparsed(path, SourceError("code is nested too deeply to analyse"), lines)
        except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the run
            message = f"internal error in celery-lint, please report it: {type(exc).__name__}: {exc}"
            return self._unparsed(path, SourceError(message), lines)
        if not compiles:
            # libcst reads syntax of newer Pythons (`except A, B:` of 3.14) that the running
            # one cannot compile, and a fix is applied only when the fixed file compiles:
            # such a file is never fixable here, so no finding says it is.
            findings = [dataclasses.replace(f, fix=None) if f.fix is not None else f for f in findings]
        return FileResult(path, findings, lines, parsed=True)

    def lint_module(
        self,
        module: cst.Module,
        path: str,
        rules: Sequence[type[Rule]],
        capture: _Capture | None = None,
        *,
        statements: list[ast.stmt] | None = None,
        source: str | None = None,
        mentions_celery: bool = True,
    ) -> list[Finding]:
        """Run ``rules`` over a parsed module in one traversal.

        ``statements`` and ``source``: the ``ast`` top-level statements of the text the
        module was parsed from, and that text; with them, positions are computed for the
        statements holding findings only (``positions_of``). ``mentions_celery``: whether
        the file's text holds ``Celery`` (see ``FileContext``)."""
        ctx = FileContext(path, self.settings, self.apps, mentions_celery=mentions_celery)
        ctx.index = self.index
        ctx.graph = self.graph if self.settings.helper_depth else None
        self.graph.set_current(path, ctx.module, self._tree_of(path, module))
        reports: list[Report] = []
        analyses = {}
        for rule in rules:
            for analysis in rule.requires:
                if analysis not in analyses:
                    analyses[analysis] = analysis(ctx, self.settings)
        ctx.analyses = analyses
        instances = [*analyses.values(), *(rule(ctx, self.settings, reports.append) for rule in rules)]

        walk, events = walk_for(ctx, instances)

        def emit(event: str, payload: Any) -> None:
            for hook in events.get(event, ()):
                hook(payload)

        ctx._emit = emit
        try:
            walk.run_module(module)
            ctx.finish()
            for hook in events.get("module_leave", ()):
                hook()
        finally:
            ctx.close()  # names fold against this file's constants only while it is walked
        located = (walk.tops, statements, source) if statements is not None and source is not None else None
        findings = self._findings(module, path, reports, capture, located)
        if capture is not None:
            capture.module = module
            capture.ctx = ctx
            capture.bound_names = dict(ctx.imports)
            capture.bound_names.update({name: "" for name in ctx.module_names if name not in ctx.imports})
        return findings

    # -- helpers -------------------------------------------------------------------

    def _findings(
        self,
        module: cst.Module,
        path: str,
        reports: list[Report],
        capture: _Capture | None = None,
        located: tuple[dict[int, int], list[ast.stmt], str] | None = None,
    ) -> list[Finding]:
        if not reports:
            return []
        ranges = positions_of(module, (r.node for r in reports), located)
        findings = []
        seen: set[tuple[str, int, int, str]] = set()
        for report in reports:
            where = ranges.get(report.node)
            if where is None:  # pragma: no cover - every node of the module is generated
                continue
            finding = Finding(
                code=report.rule.code,
                name=report.rule.name,
                message=report.message,
                filename=path,
                line=where.start.line,
                column=where.start.column + 1,
                end_line=where.end.line,
                end_column=where.end.column + 1,
                fix=report.fix.describe() if report.fix is not None else None,
            )
            key = (finding.code, finding.line, finding.column, finding.message)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
                if capture is not None and report.fix is not None:
                    capture.pairs.append((finding, report.fix))
        findings.sort(key=Finding.sort_key)
        return findings

    def _unparsed(self, path: str, error: SourceError, lines: list[str]) -> FileResult:
        if not self.reports_unparsed or any(
            FILE_NOT_PARSED.code.startswith(c) for c in self.settings.ignored_codes_for(path)
        ):
            return FileResult(path, [], lines, parsed=False)
        finding = Finding(
            code=FILE_NOT_PARSED.code,
            name=FILE_NOT_PARSED.name,
            message=f"file not linted: {error}",
            filename=path,
            line=error.line,
            column=error.column,
            end_line=error.line,
            end_column=error.column,
        )
        return FileResult(path, [finding], lines, parsed=False)
