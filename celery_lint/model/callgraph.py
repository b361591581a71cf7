"""Calls through project helpers, to any depth and across modules.

RULES.md: the rules that care about what a task does (CLY306, CLY307, CLY501, CLY603) and
CLY601 (a dispatch reached from a call inside a transaction) follow calls through the
project's own functions, bounded, and name the path:
``notify() -> send_receipt() -> django.core.mail.send_mail``.

The graph is built lazily, from the modules a query reaches: each is read once per run
(``model/summaries.py``: with :mod:`ast`, never imported) into the calls each top-level
function makes, and with a store (``model/graph_store.py``, beside the index cache) what
was read of an unchanged module is answered from disk on the next run. A query answers
the shortest path, at most :data:`MAX_DEPTH` functions long (``helper-depth``), from one
call to a call that the rule's *sink* accepts; answers are remembered per function and
depth for the run, so the work is bounded by the functions within that depth, however
many calls lead there. Every module a query reads joins the locator's ``touched`` set,
which the findings cache stores with each file's findings: an edit to any helper on the
way re-lints the files that reach it.

Only module-level functions are nodes: methods (``self.notify()``), classes and callables
stored in variables are not followed.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from ..config.stamp import current_stat, snapshot
from .apps import AppLocator
from .celery_api import CANVAS_CALLS, DISPATCH_METHODS
from .graph_store import GraphStore, RecordedSummary
from .summaries import LOCAL, FunctionSummary, ModuleSummary, read_module, skim, summarise

#: How many calls deep a query follows helpers by default (``helper-depth``).
MAX_DEPTH = 4  # the deepest path reported on four real trees is 2 helpers; see README, Performance

@dataclass(frozen=True)
class Reach:
    """What a call reaches: the functions on the way and the call at the end."""

    #: The project functions called, from the first to the one that makes the call.
    functions: tuple[str, ...]
    #: What the sink said of the last call (``django.core.mail.send_mail``).
    what: str
    #: Where that call is: ``shop/mail.py:12``.
    where: str

    def chain(self) -> str:
        """``notify() -> send_receipt() -> django.core.mail.send_mail``"""
        return " -> ".join([*(f"{f}()" for f in self.functions), self.what])


#: A sink looks at one function and answers the line and description of the first call
#: it is after, or None.
Sink = Callable[[FunctionSummary], "tuple[int, str] | None"]


class CallGraph:
    """The project's functions and the calls they make, read as queries reach them."""

    def __init__(self, locator: AppLocator, root: str | None = None, depth: int = MAX_DEPTH) -> None:
        self.locator = locator
        self.root = root
        #: How many calls deep a walk goes (the ``helper-depth`` setting).
        self.depth = depth
        self._modules: dict[str, ModuleSummary | RecordedSummary | None] = {}
        #: Where modules' summaries are kept between runs (None: read every module).
        self.store: GraphStore | None = None
        #: (file, function, depth, sink, stop, now) -> (shortest chain, files): see :meth:`_best`.
        self._answers: dict[tuple[object, ...], tuple[tuple[tuple[str, ...], int, str, str] | None, frozenset[str]]] = {}
        self._answers_through: dict[str, list[tuple[object, ...]]] = {}
        #: file -> (function, sink) -> what the sink said of the function's own calls.
        self._sink_hits: dict[str, dict[tuple[str, Sink], tuple[int, str] | None]] = {}
        #: file -> function -> (its callees in the project, deferred or not; files read)
        self._targets: dict[str, dict[str, tuple[tuple[tuple[tuple[str, str | None, str], bool], ...], frozenset[str]]]] = {}
        #: (dotted name, importer) -> (file, module, function) or None, and the files read.
        self._resolved: dict[tuple[str, str], tuple[tuple[str, str | None, str] | None, tuple[str, ...]]] = {}
        #: The file being linted, whose text may differ from the disk (stdin, the API).
        self._current: tuple[str, str | None, Callable[[], ast.Module | str]] | None = None

    def set_current(self, path: str, module: str | None, tree: Callable[[], ast.Module | str]) -> None:
        """The file being linted: its summary comes from ``tree()`` (its ``ast``, or its text
        to skim, as linted), called only when a query reaches one of its functions."""
        path = os.path.abspath(path)
        self._current = (path, module, tree)
        self._modules.pop(path, None)
        for key in self._answers_through.pop(path, ()):
            self._answers.pop(key, None)
        self._sink_hits.pop(path, None)
        self._targets.pop(path, None)

    # -- queries ------------------------------------------------------------------

    def reach_local(
        self, name: str, sink: Sink, stop: Callable[[FunctionSummary], bool] | None = None, *, now: bool = False
    ) -> Reach | None:
        """From a call of ``name``, a top-level function of the file being linted.

        ``now``: follow only calls made when the function runs, not those deferred to a
        ``lambda``, a nested function or ``on_commit(...)`` (CLY601)."""
        if self._current is None:
            return None
        path, module, _ = self._current
        return self._query((path, module, name), sink, stop, now)

    def reach(
        self,
        qualified: str,
        importer: str,
        importer_module: str | None,
        sink: Sink,
        stop: Callable[[FunctionSummary], bool] | None = None,
        *,
        now: bool = False,
    ) -> Reach | None:
        """From a call of ``qualified`` (``shop.notify.send_receipt``), a function imported
        by the file ``importer``."""
        target = self._resolve(qualified, importer, importer_module)
        return self._query(target, sink, stop, now) if target is not None else None

    def reaches_from(self, names: Iterable[str], sink: Sink, *, now: bool = False) -> Reach | None:
        """From any of these calls of the file being linted (names as :class:`CallSite`
        has them: ``.helper`` for its own functions)."""
        if self._current is None:
            return None
        path, module, _ = self._current
        here = ModuleSummary(path, module, {}, {}, None)
        for name in dict.fromkeys(names):
            target = self._callee(name, here)
            if target is not None:
                found = self._query(target, sink, None, now)
                if found is not None:
                    return found
        return None

    def _query(
        self, start: tuple[str, str | None, str], sink: Sink, stop: Callable[[FunctionSummary], bool] | None, now: bool
    ) -> Reach | None:
        """The shortest path from ``start`` to a call the sink accepts, at most
        :attr:`depth` functions long (:meth:`_best`); its files join ``touched``."""
        hit, files = self._best(start, self.depth, sink, stop, now)
        self.locator.touched.update(files)
        if hit is None:
            return None
        chain, line, what, path = hit
        return Reach(chain, what, f"{self._display(path)}:{line}")

    def _best(
        self,
        target: tuple[str, str | None, str],
        depth: int,
        sink: Sink,
        stop: Callable[[FunctionSummary], bool] | None,
        now: bool,
    ) -> tuple[tuple[tuple[str, ...], int, str, str] | None, frozenset[str]]:
        """The shortest chain of at most ``depth`` functions from ``target`` to one whose
        own call the sink accepts (the first callee, in call order, among equally short
        ones: the path a breadth-first walk finds first), and every file the answer rests on.

        Remembered for the run per function and depth, so every file and every call that
        reaches the same helper shares one answer: the work is bounded by the functions
        within ``depth`` calls, however many calls lead there. An answer that rests on the
        file being linted is forgotten when the next file is linted (its text may differ
        from the disk's)."""
        path, module, name = target
        key = (path, name, depth, sink, stop, now)
        known = self._answers.get(key)
        if known is not None:
            return known
        summary = self._module(path, module)
        function = None
        words = SINK_WORDS.get(sink)
        if summary is not None and (depth > 1 or words is None or summary.mentions(name, *words)):
            # at the last step only the function's own calls count: one whose text cannot
            # hold the sink's call is not read
            function = summary.function(name)
        files: set[str] = {path}
        hit: tuple[tuple[str, ...], int, str, str] | None = None
        if function is not None and not (stop is not None and stop(function)):
            judged = self._sink_hits.setdefault(path, {})
            if (name, sink) not in judged:  # a function is met at every depth: judge it once
                judged[(name, sink)] = sink(function)
            found = judged[(name, sink)]
            if found is not None:
                hit = ((name,), found[0], found[1], path)
            elif depth > 1:
                assert summary is not None
                targets, read = self._targets_of(summary, function)
                files.update(read)
                best: tuple[tuple[str, ...], int, str, str] | None = None
                for callee, deferred in targets:
                    if now and deferred:
                        continue
                    sub, sub_files = self._best(callee, depth - 1, sink, stop, now)
                    files.update(sub_files)
                    if sub is not None and (best is None or len(sub[0]) < len(best[0])):
                        best = sub
                if best is not None:
                    hit = ((name, *best[0]), best[1], best[2], best[3])
        answer = (hit, frozenset(files))
        self._answers[key] = answer
        for file in answer[1]:
            self._answers_through.setdefault(file, []).append(key)
        return answer

    def _targets_of(
        self, summary: ModuleSummary | RecordedSummary, function: FunctionSummary
    ) -> tuple[tuple[tuple[tuple[str, str | None, str], bool], ...], frozenset[str]]:
        """The project functions a function calls (each call resolved once per run, not
        once per walk through it), whether each call is deferred, and the files read."""
        of_module = self._targets.setdefault(summary.path, {})
        known = of_module.get(function.name)
        if known is None:
            read: set[str] = set()
            targets = []
            for call in function.calls:
                target = self._callee(call.name, summary, read)
                if target is not None:
                    targets.append((target, call.deferred))
            known = of_module[function.name] = (tuple(targets), frozenset(read))
        return known

    def _callee(self, name: str, summary: ModuleSummary | RecordedSummary, read: set[str] | None = None) -> tuple[str, str | None, str] | None:
        if name.startswith(LOCAL):
            local = name[len(LOCAL) :]
            return (summary.path, summary.module, local) if local.isidentifier() else None
        if name.endswith(")"):
            return None
        return self._resolve(name, summary.path, summary.module, read)

    def _resolve(
        self, qualified: str, importer: str, importer_module: str | None, read: set[str] | None = None
    ) -> tuple[str, str | None, str] | None:
        """The (file, module, function) a dotted name imported into ``importer`` names,
        through one level of re-export (``from .impl import helper`` in a package)."""
        key = (qualified, importer)
        known = self._resolved.get(key)
        if known is None:
            known = self._resolved[key] = self._find(qualified, importer, importer_module, 0)
        target, files = known
        self.locator.touched.update(files)  # the answer depends on these files
        if read is not None:
            read.update(files)
        return target

    def _find(
        self, qualified: str, importer: str, importer_module: str | None, hops: int
    ) -> tuple[tuple[str, str | None, str] | None, tuple[str, ...]]:
        module, _, name = qualified.rpartition(".")
        if not module or module == "celery" or module.startswith("celery.") or "(" in module:
            return None, ()
        path = self.locator._module_file(module, importer, importer_module)
        if path is None:
            return None, ()
        summary = self._module(path, module)
        if summary is None:
            return None, (path,)
        if not summary.defines(name) and hops < 2 and name in summary.imports:
            target, read = self._find(summary.imports[name], path, module, hops + 1)
            return target, (path, *read)
        return (path, module, name), (path,)

    def _display(self, path: str) -> str:
        if self.root:
            try:
                return os.path.relpath(path, self.root).replace(os.sep, "/")
            except ValueError:
                pass
        return path

    # -- modules ------------------------------------------------------------------

    def _module(self, path: str, module: str | None) -> ModuleSummary | RecordedSummary | None:
        """A module's summary, read once per graph (one run: the engine is made per run);
        with a :attr:`store`, answered from its entry while the file is unchanged."""
        self.locator.touched.add(path)
        if path in self._modules:
            return self._modules[path]
        current = self._current
        summary: ModuleSummary | RecordedSummary | None
        if current is not None and current[0] == path:
            try:  # the file being linted: its text may differ from the disk's, never stored
                source = current[2]()
                summary = skim(source, path, current[1]) if isinstance(source, str) else summarise(source, path, current[1])
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                summary = None
        elif self.store is None:
            summary = read_module(path, module)
        else:
            entry = self.store.entry(path, module)
            if entry is not None:
                summary = RecordedSummary(path, module, entry, self.store)
            else:
                before = snapshot(path)  # before the read, as every cache takes it
                summary = read_module(path, module)
                if summary is not None and before is not None and current_stat(path) == before:
                    entry = self.store.add(path, before, module, sorted(summary._defs))
                    summary = RecordedSummary(path, module, entry, self.store, summary)
        self._modules[path] = summary
        return summary


# -- sinks ------------------------------------------------------------------------


def waits_sink(function: FunctionSummary) -> tuple[int, str] | None:
    """CLY501: the function waits on a subtask's result."""
    return function.waits[0] if function.waits else None


def dispatch_sink(function: FunctionSummary) -> tuple[int, str] | None:
    """CLY601: the function sends a task now (not in ``on_commit``, not in a lambda)."""
    for call in function.calls:
        if call.deferred:
            continue
        head, _, method = call.name.rpartition(".")
        if method in DISPATCH_METHODS and head:
            return call.line, call.name.lstrip(LOCAL)
    return None


_HTTP = r"(?:get|post|put|patch|delete|head|options|request)"
#: Network calls that wait forever without a timeout (CLY603): dotted call name -> index
#: of a positional ``timeout`` argument (None: keyword only).
BLOCKING_CALLS = [
    (re.compile(rf"requests\.{_HTTP}"), None),
    (re.compile(rf"requests\.(?:\w+\.)*Session\(\)\.{_HTTP}"), None),
    (re.compile(rf"requests\.session\(\)\.{_HTTP}"), None),
    (re.compile(r"urllib\.request\.urlopen"), 2),
    (re.compile(r"socket\.create_connection"), 1),
    (re.compile(r"smtplib\.SMTP(?:_SSL)?"), 3),
]
#: httpx has a 5-second default: only an explicit ``timeout=None`` blocks.
HTTPX_CALLS = re.compile(rf"httpx\.(?:{_HTTP}|(?:Async)?Client)")


def blocking_without_timeout(name: str, keywords: Iterable[str], positional: int, star_kwargs: bool, timeout_none: bool) -> str | None:
    """How a call of ``name`` can block forever (CLY603), or None."""
    if HTTPX_CALLS.fullmatch(name):
        return f"`{name}(timeout=None)`" if timeout_none else None
    for pattern, position in BLOCKING_CALLS:
        if pattern.fullmatch(name):
            has_positional = position is not None and positional > position
            if "timeout" in keywords or has_positional or star_kwargs:
                return None
            return f"`{name}` without `timeout=`"
    return None


def blocking_sink(function: FunctionSummary) -> tuple[int, str] | None:
    """The first call of a project function that can block forever (CLY603): its name."""
    for call in function.calls:
        if call.bounded:
            continue
        found = blocking_without_timeout(
            call.name, call.keywords, call.positional, call.star_kwargs, "timeout" in call.none_keywords
        )
        if found:
            return call.line, call.name
    return None


#: What a sink's call must show in the text: words of which one is in the function's own
#: text (False) or in its module's (True: the name comes through an import). A sink not
#: listed prunes nothing (CLY306's patterns are the user's).
SINK_WORDS: dict[Sink, tuple[tuple[str, ...], bool]] = {
    dispatch_sink: (tuple(sorted(DISPATCH_METHODS)), False),
    waits_sink: (tuple(sorted(DISPATCH_METHODS | CANVAS_CALLS | {"allow_join_result", "disable_sync_subtasks"})), False),
    blocking_sink: (("requests", "urlopen", "create_connection", "smtplib", "httpx"), True),
}


def has_idempotency_key(function: FunctionSummary) -> bool:
    return function.idempotency_key
