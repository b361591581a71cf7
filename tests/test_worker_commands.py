"""Worker command lines found in the repository (issue 18, item 1: the facts CLY409 reads)."""

from __future__ import annotations

import pytest

from celery_lint.model.workers import find_worker_commands, is_candidate, worker_commands


def found(name: str, text: str) -> list[tuple[int, str | None, tuple[str, ...] | None, tuple[str, ...], bool]]:
    return [(w.line, w.app, w.queues, w.exclude, w.literal) for w in worker_commands(name, text)]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("entrypoint.sh", "#!/bin/sh\nexec celery -A proj worker -l info -Q default,emails --concurrency 4\n",
         [(2, "proj", ("default", "emails"), (), True)]),
        ("start.sh", "celery --app=proj.celery \\\n    worker \\\n    --queues=reports -X low,bulk\n",
         [(1, "proj.celery", ("reports",), ("low", "bulk"), True)]),
        ("run.sh", "python -m celery -A proj worker --loglevel=INFO\n", [(1, "proj", None, (), True)]),
        ("old.sh", "celery worker -A proj -Qa,b\n", [(1, "proj", ("a", "b"), (), True)]),
        ("env.sh", 'celery -A proj worker -Q "$QUEUE"\n', [(1, "proj", (), (), False)]),
        ("chain.sh", "cd /app && celery -A proj worker -Q chain; echo done\n", [(1, "proj", ("chain",), (), True)]),
        ("wrap.sh", "su app -c 'celery -A proj worker -Q inner'\n", [(1, "proj", ("inner",), (), True)]),
        ("run", "exec s6-setuidgid app /usr/local/bin/celery --app app worker --loglevel INFO\n", [(1, "app", None, (), True)]),
        ("compose.yml", 'services:\n  w:\n    command: bash -c "source .venv/bin/activate && python -m celery -A k worker -Q c,e"\n',
         [(3, "k", ("c", "e"), (), True)]),
        ("Dockerfile", 'FROM python\nCMD ["celery", "-A", "proj", "worker", "-Q", "high"]\n', [(2, "proj", ("high",), (), True)]),
        ("Dockerfile.worker", "ENTRYPOINT celery -A proj worker\n", [(1, "proj", None, (), True)]),
        ("Procfile", "web: gunicorn proj.wsgi\nworker: celery -A proj worker -Q default --loglevel info\nbeat: celery -A proj beat\n",
         [(2, "proj", ("default",), (), True)]),
        ("celery.service", "[Service]\nExecStart=/opt/venv/bin/celery -A proj worker -Q mail\n", [(2, "proj", ("mail",), (), True)]),
        ("supervisord.conf", "[program:celery]\ncommand=celery -A proj worker -Q x\n", [(2, "proj", ("x",), (), True)]),
        ("Makefile", "worker:\n\tcelery -A proj worker -Q make\n", [(2, "proj", ("make",), (), True)]),
        ("docker-compose.yml",
         "services:\n  worker:\n    image: app\n    command: celery -A proj worker -Q a,b\n"
         "  worker2:\n    command: [\"celery\", \"-A\", \"proj\", \"worker\"]\n  beat:\n    command: celery -A proj beat\n",
         [(4, "proj", ("a", "b"), (), True), (6, "proj", None, (), True)]),
        ("deploy/worker.yaml",
         "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
         "      - name: worker\n        command: [\"celery\"]\n        args: [\"-A\", \"proj\", \"worker\", \"-Q\", \"k8s\"]\n"
         "---\nkind: Service\n",
         [(8, "proj", ("k8s",), (), True)]),
        ("k8s.yaml", "containers:\n- command: [\"sh\", \"-c\", \"celery -A proj worker -Q shell\"]\n", [(2, "proj", ("shell",), (), True)]),
        ("templates/worker.yaml",  # a Helm template: not YAML until rendered
         "{{- if .Values.worker.enabled }}\ncommand: celery -A proj worker -Q {{ .Values.queues }}\n{{- end }}\n",
         [(2, "proj", (), (), False)]),
        # `celery multi`: queues per node (`-Q:w1 a`), read as unknown
        ("multi.sh", "celery multi start w1 w2 -A proj -Q:w1 a -Q:w2 b\n", [(1, "proj", (), (), False)]),
    ],
)
def test_worker_commands(name: str, text: str, expected: list[object]) -> None:
    assert found(name, text) == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("run.sh", "celery -A proj beat -l info\n"),
        ("run.sh", "celery -A proj inspect active  # ask the workers\n"),
        ("run.sh", "# celery -A proj worker -Q commented\n"),
        ("run.sh", "gunicorn --worker-class gevent proj.wsgi  # not celery\n"),
        ("Procfile", "release: python manage.py migrate  # celery worker docs\n"),
        ("compose.yml", "services:\n  web:\n    command: gunicorn proj.wsgi --workers 4\n    environment:\n      - CELERY_BROKER=redis://\n"),
        ("notes.yml", "text: 'how to run a celery worker'\n"),
    ],
)
def test_lines_that_are_not_worker_commands(name: str, text: str) -> None:
    assert found(name, text) == []


def test_which_files_are_read() -> None:
    for name in ("entrypoint.sh", "Dockerfile", "Dockerfile.worker", "worker.dockerfile", "Procfile", "Procfile.dev",
                 "celery.service", "supervisord.conf", "Makefile", "docker-compose.yml", "values.yaml"):
        assert is_candidate(name), name
    for name in ("tasks.py", "README.md", "celery.png", "requirements.txt"):
        assert not is_candidate(name), name


def test_files_on_disk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Procfile").write_text("worker: celery -A proj worker -Q disk\n")
    (tmp_path / "tasks.py").write_text("# celery -A proj worker -Q not-read\n")
    (tmp_path / "huge.sh").write_bytes(b"celery -A proj worker\n" + b"#" * (3 * 1024 * 1024))
    commands = find_worker_commands(str(p) for p in sorted(tmp_path.iterdir()))
    assert [(c.where().rsplit("/", 1)[1], c.queues) for c in commands] == [("Procfile:1", ("disk",))]


def test_yaml_that_would_explode_or_nest_too_deep(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Aliases of aliases (a "billion laughs" document) are walked once each; nesting
    deeper than PyYAML's composer goes is read line by line; neither stops the run."""
    import time

    lines = ['a0: &a0 ["celery -A proj worker -Q bomb"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    started = time.perf_counter()
    found = worker_commands("bomb.yml", "\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2
    assert [w.queues for w in found] == [("bomb",)]
    deep = "command: celery -A proj worker -Q deep\nx: " + "[" * 5000 + "]" * 5000 + "\n"
    assert [w.queues for w in worker_commands("deep.yml", deep)] == [("deep",)]
