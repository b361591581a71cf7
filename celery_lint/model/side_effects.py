"""Which functions of a file call non-idempotent APIs (for CLY306/CLY307).

An *analysis*: it has the same hooks as a rule, runs in the engine's one traversal when
an active rule ``requires`` it, and is shared by every rule that does. Calls are named
through the file's imports and through simple local bindings, so that
``msg = EmailMessage(...); msg.send()`` is ``django.core.mail.EmailMessage().send`` and
``client = boto3.client("ses"); client.send_email(...)`` is ``boto3.client().send_email``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from .callgraph import Reach, has_idempotency_key
from .summaries import IDEMPOTENCY_KEY, LOCAL, FunctionSummary

if TYPE_CHECKING:
    from ..config.settings import Settings
    from .context import FileContext, TaskDef

#: Glob patterns (``*`` spans dots) of calls whose repetition repeats a side effect.
DEFAULT_NON_IDEMPOTENT_CALLS = (
    # HTTP writes
    "requests.post",
    "requests.put",
    "requests.patch",
    "requests.delete",
    "requests.*Session().post",
    "requests.*Session().put",
    "requests.*Session().patch",
    "requests.*Session().delete",
    "requests.session().post",
    "requests.session().put",
    "requests.session().patch",
    "requests.session().delete",
    "httpx.post",
    "httpx.put",
    "httpx.patch",
    "httpx.delete",
    "httpx.*Client().post",
    "httpx.*Client().put",
    "httpx.*Client().patch",
    "httpx.*Client().delete",
    # e-mail
    "django.core.mail.send_mail",
    "django.core.mail.send_mass_mail",
    "django.core.mail.mail_admins",
    "django.core.mail.mail_managers",
    "django.core.mail.EmailMessage().send",
    "django.core.mail.EmailMultiAlternatives().send",
    "django.core.mail.message.EmailMessage().send",
    "django.core.mail.message.EmailMultiAlternatives().send",
    "smtplib.SMTP*().sendmail",
    "smtplib.SMTP*().send_message",
    # payments
    "stripe.*.create",
    "stripe.*.capture",
    "stripe.*.confirm",
    "braintree.*.sale",
    "braintree.*.create",
    "braintree.*.submit_for_settlement",
    # AWS SNS / SES / SQS
    "boto3.*client().publish",
    "boto3.*client().publish_batch",
    "boto3.*client().send_email",
    "boto3.*client().send_raw_email",
    "boto3.*client().send_templated_email",
    "boto3.*client().send_bulk_templated_email",
    "boto3.*client().send_message",
    "boto3.*client().send_message_batch",
    # messaging
    "twilio.rest.Client().messages.create",
    "twilio.rest.Client().calls.create",
    "slack_sdk.*WebClient().chat_postMessage",
    "slack.*WebClient().chat_postMessage",
)


def compile_patterns(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


@dataclass
class FunctionFacts:
    node: cst.FunctionDef
    #: (call node, API name) for each non-idempotent call made directly in the body.
    effects: list[tuple[cst.Call, str]] = field(default_factory=list)
    #: (call node, dotted name or None, local name or None) for each call that may be of a
    #: project function: an imported ``module.function``, or a plain name of this module.
    helper_calls: list[tuple[cst.Call, str | None, str | None]] = field(default_factory=list)
    idempotency_key: bool = False
    bindings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """A side effect reachable from a task: where in the task, and what it calls."""

    site: cst.Call
    api: str
    #: The project functions on the way (None: the task calls the API itself).
    via: Reach | None


@dataclass(frozen=True)
class EffectSink:
    """The first non-idempotent call a project function makes itself (a call-graph sink;
    equal for equal patterns, so walks are shared between files)."""

    matcher: re.Pattern[str]

    def __call__(self, function: FunctionSummary) -> tuple[int, str] | None:
        for call in function.calls:
            if not call.name.startswith(LOCAL) and self.matcher.fullmatch(call.name):
                return call.line, call.name
        return None


class SideEffects:
    """Collects, per function, the non-idempotent calls it makes and the helpers it calls;
    helpers are followed through the call graph (any depth, across modules)."""

    _patterns: dict[tuple[str, ...], re.Pattern[str]] = {}

    def __init__(self, ctx: FileContext, settings: Settings) -> None:
        self.ctx = ctx
        patterns = DEFAULT_NON_IDEMPOTENT_CALLS + tuple(settings.non_idempotent_calls)
        compiled = self._patterns.get(patterns)
        if compiled is None:
            compiled = self._patterns[patterns] = compile_patterns(patterns)
        self.matcher = compiled
        self.sink = EffectSink(compiled)
        self.functions: dict[int, FunctionFacts] = {}
        self._stack: list[FunctionFacts] = []

    # -- hooks ------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        facts = FunctionFacts(node)
        self.functions[id(node)] = facts
        self._stack.append(facts)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self._stack and self._stack[-1].node is node:
            self._stack.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._stack or not isinstance(node.value, cst.Call):
            return
        name = self.call_name(node.value)
        for target in node.targets:
            if name and isinstance(target.target, cst.Name):
                self._stack[-1].bindings[target.target.value] = name

    def visit_With(self, node: cst.With) -> None:
        if not self._stack:
            return
        for item in node.items:
            if isinstance(item.item, cst.Call) and item.asname and isinstance(item.asname.name, cst.Name):
                name = self.call_name(item.item)
                if name:
                    self._stack[-1].bindings[item.asname.name.value] = name

    def visit_Call(self, node: cst.Call) -> None:
        if not self._stack or self.ctx.is_decorator(node):
            return
        facts = self._stack[-1]
        name = self.call_name(node.func)
        if name and self.matcher.fullmatch(name):
            facts.effects.append((node, name))
        elif isinstance(node.func, cst.Name) and name is None and not self._bound_here(node.func.value):
            facts.helper_calls.append((node, None, node.func.value))
        elif name and "." in name and not name.endswith(")"):
            facts.helper_calls.append((node, name, None))  # a function of another module
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "idempotency_key":
                facts.idempotency_key = True

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self._stack and IDEMPOTENCY_KEY.search(node.value):
            self._stack[-1].idempotency_key = True

    # -- queries ------------------------------------------------------------------

    def _bound_here(self, name: str) -> bool:
        return self.ctx._is_local(name) or any(name in f.bindings for f in self._stack)

    def call_name(self, node: cst.BaseExpression) -> str | None:
        """Dotted name of a callee through imports and local bindings (calls become ``()``)."""
        if isinstance(node, cst.Name):
            for facts in reversed(self._stack):
                if node.value in facts.bindings:
                    return facts.bindings[node.value]
            return self.ctx.qualname(node)
        if isinstance(node, cst.Attribute):
            base = self.call_name(node.value)
            return f"{base}.{node.attr.value}" if base else None
        if isinstance(node, cst.Call):
            base = self.call_name(node.func)
            return f"{base}()" if base else None
        return None

    def effects_of(self, func: cst.FunctionDef) -> list[Effect]:
        """Side effects the function causes, directly or through project helpers (any
        depth, across modules). Empty when the function shows an idempotency key; a helper
        that shows one is not followed."""
        facts = self.functions.get(id(func))
        if facts is None or facts.idempotency_key:
            return []
        found = [Effect(call, api, None) for call, api in facts.effects]
        graph = self.ctx.graph
        if graph is None:
            return found
        for call, qualified, local in facts.helper_calls:
            if qualified is not None:
                reach = graph.reach(qualified, self.ctx.path, self.ctx.module, self.sink, has_idempotency_key)
            else:
                assert local is not None
                reach = graph.reach_local(local, self.sink, has_idempotency_key)
            if reach is not None:
                found.append(Effect(call, reach.what, reach))
        return found


    def first_effects(self, tasks: list[TaskDef]) -> Iterator[tuple[TaskDef, Effect]]:
        """Each task with the first non-idempotent call it reaches, for those that reach one."""
        for task in tasks:
            if task.func is None:
                continue
            effects = self.effects_of(task.func)
            if effects:
                yield task, effects[0]


def describe(effect: Effect) -> str:
    if effect.via is None:
        return f"calls non-idempotent `{effect.api}`"
    return f"reaches non-idempotent `{effect.api}` through `{effect.via.chain()}` ({effect.via.where})"
