"""Beat entries, in every spelling Celery accepts: a shared analysis for the beat rules.

A rule that needs them lists :class:`BeatSchedule` in ``requires`` and reads
``ctx.analyses[BeatSchedule].entries`` in ``module_leave``. Recognised:

- a schedule mapping assigned to a beat setting: ``CELERY_BEAT_SCHEDULE = {...}``,
  ``CELERYBEAT_SCHEDULE``, a lowercase ``beat_schedule`` (config modules),
  ``app.conf.beat_schedule = {...}``, ``app.conf.update(beat_schedule={...})``,
  ``Celery(..., beat_schedule={...})``; the mapping may be a dict display, ``dict(...)``
  or a name bound to one earlier in the file;
- additions to one: ``CELERY_BEAT_SCHEDULE["name"] = {...}``, ``.update({...})``,
  ``|= {...}``;
- a module-level dict of dicts shaped like a schedule (every value a dict display
  with ``"task"`` and ``"schedule"`` keys), whatever it is called: projects keep the
  schedule in a module of its own and merge it into the settings elsewhere
  (kitsune's ``PERIODIC_TASKS_ALL``);
- ``<anything>.add_periodic_task(schedule, sig, ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from .context import has_star_kwargs, keyword_args, positional_args, setting_name, string_value
from .needles import BEAT_NEEDLES, TextPattern

if TYPE_CHECKING:
    from ..config.settings import Settings
    from .context import FileContext

__all__ = ["BEAT_NEEDLES", "BEAT_PATTERN", "BeatEntry", "BeatSchedule"]

#: A file holds beat entries only if it spells the setting, calls ``add_periodic_task``
#: or has a ``"schedule":`` key (the by-shape form). The beat rules' ``text_pattern``:
#: the needles alone let every file mentioning a "schedule" through.
BEAT_PATTERN = TextPattern(
    (
        r"""beat_schedule|BEAT_SCHEDULE|add_periodic_task\(|["']schedule["']\s*:""",
        ("beat_schedule", "BEAT_SCHEDULE", "add_periodic_task(", "schedule'", 'schedule"'),
    )
)


@dataclass
class BeatEntry:
    """One periodic task: a dict entry of a schedule, or an ``add_periodic_task`` call."""

    name: str | None
    #: The entry's dict display, or the ``add_periodic_task`` call.
    node: cst.Dict | cst.Call
    #: Dict form: string key -> element (empty for the call form; use ``field``).
    items: dict[str, cst.DictElement] = field(default_factory=dict)
    #: The entry has ``**spread`` or non-string keys: its keys are not all known.
    opaque: bool = False

    @property
    def is_call(self) -> bool:
        return isinstance(self.node, cst.Call)

    @property
    def label(self) -> str:
        return f'beat entry "{self.name}"' if self.name else "beat entry"

    def field(self, key: str) -> cst.BaseExpression | None:
        """The expression an entry field is set to (``schedule``, ``args``, ``kwargs``, ``options``)."""
        if isinstance(self.node, cst.Dict):
            element = self.items.get(key)
            return element.value if element is not None else None
        call = self.node
        keywords = keyword_args(call)
        if key in keywords:
            return keywords[key].value
        positional = positional_args(call)
        index = {"schedule": 0, "sig": 1, "args": 2, "kwargs": 3}.get(key)
        if index is not None and index < len(positional):
            return positional[index].value
        return None


class BeatSchedule:
    """Collects the beat entries of a file in the shared traversal."""

    def __init__(self, ctx: FileContext, settings: Settings) -> None:
        self.ctx = ctx
        self.entries: list[BeatEntry] = []
        self._seen: set[int] = set()
        #: Module-level names bound to a dict display, for ``CELERY_BEAT_SCHEDULE = SCHEDULE``.
        self._dicts: dict[str, cst.Dict] = {}

    # -- hooks ------------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assigned(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.operator, cst.BitOrAssign) and self._is_schedule(node.target):
            self._add_schedule(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.ctx.is_app(node):  # Celery(..., beat_schedule={...})
            self._schedule_keyword(node)
            return
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method == "add_periodic_task":
            if len(positional_args(node)) >= 2 or "sig" in keyword_args(node):
                self._add_entry(_entry_name(keyword_args(node).get("name")), node)
        elif method == "update":
            if self._is_schedule(func.value):
                for arg in node.args:
                    if arg.keyword is None and not arg.star:
                        self._add_schedule(arg.value)
                for name, arg in keyword_args(node).items():
                    self._add_entry_value(name, arg.value)
            elif self.ctx.is_app_conf(func.value):
                self._schedule_keyword(node)

    # -- recognition --------------------------------------------------------------

    def _schedule_keyword(self, call: cst.Call) -> None:
        arg = keyword_args(call).get("beat_schedule")
        if arg is not None:
            self._add_schedule(arg.value)

    def _assigned(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Subscript):
            if self._is_schedule(target.value) and len(target.slice) == 1:
                index = target.slice[0].slice
                if isinstance(index, cst.Index):
                    self._add_entry_value(string_value(index.value), value)
            return
        if self._is_schedule(target):
            self._add_schedule(value)
            return
        if isinstance(target, cst.Name) and isinstance(value, cst.Dict) and not self._in_function():
            self._dicts[target.value] = value
            if _looks_like_schedule(value):
                self._add_schedule(value)

    def _is_schedule(self, node: cst.BaseExpression) -> bool:
        """Does ``node`` name a beat schedule setting?"""
        if isinstance(node, cst.Name):
            return setting_name(node.value) == "beat_schedule"
        if isinstance(node, cst.Attribute):
            attr = node.attr.value
            if attr == "beat_schedule":
                return isinstance(node.value, cst.Attribute) and node.value.attr.value == "conf"
            return attr in ("CELERY_BEAT_SCHEDULE", "CELERYBEAT_SCHEDULE")
        return False

    def _in_function(self) -> bool:
        return any(not isinstance(scope, cst.ClassDef) for scope in self.ctx.scopes)

    # -- collection ---------------------------------------------------------------

    def _add_schedule(self, value: cst.BaseExpression) -> None:
        """``value`` is a whole schedule mapping: every entry in it is a beat entry."""
        if isinstance(value, cst.Name):
            bound = self._dicts.get(value.value)
            if bound is not None:
                self._add_schedule(bound)
            return
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict":
            for arg in value.args:
                if arg.keyword is not None:
                    self._add_entry_value(arg.keyword.value, arg.value)
                elif not arg.star:
                    self._add_schedule(arg.value)
            return
        if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.BitOr):
            self._add_schedule(value.left)
            self._add_schedule(value.right)
            return
        if isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.DictElement):
                    self._add_entry_value(string_value(element.key), element.value)

    def _add_entry_value(self, name: str | None, value: cst.BaseExpression) -> None:
        # Entries written as dict displays; an entry built by a call (``dict(task=...)``,
        # a helper) is not analysed.
        if isinstance(value, cst.Dict):
            self._add_entry(name, value)

    def _add_entry(self, name: str | None, node: cst.Dict | cst.Call) -> None:
        if id(node) in self._seen:
            return
        self._seen.add(id(node))
        entry = BeatEntry(name, node)
        if isinstance(node, cst.Dict):
            for element in node.elements:
                key = string_value(element.key) if isinstance(element, cst.DictElement) else None
                if key is None:
                    entry.opaque = True
                else:
                    entry.items[key] = element
        else:
            entry.opaque = has_star_kwargs(node)
        self.entries.append(entry)


def _entry_name(arg: cst.Arg | None) -> str | None:
    return string_value(arg.value) if arg is not None else None


def _looks_like_schedule(value: cst.Dict) -> bool:
    """A dict display whose every value is an entry with ``"task"`` and ``"schedule"``."""
    if not value.elements:
        return False
    for element in value.elements:
        if not isinstance(element, cst.DictElement) or not isinstance(element.value, cst.Dict):
            return False
        keys = {string_value(e.key) for e in element.value.elements if isinstance(e, cst.DictElement)}
        if not {"task", "schedule"} <= keys:
            return False
    return True
