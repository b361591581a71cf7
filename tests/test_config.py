"""[tool.celery-lint]: loading, validation, selection semantics."""

from __future__ import annotations

from pathlib import Path

import pytest

from celery_lint.config.settings import CONFIG_KEYS, ConfigError, Settings, load_settings
from celery_lint.engine.core import enabled_rules, is_enabled
from celery_lint.rules import Rule


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(body)
    return tmp_path


def test_defaults_without_config(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.select is None and settings.require_queue == "auto"


def test_nearest_pyproject_with_table_wins(tmp_path: Path) -> None:
    write(tmp_path, '[tool.celery-lint]\ntask-name-prefixes = ["shop"]\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    settings = load_settings(sub)
    assert settings.task_name_prefixes == ("shop",)
    assert settings.project_root == tmp_path.resolve()


def test_every_key_is_accepted(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[tool.celery-lint]
select = ["CLY1"]
ignore = ["CLY102"]
extend-select = ["CLY2"]
exclude = ["migrations"]
per-file-ignores = { "tests/*" = ["CLY101"] }
src = ["src"]
target-version = "5.4"
task-name-prefixes = ["shop"]
task-name-pattern = "^shop\\\\."
require-queue = "always"
ignore-result-mode = "strict"
bind-parameter-names = ["self", "task"]
extra-task-options = ["tenant"]
non-idempotent-calls = ["shop.sms.send"]
external-tasks = ["billing.*"]
worker-queues = ["default", "emails"]
visibility-timeout = 43200
project-index = false
result-backend = "none"
test-code = "strict"
""",
    )
    settings = load_settings(tmp_path)
    assert settings.target_version == (5, 4)
    assert settings.visibility_timeout == 43200.0
    assert settings.project_index is False
    assert settings.task_name_pattern is not None and settings.task_name_pattern.search("shop.x")
    assert settings.ignored_codes_for(tmp_path / "tests" / "test_a.py") == ("CLY101",)
    assert settings.result_backend == "none" and settings.test_code == "strict"
    assert settings.worker_queues == ("default", "emails")
    assert len(CONFIG_KEYS) == 24


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tool.celery-lint]\nselec = ['CLY1']\n", "unknown key `selec`"),
        ("[tool.celery-lint]\ntask_name_prefixes = ['x']\n", "did you mean `task-name-prefixes`"),
        ("[tool.celery-lint]\nselect = ['CLY1x']\n", "not a celery-lint code"),
        ("[tool.celery-lint]\nignore = 'CLY502'\n", "got str 'CLY502' .write `ignore = .\"CLY502\""),
        ("[tool.celery-lint]\nexclude = 'build'\n", "must be a list of strings, got str"),
        ("[tool.celery-lint]\ntask-name-prefix = ['x']\n", "did you mean `task-name-prefixes`"),
        ("[tool.celery-lint]\nhelper_depth = 2\n", "did you mean `helper-depth`"),
        ("[tool.celery-lint]\nsrc_roots = ['x']\n", "unknown key `src_roots`"),
        ("[tool.celery-lint]\nrequire-queue = 'sometimes'\n", "must be one of auto, always, off"),
        ("[tool.celery-lint]\ntask-name-pattern = '(unclosed'\n", "not a valid regular expression"),
        ("[tool.celery-lint]\ntarget-version = 5.4\n", "must be a string"),
        ("[tool.celery-lint]\ntarget-version = '4.4'\n", "Celery 5.x release"),
        ("[tool.celery-lint]\nexclude = 3\n", "must be a list of strings"),
        ("[tool.celery-lint]\nvisibility-timeout = 0\n", "must be a positive number of seconds"),
        ("[tool.celery-lint]\nvisibility-timeout = '1h'\n", "must be a positive number of seconds"),
        ("[tool.celery-lint]\nproject-index = 'yes'\n", "must be true or false"),
        ("[tool.celery-lint\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, body: str, message: str) -> None:
    write(tmp_path, body)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_settings(tmp_path)


def test_explicit_config_file(tmp_path: Path) -> None:
    config = tmp_path / "lint.toml"
    config.write_text('require-queue = "off"\n')
    assert load_settings(tmp_path, config).require_queue == "off"
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path, tmp_path / "missing.toml")


class _OffRule(Rule):
    code = "CLY304"
    name = "off-rule"
    default_enabled = False


class _OnRule(Rule):
    code = "CLY305"
    name = "on-rule"


def test_selection_semantics() -> None:
    assert is_enabled(_OnRule, Settings())
    assert not is_enabled(_OffRule, Settings())
    assert not is_enabled(_OffRule, Settings(select=("CLY",)))
    assert is_enabled(_OffRule, Settings(select=("CLY3",)))
    assert is_enabled(_OffRule, Settings(extend_select=("CLY304",)))
    assert not is_enabled(_OnRule, Settings(select=("CLY1",)))
    assert not is_enabled(_OnRule, Settings(ignore=("CLY3",)))
    assert is_enabled(_OnRule, Settings(select=("CLY305",), ignore=("CLY3",)))
    assert not is_enabled(_OnRule, Settings(select=("CLY3",), ignore=("CLY305",)))


def test_default_rules_are_all_on_rules() -> None:
    assert all(rule.default_enabled for rule in enabled_rules(Settings()))


def test_pyproject_table_is_remembered_only_while_the_file_is_unchanged_and_settled(tmp_path: Path) -> None:
    import os
    import time

    from celery_lint.config import settings as config
    from celery_lint.config.stamp import begin_run

    begin_run()  # a run with its memos (an earlier --no-cache run in this process turned them off)
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.celery-lint]\nsrc = ["a"]\n')
    fresh = config.read_pyproject(path)
    assert fresh == {"src": ["a"]} and str(path) not in config._TABLES  # just written: not remembered
    old = time.time() - 60
    os.utime(path, (old, old))  # ctime is now, so still not settled
    config.read_pyproject(path)
    assert str(path) not in config._TABLES
    st = os.stat(path)
    key = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    config._TABLES[str(path)] = (key, {"src": ["remembered"]})  # as if read long ago
    assert config.read_pyproject(path) == {"src": ["remembered"]}
    path.write_text('[tool.celery-lint]\nsrc = ["b"]\n')  # same size, new times
    assert config.read_pyproject(path) == {"src": ["b"]}
