"""The rule catalogue of ../shared/RULES.md: every code, name, default, scope and fix.

Codes and names are the public interface (users write them in `# noqa` and config), so
they never change once shipped. ``tests/test_catalogue.py`` checks that this table matches
RULES.md and that every implemented rule matches its row.
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    code: str
    name: str
    default: str
    scope: str
    fix: str


CATALOGUE: tuple[Entry, ...] = (
    Entry('CLY101', 'task-without-name', 'on', 'file', 'safe: pin the generated name'),
    Entry('CLY102', 'task-name-without-prefix', 'on', 'file', '-'),
    Entry('CLY103', 'duplicate-task-name', 'on', 'project', '-'),
    Entry('CLY104', 'task-defined-in-nested-scope', 'on', 'file', '-'),
    Entry('CLY105', 'task-decorator-not-outermost', 'on', 'file', 'unsafe'),
    Entry('CLY106', 'bind-mismatch', 'on', 'file', 'safe*'),
    Entry('CLY107', 'tasks-imported-in-models', 'on', 'file+', '-'),
    Entry('CLY108', 'task-never-registered', 'on', 'project', '-'),
    Entry('CLY201', 'unknown-task-option', 'on', 'file+', 'unsafe'),
    Entry('CLY202', 'deprecated-task-option', 'on', 'file', 'safe*'),
    Entry('CLY203', 'invalid-rate-limit', 'on', 'file', 'safe'),
    Entry('CLY204', 'invalid-priority', 'on', 'file', '-'),
    Entry('CLY205', 'soft-time-limit-not-below-hard', 'on', 'file', '-'),
    Entry('CLY206', 'invalid-retry-policy', 'on', 'file', '-'),
    Entry('CLY207', 'unknown-calling-option', 'on', 'file', 'unsafe'),
    Entry('CLY208', 'execution-option-passed-to-delay', 'on', 'file+', 'safe*'),
    Entry('CLY301', 'retry-not-raised', 'on', 'file', 'safe'),
    Entry('CLY302', 'retry-without-exc', 'on', 'file', 'safe*'),
    Entry('CLY303', 'retry-swallowed-by-broad-except', 'on', 'file', '-'),
    Entry('CLY304', 'autoretry-for-broad-exception', 'off', 'file', '-'),
    Entry('CLY305', 'unbounded-retries', 'on', 'file', '-'),
    Entry('CLY306', 'autoretry-non-idempotent', 'on', 'file+', '-'),
    Entry('CLY307', 'acks-late-non-idempotent', 'on', 'file+', '-'),
    Entry('CLY308', 'lock-without-timeout', 'on', 'file', '-'),
    Entry('CLY401', 'dispatch-without-queue', 'on', 'file+', '-'),
    Entry('CLY402', 'fire-and-forget-stores-result', 'on', 'file', 'unsafe'),
    Entry('CLY403', 'eta-with-countdown', 'on', 'file', '-'),
    Entry('CLY404', 'naive-datetime-eta', 'on', 'file', 'unsafe'),
    Entry('CLY405', 'countdown-beyond-visibility-timeout', 'on', 'file+', '-'),
    Entry('CLY406', 'args-not-a-sequence', 'on', 'file', 'safe'),
    Entry('CLY407', 'call-signature-mismatch', 'on', 'project', '-'),
    Entry('CLY408', 'unknown-task-name', 'on', 'project', 'safe*'),
    Entry('CLY409', 'queue-without-consumer', 'on', 'project', '-'),
    Entry('CLY501', 'result-awaited-inside-task', 'on', 'file+', '-'),
    Entry('CLY502', 'task-without-ignore-result', 'on', 'file+', 'unsafe'),
    Entry('CLY503', 'ignored-result-awaited', 'on', 'project', '-'),
    Entry('CLY601', 'dispatch-inside-transaction', 'on', 'file+', 'safe*'),
    Entry('CLY602', 'model-instance-as-task-argument', 'on', 'file+', '-'),
    Entry('CLY603', 'blocking-io-without-timeout', 'on', 'file', '-'),
    Entry('CLY701', 'beat-entry-unknown-task', 'on', 'project', 'safe*'),
    Entry('CLY702', 'route-matches-no-task', 'on', 'project', '-'),
    Entry('CLY703', 'crontab-every-minute', 'on', 'file', 'unsafe'),
    Entry('CLY704', 'beat-entry-invalid-key', 'on', 'file', 'safe'),
    Entry('CLY705', 'periodic-task-without-expires', 'off', 'file', '-'),
    Entry('CLY706', 'eager-mode-in-settings', 'on', 'file', '-'),
    Entry('CLY000', 'file-not-parsed', 'on', 'file', '- (CLI only; flake8 has E999)'),
    Entry('CLY901', 'unused-noqa', 'off', 'file', 'safe (CLI only)'),
)
BY_CODE: dict[str, Entry] = {e.code: e for e in CATALOGUE}
