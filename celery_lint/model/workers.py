"""Worker command lines kept in the repository, and the queues they consume (CLY409).

Real projects keep how they start their workers next to the code: shell entrypoints,
Dockerfiles, docker-compose files, Procfiles, Kubernetes/Helm manifests, systemd units,
supervisord configs, Makefiles. :func:`worker_commands` reads one such file (never runs
anything) and answers every ``celery ... worker`` command in it: the app (``-A``), the
queues it consumes (``-Q/--queues``; None when it names none: every queue of
``task_queues``, or the default queue) and those it leaves out (``-X/--exclude-queues``),
with where it was found. A value that is not literal (``-Q $QUEUE``, ``{{ .Values.q }}``,
``%(ENV_Q)s``) makes that worker's queues unknown (``literal`` False), so a rule built on
them stays silent rather than guess.

YAML (compose, Kubernetes, Helm values) is read with PyYAML, which libcst already needs: a
``command``/``args`` list is one command line. A file YAML cannot read (a Helm template)
is read line by line like the others. Shell-like lines are split with :mod:`shlex`
(backslash continuations joined); a JSON exec form (``CMD ["celery", ...]``) is read as a
list.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

#: A value that is not known before the command runs.
_NOT_LITERAL = re.compile(r"\$|\{\{|%\(|`|<%")
#: Lines that can hold a worker command (the cheap test before any parsing).
_WORKER_WORDS = re.compile(r"\bcelery\b.*\b(?:worker|multi)\b|\bworker\b.*\bcelery\b", re.DOTALL)
#: Prefixes of the line forms that hold a command: systemd, supervisord, Dockerfile, Procfile.
_LINE_PREFIX = re.compile(
    r"^\s*(?:ExecStart(?:Pre|Post)?\s*=\s*[-@+!:]*|command\s*=\s*|(?:CMD|ENTRYPOINT|RUN)\s+|[\w.-]+:\s+(?=\S))",
    re.IGNORECASE,
)
_YAML_SUFFIXES = (".yml", ".yaml")
_MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class WorkerCommand:
    """One ``celery worker`` command found in the repository."""

    #: The file (as given) and the line where the command starts.
    source: str
    line: int
    #: ``-A``/``--app`` (None when not given or not literal).
    app: str | None
    #: ``-Q``/``--queues``: None when not given (every declared queue, or the default one).
    queues: tuple[str, ...] | None
    #: ``-X``/``--exclude-queues``.
    exclude: tuple[str, ...]
    #: False when a queue value is not literal (``-Q $QUEUE``): the queues are unknown.
    literal: bool

    def where(self) -> str:
        return f"{self.source}:{self.line}"


def is_candidate(name: str) -> bool:
    """Whether a file of this name can hold a worker command (by name, before reading)."""
    lower = name.lower()
    return (
        lower.endswith((".sh", ".bash", ".service", ".conf", ".ini", ".mk", ".env", *_YAML_SUFFIXES))
        or lower.startswith(("dockerfile", "procfile", "makefile", "containerfile"))
        or lower.endswith(".dockerfile")
        or lower in ("entrypoint", "start", "run", "gunicorn.conf")
    )


def worker_commands(path: str, text: str | None = None) -> list[WorkerCommand]:
    """Every worker command in the file at ``path`` (its ``text`` when given)."""
    if text is None:
        try:
            if os.path.getsize(path) > _MAX_BYTES:
                return []
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            return []
    if "celery" not in text or ("worker" not in text and "multi" not in text):
        return []
    if path.lower().endswith(_YAML_SUFFIXES):
        found = _from_yaml(path, text)
        if found is not None:
            return found
    return list(_from_lines(path, text))


def _from_lines(path: str, text: str) -> Iterator[WorkerCommand]:
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        start = number
        logical = lines[number]
        while logical.rstrip().endswith("\\") and number + 1 < len(lines):
            number += 1
            logical = logical.rstrip()[:-1] + " " + lines[number].strip()
        number += 1
        if logical.lstrip().startswith("#") or not _WORKER_WORDS.search(logical):
            continue
        body = _LINE_PREFIX.sub("", logical, count=1).strip()
        words = _exec_form(body)
        if words is None:
            words = _split(body)
        for command in _commands(words):
            yield _worker(path, start + 1, command)


def _exec_form(body: str) -> list[str] | None:
    """``["celery", "-A", "proj", "worker"]`` (a Dockerfile's exec form, a YAML flow list)."""
    if not body.startswith("["):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


def _split(body: str) -> list[str]:
    """Shell words; ``;``, ``&&``, ``|`` stand apart even when written against a word."""
    lexer = shlex.shlex(body, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote (a template, half a line): words as they stand
        return body.split()


def _commands(words: list[str]) -> Iterator[list[str]]:
    """The ``celery ... worker ...`` runs in a list of words: a command joined with
    ``&&``/``;``/``|`` is cut there; a quoted command (``sh -c "celery ..."``,
    ``su app -c '...'``) is split again."""
    segment: list[str] = []
    for word in [*words, ";"]:
        if word in ("&&", "||", ";", "|", "&"):
            if segment:
                yield from _in_segment(segment)
            segment = []
            continue
        segment.append(word)


#: Words that run the command after them (``exec celery ...``, ``python -m celery``,
#: ``poetry run celery``); those in ``_WITH_USER`` take a user name first.
_LAUNCHERS = frozenset(
    {"exec", "env", "nice", "nohup", "time", "sudo", "uv", "poetry", "pipenv", "hatch", "pdm", "run", "python",
     "python3", "newrelic-admin", "run-program", "ddtrace-run", "opentelemetry-instrument", "dumb-init", "tini", "--"}
)
_WITH_USER = frozenset({"gosu", "su-exec", "setuidgid", "s6-setuidgid", "chpst"})


def _in_segment(words: list[str]) -> Iterator[list[str]]:
    """A segment that runs ``celery ... worker``: ``celery`` first, or after launchers,
    environment assignments and their options (a sentence that mentions a celery worker is
    not a command)."""
    quoted = [word for word in words if " " in word and _WORKER_WORDS.search(word)]
    if quoted:  # `sh -c "celery -A x worker"`, `su app -c '...'`: the quoted command
        for word in quoted:
            yield from _commands(_split(word))
        return
    skip_user = False
    for index, word in enumerate(words):
        if os.path.basename(word) in ("celery", "celery.exe"):
            rest = words[index + 1 :]
            if "worker" in rest or "multi" in rest:
                yield rest  # `celery multi start w1 -Q:w1 a`: workers, queues per name (read as unknown)
            return
        if skip_user:
            skip_user = False
        elif word in _WITH_USER:
            skip_user = True
        elif not (
            os.path.basename(word) in _LAUNCHERS
            or os.path.basename(word).startswith("python")
            or word.startswith("-")
            or ("=" in word and not word.startswith("-"))
            or word in ("sh", "bash", "su")
        ):
            return


def _worker(path: str, line: int, words: list[str]) -> WorkerCommand:
    """Read ``-A``, ``-Q``, ``-X`` from the words after ``celery`` (options may come
    before or after the ``worker`` subcommand)."""
    values: dict[str, list[str]] = {"app": [], "queues": [], "exclude": []}
    literal = True
    given = {"queues": False}
    long = {"--app": "app", "--queues": "queues", "--exclude-queues": "exclude"}
    short = {"-A": "app", "-Q": "queues", "-X": "exclude"}
    index = 0
    while index < len(words):
        word = words[index]
        key = value = None
        if word in long or word in short:
            key = long.get(word) or short[word]
            value = words[index + 1] if index + 1 < len(words) else ""
            index += 1
        elif word.startswith(tuple(f"{flag}=" for flag in long)):
            flag, _, value = word.partition("=")
            key = long[flag]
        elif len(word) > 2 and word[:2] in short and not word.startswith("--"):
            key, value = short[word[:2]], word[2:].lstrip("=")
        index += 1
        if key is None:
            continue
        if key == "queues":
            given["queues"] = True
        if _NOT_LITERAL.search(value or ""):
            if key != "app":
                literal = False
            continue
        values[key].extend(v for v in (value or "").split(",") if v)
    app = values["app"][-1] if values["app"] else None
    queues = tuple(values["queues"]) if given["queues"] else None
    if "multi" in words and ("worker" not in words or words.index("multi") < words.index("worker")):
        literal, queues = False, ()  # `celery multi`: `-Q:w1 a -Q:w2 b` per node, not read here
    return WorkerCommand(path, line, app, queues, tuple(values["exclude"]), literal)


def _from_yaml(path: str, text: str) -> list[WorkerCommand] | None:
    """Commands in YAML documents: each ``command``/``args``/``entrypoint`` (a list or a
    string) and every other string that reads as a worker command. None when the file is
    not YAML (a Helm template): it is then read line by line."""
    import yaml  # PyYAML, a dependency of libcst

    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError, MemoryError):
        return None  # not YAML, or nested deeper than PyYAML's composer goes
    found: list[WorkerCommand] = []
    seen: set[int] = set()
    for document in documents:
        if document is not None:
            found.extend(_yaml_node(path, document, seen))
    return found


#: How deep the walk of a YAML document goes (manifests nest a dozen levels).
_YAML_DEPTH = 64


def _yaml_node(path: str, node: Any, seen: set[int], depth: int = 0) -> Iterator[WorkerCommand]:
    """Walk a composed YAML node (positions kept): a mapping whose ``command`` and ``args``
    together make one command line (Kubernetes containers), lists and strings. Each node
    once (``seen``: an alias is the node it names, so aliases of aliases cannot make the
    walk exponential), at most ``_YAML_DEPTH`` levels down."""
    import yaml

    if id(node) in seen or depth > _YAML_DEPTH:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        parts: dict[str, Any] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name in ("command", "args", "entrypoint") and not isinstance(value, yaml.MappingNode):
                parts[name] = value
            else:
                yield from _yaml_node(path, value, seen, depth + 1)
        if parts:
            words: list[str] = []
            first = None
            for name in ("entrypoint", "command", "args"):
                value = parts.get(name)
                if value is None:
                    continue
                first = first or value
                words.extend(_yaml_words(value))
            if _WORKER_WORDS.search(" ".join(words)):
                for command in _commands(words):
                    yield _worker(path, first.start_mark.line + 1, command)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _yaml_node(path, item, seen, depth + 1)
    elif isinstance(node, yaml.ScalarNode) and isinstance(node.value, str) and _WORKER_WORDS.search(node.value):
        for command in _commands(_split(node.value)):
            yield _worker(path, node.start_mark.line + 1, command)


def _yaml_words(node: Any) -> list[str]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        words: list[str] = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                # one list item may itself be a shell line (`["sh", "-c", "celery ... worker"]`)
                words.append(str(item.value))
        return words
    if isinstance(node, yaml.ScalarNode):
        return _split(str(node.value))
    return []


@dataclass(frozen=True)
class Consumers:
    """The queues the project's workers consume, as far as the repository shows them."""

    #: None: cannot be told (no worker command found, or one whose queues are not literal).
    queues: frozenset[str] | None
    #: Why, in words: where the workers were read (for CLY409's message), or why not.
    described: str


def consumed_queues(
    commands: Iterable[WorkerCommand], declared: list[str] | None, task_queues_set: bool, default_queue: Any, configured: tuple[str, ...] | None
) -> Consumers:
    """What the workers consume (RULES.md, CLY409): each command's ``-Q`` (without
    ``-Q``: every queue ``task_queues`` declares, or the default queue when it declares
    none), less its ``-X``; with ``worker-queues`` (``configured``), those queues too, and
    commands whose queues are not literal are taken to be among them.

    ``declared``: the queue names ``task_queues`` declares (None when it is not set or
    cannot be read: ``task_queues_set`` tells which); ``default_queue``: the
    ``task_default_queue`` setting (None: not set, ``celery``)."""
    commands = list(commands)
    consumed: set[str] = set(configured or ())
    shown = [c for c in commands if c.literal or configured is None]
    if configured is None:
        if not commands:
            return Consumers(None, "no worker command line is in the repository (declare them with `worker-queues`)")
        opaque = next((c for c in commands if not c.literal), None)
        if opaque is not None:
            return Consumers(None, f"the worker at {opaque.where()} takes its queues from a value not written there")
    for command in shown:
        if command.queues is not None:
            queues = set(command.queues)
        elif task_queues_set:
            if declared is None:
                return Consumers(None, f"the worker at {command.where()} has no `-Q` and `task_queues` cannot be read")
            queues = set(declared)
        else:
            if default_queue is not None and not isinstance(default_queue, str):
                return Consumers(None, f"the worker at {command.where()} has no `-Q` and `task_default_queue` cannot be read")
            queues = {default_queue or "celery"}
        consumed |= queues - set(command.exclude)
    places = [c.where() for c in shown]
    if configured is not None:
        places.append("`worker-queues`")
    more = f" and {len(places) - 3} more" if len(places) > 3 else ""
    return Consumers(frozenset(consumed), ", ".join(places[:3]) + more)


def find_worker_commands(paths: Iterable[str]) -> list[WorkerCommand]:
    """Every worker command in the files named (those :func:`is_candidate` accepts)."""
    found: list[WorkerCommand] = []
    for path in paths:
        if is_candidate(os.path.basename(path)):
            found.extend(worker_commands(path))
    return found
