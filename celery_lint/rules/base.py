"""The shape every rule has. Rules subclass :class:`Rule` directly, never each other."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import libcst as cst

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..model.callgraph import CallGraph
    from ..model.context import FileContext
    from ..model.edits import Fix

from ..model.needles import DISPATCH_NEEDLES, MODELS_NEEDLES, TASK_DEFINITION_NEEDLES, TASK_DEFINITION_PATTERN, TextPattern

__all__ = ["DISPATCH_NEEDLES", "MODELS_NEEDLES", "TASK_DEFINITION_NEEDLES", "TASK_DEFINITION_PATTERN", "Example", "Rule", "TextPattern"]

DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Options", "References")


@dataclass(frozen=True)
class Example:
    """A code sample for a rule's VALID/INVALID lists.

    ``path`` is the file name the sample is linted as (it decides the module name and
    rules that look at the file name). ``options`` are ``[tool.celery-lint]`` keys.
    For INVALID samples, ``lines`` are the 1-based lines that must be reported
    (default: every line with a trailing ``# error`` comment). ``files`` are more files
    of the same project: the project index is built over all of them.
    """

    code: str
    path: str = "proj/tasks.py"
    options: dict[str, Any] = field(default_factory=dict)
    lines: tuple[int, ...] | None = None
    #: Other files of the example project (path -> source), for the project rules.
    files: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The sample as it is linted: dedented, without the leading blank line."""
        return textwrap.dedent(self.code).lstrip("\n")

    def expected_lines(self) -> tuple[int, ...]:
        if self.lines is not None:
            return self.lines
        return tuple(i for i, line in enumerate(self.source.splitlines(), 1) if line.rstrip().endswith("# error"))


@dataclass
class Report:
    rule: type[Rule]
    node: cst.CSTNode
    message: str
    fix: Fix | None = None


class Rule:
    """Base class of every rule.

    A rule declares its identity and documentation as class attributes, and hooks:
    ``visit_<Node>``/``leave_<Node>`` for libcst node types, and the context's events
    ``task_enter(task)``, ``task_leave(task)``, ``dispatch(dispatch)``, ``module_leave()``.
    The engine instantiates enabled rules per file and calls only the hooks they define.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    default_enabled: ClassVar[bool] = True
    #: ``file``, ``file+`` or ``project`` (see RULES.md).
    scope: ClassVar[str] = "file"
    #: ``"safe"``, ``"unsafe"`` or None: the fix the catalogue promises.
    fix: ClassVar[str | None] = None
    #: The rule can only report in files containing one of these strings.
    needles: ClassVar[tuple[str, ...]] = TASK_DEFINITION_NEEDLES
    #: Needles that bring the rule into a file only if :meth:`precheck` agrees: when every
    #: active rule came in by such needles alone, the engine asks before parsing with libcst.
    precheck_needles: ClassVar[tuple[str, ...]] = ()
    #: When set, the file must also match this regex (checked once per pattern and file).
    text_pattern: ClassVar[TextPattern | None] = TASK_DEFINITION_PATTERN
    #: When set, the rule only runs on files whose POSIX path matches this regex.
    path_pattern: ClassVar[re.Pattern[str] | None] = None
    #: Runs in test modules under the default ``test-code = "lenient"``: the rule is about
    #: code that is wrong wherever it runs (an option value, a retry not raised), not about
    #: how a task is deployed, named or sent.
    in_tests: ClassVar[bool] = False
    #: Analyses (classes with the same hooks, e.g. :class:`~celery_lint.side_effects.SideEffects`)
    #: the rule reads from ``ctx.analyses``; each runs once per file in the same traversal.
    requires: ClassVar[tuple[type, ...]] = ()
    VALID: ClassVar[list[Example | str]] = []
    INVALID: ClassVar[list[Example | str]] = []

    def __init__(self, ctx: FileContext, settings: Settings, report: Callable[[Report], None]) -> None:
        self.ctx = ctx
        self.settings = settings
        self._sink = report

    def report(self, node: cst.CSTNode, message: str, fix: Fix | None = None) -> None:
        """Report ``node``; ``fix`` is the change that resolves it, when there is one."""
        self._sink(Report(type(self), node, message, fix))

    @classmethod
    def precheck(cls, text: str, path: str, module: str | None, graph: CallGraph) -> bool:
        """Can the rule report in this file, which only a :attr:`precheck_needles` word
        brought in? Decided without libcst (on the text, ``ast``, the call graph)."""
        return True

    @classmethod
    def needles_for(cls, index: Any) -> tuple[str, ...]:
        """The needles with a project index (``index`` may be None): ``needles`` unless overridden."""
        return cls.needles

    @classmethod
    def applies_to_path(cls, posix_path: str) -> bool:
        return cls.path_pattern is None or cls.path_pattern.search(posix_path) is not None

    @classmethod
    def summary(cls) -> str:
        """First line of the docstring."""
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
