"""target-version from the Celery the project pins (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from celery_lint.config.pins import project_celery_version
from celery_lint.config.settings import load_settings

NEWEST = (5, 7)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"uv.lock": '[[package]]\nname = "celery"\nversion = "5.6.3"\nsource = { registry = "x" }\n'}, ((5, 6), "uv.lock")),
        ({"poetry.lock": '[[package]]\nname = "celery"\nversion = "5.4.0"\ndescription = "x"\n'}, ((5, 4), "poetry.lock")),
        ({"Pipfile.lock": '{"default": {"celery": {"version": "==5.3.6"}}}'}, ((5, 3), "Pipfile.lock")),
        ({"requirements.txt": "django==5.0\ncelery[redis]==5.5.2 \\\n    --hash=sha256:abc\n"}, ((5, 5), "requirements.txt")),
        ({"requirements/pip.txt": "celery==5.6.3\n", "requirements/pip.in": "celery\n"}, ((5, 6), "requirements/pip.txt")),
        ({"requirements.in": "celery>=5.3,<5.5\n"}, ((5, 4), "requirements.in")),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["celery[redis]~=5.6.2"]\n'}, ((5, 6), "pyproject.toml")),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["celery>=5.6.3,<6"]\n'}, ((5, 7), "pyproject.toml")),
        ({"pyproject.toml": '[tool.poetry.dependencies]\ncelery = { version = "~5.2", extras = ["redis"] }\n'}, ((5, 2), "pyproject.toml")),
        ({"pyproject.toml": '[tool.poetry.dependencies]\ncelery = "^5.3"\n'}, ((5, 7), "pyproject.toml")),
        ({"requirements.txt": "celery-redbeat==2.0\ndjango-celery-beat==2.5\n"}, None),
        ({"pyproject.toml": "not [valid toml"}, None),
        ({}, None),
    ],
)
def test_the_newest_release_the_project_allows(tmp_path: Path, files: dict[str, str], expected: object) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert project_celery_version(tmp_path, NEWEST) == expected


def test_the_configuration_wins_over_the_pin(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("celery==5.3.1\n")
    (tmp_path / "pyproject.toml").write_text("[tool.celery-lint]\n")
    settings = load_settings(tmp_path)
    assert (settings.target_version, settings.target_version_source) == ((5, 3), "requirements.txt")
    (tmp_path / "pyproject.toml").write_text('[tool.celery-lint]\ntarget-version = "5.6"\n')
    settings = load_settings(tmp_path)
    assert (settings.target_version, settings.target_version_source) == ((5, 6), "configuration")


def test_a_deprecation_of_a_newer_release_is_not_reported_under_an_older_pin(tmp_path: Path) -> None:
    from tests.test_index import make, run

    make(tmp_path, {"shop/tasks.py": "from celery import shared_task\n\n@shared_task(name='shop.t', queue='x', ignore_result=True)\ndef t():\n    return 1\n"})
    assert "CLY202" in run(tmp_path, "--no-cache", ".").stdout  # no pin: the newest release
    (tmp_path / "requirements.txt").write_text("celery==5.6.3\n")
    assert "CLY202" not in run(tmp_path, "--no-cache", ".").stdout


def test_a_message_that_depends_on_the_target_says_where_it_was_read(tmp_path: Path) -> None:
    from tests.test_index import make, run

    make(tmp_path, {"shop/tasks.py": "from celery import shared_task\n\n@shared_task(name='shop.t', queue='x', ignore_result=True)\ndef t():\n    return 1\n"})
    (tmp_path / "requirements.txt").write_text("celery>=5.6,<6\n")
    assert "(target Celery 5.7, read from requirements.txt)" in run(tmp_path, "--no-cache", ".").stdout
