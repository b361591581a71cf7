"""``[tool.celery-lint]`` -> one frozen :class:`Settings`.

Configuration flows one way: TOML (or flake8 options, or CLI flags) -> Settings -> rules.
It is resolved once per run, never per file. Unknown keys and wrong types raise
:class:`ConfigError`, which every front door turns into one clear line (exit 2 in the CLI).
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .pins import project_celery_version
from .stamp import memo_usable, settled, stat_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib


#: Newest Celery release this version of celery-lint knows about: the top of the
#: ``target-version`` range. It describes ``celery_lint/model/celery_api.py``'s tables
#: (which re-export it); it sits here because configuration is the bottom layer.
NEWEST_CELERY = (5, 7)


def parse_version(text: str) -> tuple[int, int]:
    """``"5.4"`` -> ``(5, 4)``; raises ValueError for anything else."""
    parts = text.strip().split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise ValueError(f"not a Celery version: {text!r} (expected e.g. \"5.4\")")
    return int(parts[0]), int(parts[1])



class ConfigError(Exception):
    """Bad configuration or usage: reported as one line, exit status 2."""


DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytest_cache",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".celery_lint_cache",
    "__pypackages__",
    "_build",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)

REQUIRE_QUEUE_MODES = ("auto", "always", "off")
IGNORE_RESULT_MODES = ("no-return", "strict", "off")
RESULT_BACKEND_MODES = ("auto", "configured", "none")
TEST_CODE_MODES = ("lenient", "strict")


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    #: As ruff: ``exclude`` replaces the default list, ``extend-exclude`` adds to it.
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    #: Apply the exclusions to paths named on the command line too (the pre-commit hooks).
    force_exclude: bool = False
    #: Skip what the repository's ``.gitignore`` files ignore (``run/ignore.py``).
    respect_gitignore: bool = True
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    src: tuple[str, ...] = ()
    target_version: tuple[int, int] = NEWEST_CELERY
    #: Where ``target_version`` came from: ``target-version`` in the configuration, a
    #: file of the project that pins Celery (``uv.lock``, ``requirements.txt``; see
    #: ``config/pins.py``), or None for the default (the newest release known).
    target_version_source: str | None = None
    task_name_prefixes: tuple[str, ...] = ()
    task_name_pattern: re.Pattern[str] | None = None
    require_queue: str = "auto"
    ignore_result_mode: str = "no-return"
    #: Whether the project stores task results (CLY402, CLY502): ``auto`` reads its code.
    result_backend: str = "auto"
    #: How test modules are linted: ``lenient`` runs only the rules marked ``in_tests``.
    test_code: str = "lenient"
    #: How many calls deep the rules follow project functions (``model/callgraph.py``); 0: not at all.
    helper_depth: int = 4
    bind_parameter_names: tuple[str, ...] = ("self",)
    extra_task_options: tuple[str, ...] = ()
    non_idempotent_calls: tuple[str, ...] = ()
    external_tasks: tuple[str, ...] = ()
    #: Queues consumed by workers the repository does not show (CLY409); None: not declared.
    worker_queues: tuple[str, ...] | None = None
    visibility_timeout: float = 3600.0
    project_index: bool = True
    #: Directory that relative paths in the configuration are relative to.
    project_root: Path = field(default_factory=Path.cwd)
    #: The file the settings came from, if any (for messages).
    config_file: Path | None = None

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def target_note(self) -> str:
        """`` (target Celery 5.7, read from requirements.txt)`` for a message that depends
        on the target release, when a file of the project decided it; empty otherwise."""
        if self.target_version_source in (None, "configuration"):
            return ""
        return f" (target Celery {'.'.join(map(str, self.target_version))}, read from {self.target_version_source})"

    def src_roots(self) -> tuple[Path, ...]:
        return tuple((self.project_root / s).resolve() for s in self.src)

    def ignored_codes_for(self, path: str | Path) -> tuple[str, ...]:
        """Codes switched off for ``path`` by ``per-file-ignores`` (flake8/ruff glob semantics)."""
        if not self.per_file_ignores:
            return ()
        rel = relative_posix(path, self.project_root)
        name = os.path.basename(rel)
        codes: list[str] = []
        for pattern, pattern_codes in self.per_file_ignores:
            if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(name, pattern):
                codes.extend(pattern_codes)
        return tuple(codes)


def _absolute_root(root: str) -> str:
    if os.path.isabs(root):
        cached = _ROOTS.get(root)
        if cached is None:
            cached = _ROOTS[root] = os.path.abspath(root)
        return cached
    return os.path.abspath(root)  # relative to the current directory: not cached


_ROOTS: dict[str, str] = {}


def relative_posix(path: str | Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form, or the absolute path when outside it.

    String operations only: this runs for every file of the project on every run.
    """
    base = _absolute_root(os.fspath(root))
    text = os.fspath(path)
    # The common case, a normalised absolute path under the root, in one slice.
    if os.sep == "/" and text.startswith(base + "/") and "/." not in text and "//" not in text:
        return text[len(base) + 1 :]
    absolute = os.path.abspath(path)
    if absolute == base:
        return "."
    prefix = base if base.endswith(os.sep) else base + os.sep
    if absolute.startswith(prefix):
        absolute = absolute[len(prefix) :]
    return absolute.replace(os.sep, "/") if os.sep != "/" else absolute


# key -> (Settings field, converter)
def _str_list(key: str, value: Any) -> tuple[str, ...]:
    """A list of strings; a bare string is an error, as in ruff (``ignore = "CLY502"``
    would otherwise read as one entry and hide the mistake for keys of patterns)."""
    if isinstance(value, str):
        raise ConfigError(f"`{key}` must be a list of strings, got str {value!r} (write `{key} = [{json.dumps(value)}]`)")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of strings, got {_describe(value)}")
    return tuple(value)


def _codes(key: str, value: Any) -> tuple[str, ...]:
    codes = _str_list(key, value)
    for code in codes:
        if not re.fullmatch(r"CLY\d{0,3}", code):
            raise ConfigError(f"`{key}`: {code!r} is not a celery-lint code or prefix (e.g. CLY101, CLY1)")
    return codes


def _choice(choices: Sequence[str]) -> Any:
    def convert(key: str, value: Any) -> str:
        if value not in choices:
            raise ConfigError(f"`{key}` must be one of {', '.join(choices)}; got {value!r}")
        return str(value)

    return convert


def _pattern(key: str, value: Any) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise ConfigError(f"`{key}` must be a string (a regular expression), got {_describe(value)}")
    try:
        return re.compile(value)
    except re.error as exc:
        raise ConfigError(f"`{key}` is not a valid regular expression: {exc}") from None


def _version(key: str, value: Any) -> tuple[int, int]:
    if not isinstance(value, str):
        raise ConfigError(f"`{key}` must be a string such as \"5.4\", got {_describe(value)}")
    try:
        version = parse_version(value)
    except ValueError as exc:
        raise ConfigError(f"`{key}`: {exc}") from None
    if version < (5, 0) or version > NEWEST_CELERY:
        newest = ".".join(map(str, NEWEST_CELERY))
        raise ConfigError(f"`{key}` must be a Celery 5.x release up to {newest}; got {value!r}")
    return version


def _seconds(key: str, value: Any) -> float:
    if isinstance(value, str):  # flake8 options arrive as strings
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ConfigError(f"`{key}` must be a positive number of seconds, got {_describe(value)}")
    return float(value)


def _depth(key: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():  # flake8 options arrive as strings
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
        raise ConfigError(f"`{key}` must be a whole number from 0 to 20, got {_describe(value)}")
    return value


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false"):  # flake8 options arrive as strings
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ConfigError(f"`{key}` must be true or false, got {_describe(value)}")
    return value


def _per_file_ignores(key: str, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"`{key}` must be a table of glob = [codes], got {_describe(value)}")
    return tuple((str(glob), _codes(f"{key}.{glob}", codes)) for glob, codes in value.items())


_KEYS: dict[str, tuple[str, Any]] = {
    "select": ("select", _codes),
    "ignore": ("ignore", _codes),
    "extend-select": ("extend_select", _codes),
    "exclude": ("exclude", _str_list),
    "extend-exclude": ("extend_exclude", _str_list),
    "force-exclude": ("force_exclude", _bool),
    "respect-gitignore": ("respect_gitignore", _bool),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "src": ("src", _str_list),
    "target-version": ("target_version", _version),
    "task-name-prefixes": ("task_name_prefixes", _str_list),
    "task-name-pattern": ("task_name_pattern", _pattern),
    "require-queue": ("require_queue", _choice(REQUIRE_QUEUE_MODES)),
    "ignore-result-mode": ("ignore_result_mode", _choice(IGNORE_RESULT_MODES)),
    "result-backend": ("result_backend", _choice(RESULT_BACKEND_MODES)),
    "test-code": ("test_code", _choice(TEST_CODE_MODES)),
    "helper-depth": ("helper_depth", _depth),
    "bind-parameter-names": ("bind_parameter_names", _str_list),
    "extra-task-options": ("extra_task_options", _str_list),
    "non-idempotent-calls": ("non_idempotent_calls", _str_list),
    "external-tasks": ("external_tasks", _str_list),
    "worker-queues": ("worker_queues", _str_list),
    "visibility-timeout": ("visibility_timeout", _seconds),
    "project-index": ("project_index", _bool),
}

#: The configuration keys, for docs and tests.
CONFIG_KEYS = tuple(_KEYS)

#: key -> (type, default, meaning): the README's configuration reference is generated from this.
CONFIG_DOCS: dict[str, tuple[str, str, str]] = {
    "select": ("list of codes", "the default rules", "Rules to run (codes or prefixes); replaces the default set and turns on off-by-default rules named more specifically than `CLY`."),
    "ignore": ("list of codes", "`[]`", "Rules never to run; the most specific of select/ignore wins."),
    "extend-select": ("list of codes", "`[]`", "Rules to run on top of `select`."),
    "exclude": ("list of globs", "`.git`, `.venv`, `venv`, `node_modules`, `build`, `dist`, ... (`DEFAULT_EXCLUDE`)", "Paths not to lint, as in ruff: a pattern without `/` matches a file or directory name anywhere (`migrations`, `*_pb2.py`), one with `/` a path relative to the project root (`apps/generated`); a directory that matches excludes what is below it. Setting it replaces the default list (use `extend-exclude` to add). Virtualenvs (a directory holding `pyvenv.cfg`) are always skipped. Paths named on the command line are linted anyway unless `force-exclude`."),
    "extend-exclude": ("list of globs", "`[]`", "More paths not to lint, on top of `exclude`."),
    "force-exclude": ("boolean", "`false`", "Apply `exclude`, `extend-exclude` and `.gitignore` to paths named on the command line too (the pre-commit hooks pass `--force-exclude`; the flake8 plugin always does)."),
    "respect-gitignore": ("boolean", "`true`", "Skip files and directories the repository's `.gitignore` files (and `.git/info/exclude`) ignore, as git reads them; outside a git repository nothing is ignored."),
    "per-file-ignores": ("table glob -> codes", "`{}`", "Codes to ignore in matching files, e.g. `\"tests/*\" = [\"CLY1\"]`."),
    "src": ("list of paths", "`[]`", "Source roots: a file under one gets its module name from its path relative to the root (otherwise: walk up while `__init__.py` exists). Decides generated task names."),
    "target-version": (
        "string",
        "the project's pin, else newest known (`5.7`)",
        "The Celery release to check against, e.g. `\"5.4\"`. When not set, the newest Celery "
        "release the project allows is used, read from its lock file (`uv.lock`, `poetry.lock`, "
        "`pdm.lock`, `Pipfile.lock`), its requirement files (`requirements*.txt`, "
        "`requirements/*.txt`, then `*.in`) or `pyproject.toml` dependencies: a project on "
        "`celery==5.6.3` is not told about what 5.7 deprecates.",
    ),
    "task-name-prefixes": ("list of strings", "module path components", "Accepted task name prefixes (CLY102)."),
    "task-name-pattern": ("regex", "none", "Task names must match this (`re.search`); replaces the prefix test (CLY102)."),
    "require-queue": ("`auto` \\| `always` \\| `off`", "`auto`", "When a dispatch without `queue=` is reported (CLY401)."),
    "ignore-result-mode": ("`no-return` \\| `strict` \\| `off`", "`no-return`", "Which tasks need an explicit `ignore_result=` (CLY502)."),
    "result-backend": (
        "`auto` \\| `configured` \\| `none`",
        "`auto`",
        "Whether task results are stored (CLY402, CLY502 are silent when not): `auto` reads the code "
        "(no backend set anywhere, `None`, `\"disabled\"`, or an environment lookup without default: "
        "not stored); `configured` when the backend comes from outside the code (the "
        "`CELERY_RESULT_BACKEND` environment variable); `none` when it never does.",
    ),
    "test-code": (
        "`lenient` \\| `strict`",
        "`lenient`",
        "How test modules (`tests/`, `testing/`, `test_*.py`, `*_test.py`, `conftest.py`) are "
        "linted: `lenient` runs there only the rules about code that is wrong wherever it runs "
        "(option values CLY201 and CLY203-CLY208, CLY301, CLY403, CLY406), since a test's tasks, "
        "names and dispatches are never deployed; `strict` runs every rule there too.",
    ),
    "helper-depth": (
        "integer 0-20",
        "`4`",
        "How many calls deep CLY306, CLY307, CLY501, CLY603 and CLY601 follow the project's own "
        "functions (across modules; each function is read once per run, whatever the number of "
        "calls that reach it). `0` follows none and skips the files only a transaction brings "
        "in: on saleor a cold run costs about a tenth less (see README, Performance).",
    ),
    "bind-parameter-names": ("list of strings", "`[\"self\"]`", "Names accepted for a bound task's first parameter (CLY106)."),
    "extra-task-options": ("list of strings", "`[]`", "Task decorator keywords your own Task classes read (CLY201)."),
    "non-idempotent-calls": ("list of globs", "`[]`", "More dotted call names that repeat a side effect, e.g. `myapp.sms.send`, `vendor.*Client().submit` (CLY306, CLY307)."),
    "external-tasks": ("list of globs", "`[]`", "Task names served by other services (for the project index rules)."),
    "worker-queues": ("list of strings", "not set", "Queues consumed by workers the repository does not show (started by a platform, or from a template such as `-Q $QUEUES`). When set, CLY409 checks routed queues against these and the literal `-Q` of the worker command lines it finds, and no longer stays silent for a worker whose queues are not literal."),
    "visibility-timeout": ("number (seconds)", "`3600`", "The broker's redelivery window (Redis/SQS `visibility_timeout`); longer countdowns are reported (CLY405). A `broker_transport_options` with a literal `visibility_timeout` in the same file takes precedence."),
    "project-index": ("boolean", "`true`", "Build the project index (every task and the Celery settings of the project, read with `ast` and cached) so the project rules (CLY103, CLY108, CLY407, CLY408, CLY409, CLY503, CLY701, CLY702) run and the file+ rules use project facts. `--no-index` turns it off for one run."),
}


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def settings_from_mapping(table: Mapping[str, Any], *, project_root: Path, config_file: Path | None) -> Settings:
    """Validate a ``[tool.celery-lint]`` table and build Settings from it."""
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in _KEYS:
            hint = ""
            close = [k for k in _KEYS if k.replace("-", "_") == key.replace("-", "_").lower()]
            close = close or difflib.get_close_matches(key.replace("_", "-").lower(), list(_KEYS), n=1, cutoff=0.6)
            if close:
                hint = f" (did you mean `{close[0]}`?)"
            raise ConfigError(f"unknown key `{key}` in [tool.celery-lint]{hint}; the keys are listed in the README, Configuration")
        attr, convert = _KEYS[key]
        values[attr] = convert(key, raw)
    for entry in values.get("src", ()):
        _check_src_root(project_root, entry)
    return Settings(project_root=project_root, config_file=config_file, **values)


def _check_src_root(project_root: Path, entry: str) -> None:
    """A ``src`` root is a directory Python imports top-level modules from (a ``sys.path``
    entry). One that is itself a package, or inside one, would name every module below it
    differently from how Python imports it (``src = ["proj"]`` with ``proj/__init__.py``
    made CLY101 pin ``cly101.send_invoice`` for ``proj.cly101.send_invoice``)."""
    root = (project_root / entry).resolve()
    for directory in (root, root.parent):
        marker = directory / "__init__.py"
        if marker.is_file():
            shown = os.path.relpath(marker, project_root).replace(os.sep, "/")
            parent = os.path.relpath(directory.parent, project_root).replace(os.sep, "/")
            raise ConfigError(
                f"`src` entry `{entry}` is {'a package' if directory == root else 'inside a package'} "
                f"({shown}): list the directory that holds the top-level packages instead (here `{parent}`)"
            )


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8 (tomllib decodes before parsing)
        raise ConfigError(f"{path} is not valid TOML: not UTF-8 (byte {exc.start})") from None


#: path -> (stat key, table) of pyproject.toml files read (saleor's takes 4 ms to parse;
#: the daemon's forked runs inherit what their server read)
_TABLES: dict[str, tuple[tuple[int, int, int, int], dict[str, Any] | None]] = {}


def read_pyproject(path: Path) -> dict[str, Any] | None:
    """The ``[tool.celery-lint]`` table of ``path``, or None when it has none (remembered
    while the file's mtime, ctime, size and inode stay the same; callers must not change it)."""
    try:
        st = os.stat(path)
        key = stat_key(st)
    except OSError:
        key = None
    known = _TABLES.get(str(path)) if memo_usable() else None
    if key is not None and known is not None and known[0] == key:
        return known[1]
    table = _read_pyproject(path)
    if key is not None and settled(st) and memo_usable():
        if len(_TABLES) >= 64:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[str(path)] = (key, table)
    return table


def _read_pyproject(path: Path) -> dict[str, Any] | None:
    data = _load_toml(path)
    tool = data.get("tool", {})
    table = tool.get("celery-lint") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.celery-lint] must be a table")
    return table


PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")


def find_project_root(start: Path) -> Path:
    """Nearest directory at or above ``start`` holding a project marker; ``start`` if none."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in PROJECT_MARKERS):
            return directory
    return start


def _with_project_version(settings: Settings, table: Mapping[str, Any] | None) -> Settings:
    """``target-version`` from the configuration, else from the Celery the project pins."""
    if table and "target-version" in table:
        return settings.replace(target_version_source="configuration")
    found = project_celery_version(settings.project_root, NEWEST_CELERY)
    if found is None:
        return settings
    return settings.replace(target_version=found[0], target_version_source=found[1])


def load_settings(start: Path, config_file: Path | None = None) -> Settings:
    """Settings for a run whose paths live under ``start``.

    With ``config_file``, that file's table is used (a pyproject.toml or a bare TOML file
    holding the keys at top level). Otherwise the nearest ``pyproject.toml`` at or above
    ``start`` that has a ``[tool.celery-lint]`` table; defaults when there is none.
    """
    if config_file is not None:
        if config_file.is_dir():
            raise ConfigError(f"--config {config_file} is a directory; give a pyproject.toml or a TOML file")
        if not config_file.exists():
            raise ConfigError(f"config file not found: {config_file}")
        # any readable file counts (`--config /dev/null`: an empty configuration, the defaults)
        table = read_pyproject(config_file) if config_file.name == "pyproject.toml" else _read_bare(config_file)
        # the file's directory is the project root; not /dev for `--config /dev/null`
        root = config_file.resolve().parent if config_file.is_file() else find_project_root(start)
        return _with_project_version(settings_from_mapping(table or {}, project_root=root, config_file=config_file), table)
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            table = read_pyproject(candidate)
            if table is not None:
                return _with_project_version(settings_from_mapping(table, project_root=directory, config_file=candidate), table)
    return _with_project_version(Settings(project_root=find_project_root(start)), None)


class Hierarchy:
    """The nearest configuration of each file, as ruff finds it: the nearest
    ``pyproject.toml`` with a ``[tool.celery-lint]`` table at or above the file's
    directory governs it, with that file's directory as its project root. Each directory
    is looked up once per run, each configuration read once."""

    def __init__(self, base: Settings, overrides: Callable[[Settings], Settings]) -> None:
        self.base = base
        self._overrides = overrides
        self._dirs: dict[str, Path | None] = {}
        self._by_config: dict[Path, Settings] = {}
        #: a file's directory as the caller spells it -> the settings (one lookup per directory)
        self._of_dir: dict[str, Settings] = {}
        if base.config_file is not None and base.config_file.name == "pyproject.toml":
            self._by_config[base.config_file.resolve()] = base

    def config_of(self, directory: str) -> Path | None:
        """The ``pyproject.toml`` with a table at or above ``directory`` (None: none)."""
        found = self._dirs.get(directory, False)
        if found is not False:
            return found  # type: ignore[return-value]
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate) and read_pyproject(Path(candidate)) is not None:
            found = Path(candidate).resolve()
        else:
            parent = os.path.dirname(directory)
            found = None if parent == directory else self.config_of(parent)
        self._dirs[directory] = found
        return found

    def settings_for(self, path: str) -> Settings:
        """The settings that govern ``path`` (a file or a directory)."""
        spelled = os.path.dirname(path)
        if path.endswith(".py"):  # a walked file: its directory decides (no stat per file)
            known = self._of_dir.get(spelled)
            if known is None:
                known = self._of_dir[spelled] = self._settings_in(os.path.dirname(os.path.abspath(path)))
            return known
        absolute = os.path.abspath(path)
        return self._settings_in(absolute if os.path.isdir(absolute) else os.path.dirname(absolute))

    def _settings_in(self, directory: str) -> Settings:
        config = self.config_of(directory)
        if config is None:
            return self.base
        known = self._by_config.get(config)
        if known is None:
            table = read_pyproject(config) or {}
            loaded = settings_from_mapping(table, project_root=config.parent, config_file=config)
            known = self._by_config[config] = self._overrides(_with_project_version(loaded, table))
        return known


def _read_bare(path: Path) -> dict[str, Any]:
    data = _load_toml(path)
    # A file with a [tool.celery-lint] table works as well as one with top-level keys.
    tool = data.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get("celery-lint"), dict):
        return tool["celery-lint"]
    return data
