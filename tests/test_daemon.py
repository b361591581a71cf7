"""``--daemon``: a served run reports exactly what a run in its own process reports.

The end-to-end tests run the real ``celery-lint`` command in subprocesses, each with its
own socket directory, and stop every server they start.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from celery_lint.doors import daemon, server
from celery_lint.config import stamp

from tests.conftest import run_with_reader_gone

pytestmark = pytest.mark.skipif(
    not (hasattr(socket, "AF_UNIX") and hasattr(os, "fork")), reason="the server needs Unix sockets and fork"
)

TASKS = (
    "from celery import shared_task\n\n\n"
    "@shared_task\n"
    "def ping(order_id):\n"
    "    return 1\n\n\n"
    "def view(order):\n"
    "    ping.apply_async((order.id,), priority=11)\n"
)
CLEAN = "def f():\n    return 1\n"


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["x.py"], {}, False),
        (["--daemon", "x.py"], {}, True),
        (["x.py", "--", "--daemon"], {}, False),  # a file named --daemon
        (["--daemon", "x.py"], {"CELERY_LINT_DAEMON": "0"}, False),
        (["--daemon", "x.py"], {"CELERY_LINT_DAEMON": "off"}, False),
        (["--daemon", "x.py"], {"CI": "true"}, False),
        (["--daemon", "x.py"], {"CI": "1"}, False),
        (["--daemon", "x.py"], {"CI": "false"}, True),
        (["--daemon", "x.py"], {"CI": ""}, True),
        (["--daemon", "x.py"], {"GITHUB_ACTIONS": "true"}, False),
        (["--daemon", "x.py"], {"JENKINS_URL": "https://ci.example.invalid/"}, False),
    ],
)
def test_when_the_server_is_used(argv: list[str], env: dict[str, str], expected: bool) -> None:
    assert daemon.wanted(argv, env) is expected


def test_socket_directory_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = tmp_path / "fresh"
    monkeypatch.setenv(daemon.ENV_DIR, str(fresh))
    assert daemon.socket_dir() == str(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    monkeypatch.setenv(daemon.ENV_DIR, str(shared))
    with pytest.raises(daemon.DaemonUnavailable, match="not a private directory"):
        daemon.socket_dir()
    link = tmp_path / "link"
    link.symlink_to(fresh)
    monkeypatch.setenv(daemon.ENV_DIR, str(link))
    with pytest.raises(daemon.DaemonUnavailable, match="not a private directory"):
        daemon.socket_dir()


def test_unusable_settings_fall_back_with_a_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setenv(daemon.ENV_DIR, str(not_a_directory))
    with pytest.raises(daemon.DaemonUnavailable, match="cannot create"):
        daemon.socket_dir()
    monkeypatch.setenv(daemon.ENV_DIR, str(tmp_path / ("d" * 120)))
    with pytest.raises(daemon.DaemonUnavailable, match="socket path too long"):
        daemon.socket_path()
    for value, seconds in (("abc", daemon.DEFAULT_IDLE_SECONDS), ("0", 1.0), ("30", 30.0)):
        monkeypatch.setenv(daemon.ENV_IDLE, value)
        assert server._idle_from_env() == seconds


def test_server_key_follows_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upgrade or an edit of an editable install gets a new server, never a stale one."""
    package = tmp_path / "celery_lint"
    shutil.copytree(Path(daemon.__file__).parents[1], package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(stamp, "__file__", str(package / "config" / "stamp.py"))

    def key() -> str:
        monkeypatch.setattr(stamp, "_STAMP", None)  # a new process computes it afresh
        return daemon.server_key()

    before = key()
    assert key() == before
    rules = package / "rules" / "base.py"
    os.utime(rules, ns=(rules.stat().st_atime_ns, rules.stat().st_mtime_ns + 1_000_000_000))
    edited = key()
    assert edited != before
    monkeypatch.setattr(daemon, "__version__", "99.0")
    assert key() not in (before, edited)


# ---------------------------------------------------------------------------
# end to end


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "shop").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.celery-lint]\n")
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "tasks.py").write_text(TASKS)
    (root / "shop" / "clean.py").write_text(CLEAN)
    return root


@pytest.fixture
def sockets() -> Iterator[Path]:
    # short: a Unix socket path has about 100 bytes, and pytest-xdist's tmp_path
    # (`.../popen-gw1/test_served_run_matches_a_run_9/`) does not leave room for one
    parent = Path(tempfile.mkdtemp(prefix="cly-"))
    directory = parent / "s"
    yield directory
    if directory.exists():
        daemon.stop_servers(str(directory))
        _wait_for(lambda: not list(directory.glob("*.sock")), 10)
    shutil.rmtree(parent, ignore_errors=True)


def _env(sockets: Path, **extra: str) -> dict[str, str]:
    removed = {*daemon.CI_VARIABLES, daemon.ENV_SWITCH, "NO_COLOR", "FORCE_COLOR"}
    env = {k: v for k, v in os.environ.items() if k not in removed}
    env.update({daemon.ENV_DIR: str(sockets), daemon.ENV_IDLE: "60", daemon.ENV_VERBOSE: "1"}, **extra)
    return env


def _run(cwd: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "celery_lint", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _served(result: subprocess.CompletedProcess[str]) -> bool:
    return "celery-lint: daemon: served by" in result.stderr


def _without_daemon_lines(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("celery-lint: daemon:"))


def _start(project: Path, sockets: Path) -> None:
    first = _run(project, _env(sockets), "--daemon", "shop/tasks.py")
    assert "ran in this process" in first.stderr and "started a server" in first.stderr, first.stderr
    assert _wait_for(lambda: list(sockets.glob("*.sock")), 20), "no server came up"
    assert _wait_for(lambda: _served(_run(project, _env(sockets), "--daemon", "--version")), 20)


@pytest.mark.parametrize(
    ("args", "stdin", "env"),
    [
        (["shop/tasks.py"], None, {}),
        (["shop/clean.py"], None, {}),
        (["."], None, {}),
        (["--output-format", "json", "shop/tasks.py"], None, {}),
        (["--statistics", "--select", "CLY1", "."], None, {}),
        (["--select", "XYZ", "."], None, {}),  # a usage error: exit 2
        (["--diff", "shop/tasks.py"], None, {}),
        (["-", "--stdin-filename", "shop/other.py"], TASKS, {}),
        (["shop/tasks.py"], None, {"FORCE_COLOR": "1"}),
        (["--explain", "CLY204"], None, {}),
    ],
)
def test_served_run_matches_a_run_in_process(
    project: Path, sockets: Path, args: list[str], stdin: str | None, env: dict[str, str]
) -> None:
    _start(project, sockets)
    alone = _run(project, {**_env(sockets, **env), daemon.ENV_SWITCH: "0"}, "--daemon", *args, stdin=stdin)
    served = _run(project, _env(sockets, **env), "--daemon", *args, stdin=stdin)
    assert _served(served), served.stderr
    assert (served.returncode, served.stdout) == (alone.returncode, alone.stdout)
    assert _without_daemon_lines(served.stderr) == alone.stderr


def test_served_runs_see_edits_cwd_and_fixes(project: Path, sockets: Path) -> None:
    _start(project, sockets)
    env = _env(sockets)
    before = _run(project, env, "--daemon", "shop/tasks.py")
    assert before.returncode == 1 and "CLY204" in before.stdout
    (project / "shop" / "tasks.py").write_text(TASKS.replace("priority=11", "priority=5"))
    after = _run(project, env, "--daemon", "shop/tasks.py")
    assert _served(after) and "CLY204" not in after.stdout  # no stale result
    inside = _run(project / "shop", env, "--daemon", "tasks.py")  # the client's working directory
    assert _served(inside) and "shop/tasks.py" not in inside.stdout and "tasks.py:" in inside.stdout
    fixed = _run(project, env, "--daemon", "--fix", "shop/tasks.py")
    assert _served(fixed), fixed.stderr
    assert 'name="shop.tasks.ping"' in (project / "shop" / "tasks.py").read_text()


def test_stop_and_idle_exit(project: Path, sockets: Path) -> None:
    _start(project, sockets)
    stopped = subprocess.run(
        [sys.executable, "-m", "celery_lint.doors.daemon", "--stop"], env=_env(sockets), capture_output=True, text=True
    )
    assert stopped.stdout == "Stopped 1 celery-lint server.\n"
    assert _wait_for(lambda: not list(sockets.glob("*.sock")), 10)
    after = _run(project, _env(sockets), "--daemon", "shop/tasks.py")
    assert not _served(after) and after.returncode == 1
    # a server with one idle second exits by itself and removes its socket
    path = daemon.socket_path(str(sockets), "idle-test")
    server = subprocess.Popen(
        [sys.executable, "-m", "celery_lint.doors.server", path], env=_env(sockets, **{daemon.ENV_IDLE: "1"})
    )
    assert _wait_for(lambda: os.path.exists(path), 20)
    assert server.wait(timeout=30) == 0
    assert not os.path.exists(path)


def test_a_dead_socket_falls_back_and_is_replaced(project: Path, sockets: Path) -> None:
    where = [sys.executable, "-c", "from celery_lint.doors import daemon; print(daemon.socket_path())"]
    path = subprocess.run(where, cwd=project, env=_env(sockets), capture_output=True, text=True, check=True).stdout.strip()
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(path)  # a socket file nobody listens on, as a killed server leaves
    left.close()
    alone = _run(project, {**_env(sockets), daemon.ENV_SWITCH: "0"}, "shop/tasks.py")
    result = _run(project, _env(sockets), "--daemon", "shop/tasks.py")
    assert "ran in this process" in result.stderr
    assert (result.returncode, result.stdout) == (alone.returncode, alone.stdout)
    assert _wait_for(lambda: _served(_run(project, _env(sockets), "--daemon", "--version")), 20)


def test_no_server_in_ci_or_when_switched_off(project: Path, sockets: Path) -> None:
    for extra in ({"CI": "true"}, {daemon.ENV_SWITCH: "0"}):
        result = _run(project, _env(sockets, **extra), "--daemon", "shop/tasks.py")
        assert result.returncode == 1 and "celery-lint: daemon:" not in result.stderr
    time.sleep(0.5)
    assert not list(sockets.glob("*.sock")) if sockets.exists() else True


def test_a_shared_socket_directory_is_refused(project: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    result = _run(project, _env(shared), "--daemon", "shop/tasks.py")
    assert result.returncode == 1 and "not a private directory" in result.stderr
    assert not list(shared.iterdir())


def test_served_run_whose_reader_stops_early(project: Path, sockets: Path) -> None:
    """``celery-lint --daemon . | head`` in a served run: exit 2, no traceback."""
    _start(project, sockets)
    for number in range(30):
        (project / "shop" / f"more{number}.py").write_text(TASKS * 20)
    proc = run_with_reader_gone(["--daemon", "--no-cache", "."], project, _env(sockets))
    assert _served(proc), proc.stderr
    assert proc.returncode == 2
    assert _without_daemon_lines(proc.stderr) == ""


def test_a_closed_standard_stream_is_not_passed_on(project: Path, sockets: Path) -> None:
    """With stdin closed, the client's socket would take descriptor 0: run in-process instead."""
    _start(project, sockets)
    alone = _run(project, {**_env(sockets), daemon.ENV_SWITCH: "0"}, "shop/tasks.py")
    proc = subprocess.run(
        [sys.executable, "-m", "celery_lint", "--daemon", "shop/tasks.py"],
        cwd=project,
        env=_env(sockets),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(0),
    )
    assert "standard stream 0 is closed" in proc.stderr, proc.stderr
    assert "started a server" not in proc.stderr  # one is running: no second one
    assert (proc.returncode, proc.stdout) == (alone.returncode, alone.stdout)


def test_served_project_index_follows_edits_elsewhere(project: Path, sockets: Path) -> None:
    """A served run sees an edit in another file of the project (a duplicate task name,
    CLY103) and a new file, exactly as a run in its own process does."""
    _start(project, sockets)
    env = _env(sockets)
    assert _wait_for(lambda: _served(_run(project, env, "--daemon", "shop/tasks.py")), 30)
    duplicate = "from celery import shared_task\n\n\n@shared_task(name='shop.tasks.ping')\ndef pong():\n    return 1\n"
    (project / "shop" / "clean.py").write_text(duplicate)
    served = _run(project, env, "--daemon", "shop/tasks.py")
    alone = _run(project, {**env, daemon.ENV_SWITCH: "0"}, "--daemon", "shop/tasks.py")
    assert "CLY103" in alone.stdout
    assert _served(served) and (served.returncode, served.stdout) == (alone.returncode, alone.stdout)
    (project / "shop" / "clean.py").write_text(CLEAN)
    (project / "shop" / "extra.py").write_text(duplicate.replace("pong", "pang"))
    served = _run(project, env, "--daemon", "shop/tasks.py")
    alone = _run(project, {**env, daemon.ENV_SWITCH: "0"}, "--daemon", "shop/tasks.py")
    assert "extra.py" in alone.stdout
    assert _served(served) and (served.returncode, served.stdout) == (alone.returncode, alone.stdout)


def test_a_way_to_the_socket_directory_others_may_change_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parent another user may write (not sticky) could swap the directory after the check."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # world-writable, no sticky bit
    monkeypatch.setenv(daemon.ENV_DIR, str(shared / "sockets"))
    with pytest.raises(daemon.DaemonUnavailable, match="may be changed by another user"):
        daemon.socket_dir()
    shared.chmod(0o1777)  # sticky, as /tmp: others cannot rename or remove what is ours
    assert daemon.socket_dir() == str(shared / "sockets")


FAKE_SERVER = """
import os, socket, sys
os.setgid(65534)
os.setuid(65534)  # another user
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
listener.listen(1)
print("ready", flush=True)
connection, _ = listener.accept()
connection.settimeout(5)
received = b""
try:
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
except OSError:
    pass
print(len(received), flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to run a server as another user")
def test_the_client_sends_nothing_to_a_server_of_another_user(tmp_path: Path) -> None:
    """A server planted by someone else got the caller's environment and streams."""
    import shutil
    import tempfile

    sockets = Path(tempfile.mkdtemp(prefix="cly-planted-"))  # pytest's own tree is closed to others
    sockets.chmod(0o777)
    path = str(sockets / "planted.sock")
    fake = subprocess.Popen(
        [sys.executable, "-c", FAKE_SERVER, path],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None and fake.stdout.readline().strip() == "ready"
        with pytest.raises(daemon.DaemonUnavailable, match="runs as user 65534"):
            daemon.request(["--version"], path)
        assert fake.stdout.readline().strip() == "0"  # not a byte reached it
    finally:
        fake.kill()
        fake.wait()
        shutil.rmtree(sockets, ignore_errors=True)


SERVER_WITH_ENVIRONMENT = """
import os, sys
from celery_lint.doors import server
marker = sys.argv[2]
server._environment = lambda: [(marker, os.stat(marker).st_ino)]
sys.exit(server.serve(sys.argv[1], idle_seconds=60))
"""


def test_a_server_whose_environment_is_gone_exits(tmp_path: Path, sockets: Path) -> None:
    """pre-commit deletes a hook's environment; its server must not run on from it."""
    sockets.mkdir(mode=0o700)
    path = str(sockets / "env.sock")
    marker = tmp_path / "python"
    marker.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", SERVER_WITH_ENVIRONMENT, path, str(marker)])
    try:
        assert _wait_for(lambda: os.path.exists(path), 20), "no server came up"
        assert proc.poll() is None
        marker.unlink()
        proc.wait(timeout=10)
        assert not os.path.exists(path)  # it cleaned up its socket
    finally:
        if proc.poll() is None:
            proc.kill()
