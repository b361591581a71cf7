"""``celery-lint --daemon``: a background server that keeps libcst and the rules imported.

The client half runs first in every ``--daemon`` run and imports only what it uses
(7-10 ms with its top-level imports, ``python -X importtime``); the server half's
imports, marked ``# lazy: start-up time``, are made in the server or in its children.

A pre-commit run on one file spends most of its time starting up: importing libcst
alone takes about 0.3 s, more than linting the file. With ``--daemon`` the command
connects to a server that has already imported everything, and the server forks a
child that runs the very same command (:func:`celery_lint.doors.cli.run_in_process`) with the
client's arguments, working directory, environment, umask and standard streams (the
file descriptors themselves are passed over the socket, so output, colours and
``isatty`` are the client's). The child's exit status becomes the client's. Nothing that
can go stale is kept between requests: each child reads the configuration and the
result cache from disk, and checks every file against the project index as an ordinary
run does, so a served run reports what an ordinary run would.

The client never waits for a server to start. When none answers, it runs in its own
process as usual and, if that run needed libcst, starts a server for next time.

Where the server is not used (the command runs in-process):

- ``CELERY_LINT_DAEMON=0`` (or ``off``, ``false``, ``no``) in the environment;
- ``CI`` (or another CI system's marker, :data:`CI_VARIABLES`) set in the environment:
  CI jobs start from nothing and should leave nothing running;
- platforms without Unix sockets or ``fork`` (Windows);
- a socket directory that is not a private directory of the current user.

The server listens on a Unix socket in a directory only the current user can enter
(``$XDG_RUNTIME_DIR/celery-lint``, else ``<tmp>/celery-lint-<uid>``; override with
``CELERY_LINT_DAEMON_DIR``), and also checks each peer's user id where the platform
tells it. The socket's name is derived from celery-lint's version, the size and mtime
of each of its modules, the interpreter and its import path, so an upgrade or an edit
of an editable install gets a fresh server; the old one exits after its idle time.
A server exits after ``CELERY_LINT_DAEMON_IDLE`` seconds without requests (default
900), when its socket is removed, or on ``python -m celery_lint.doors.daemon --stop``.
``CELERY_LINT_DAEMON_VERBOSE=1`` makes the client say on stderr whether a run was served.

Between requests the server keeps, besides imported code and the tables the engine fills
lazily (warmed once at start), a copy of each index cache file its children read
(:func:`celery_lint.model.index.preload`), used by a child only while the file on disk has the
same mtime, size and inode. A child writes the index cache after answering, having
released the client's streams.
"""

from __future__ import annotations

import _signal
import _socket
import marshal
import os
import stat
import sys
import time

TYPE_CHECKING = False  # `typing` costs the client 5-20 ms; only type checkers need it
if TYPE_CHECKING:
    from typing import Any, Sequence

from .. import __version__

# The client side (everything up to "the server") runs first in every ``celery-lint
# --daemon`` process, so it imports only modules built into the interpreter: ``_socket``
# rather than ``socket`` (which imports ``selectors`` and ``enum``), ``_signal`` rather
# than ``signal``, ``marshal`` rather than ``json`` (which imports ``re``), ``zlib``
# rather than ``hashlib``, and ``os.path`` rather than ``pathlib``: 5 ms of imports
# instead of 28 ms. A served ``--version`` takes 0.04 s, 0.025 s of it starting Python.

#: Environment variables read here.
ENV_SWITCH = "CELERY_LINT_DAEMON"
ENV_DIR = "CELERY_LINT_DAEMON_DIR"
ENV_IDLE = "CELERY_LINT_DAEMON_IDLE"
ENV_VERBOSE = "CELERY_LINT_DAEMON_VERBOSE"
DEFAULT_IDLE_SECONDS = 900.0
#: How long the client waits for a server to accept its request before running itself.
START_TIMEOUT = 2.0
_OFF = {"0", "off", "false", "no"}
#: Any of these set (and not false) means a CI job: no server, which would outlive the job.
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "TF_BUILD", "BUILDKITE", "TEAMCITY_VERSION")
_HEADER_SIZE = 4  # the length of the marshalled request that follows, big-endian
_STARTED, _DONE, _STOP = b"S", b"D", b"X"
#: A child's last report to the server (index cache file paths are absolute).
_FINISHED = "finished"
#: Modules a served run may import: imported once by the server, not per request.
_PRELOAD = (
    "celery_lint.doors.cli",
    "celery_lint.engine.core",
    "celery_lint.engine.fixes",
    "celery_lint.run.project",
    "celery_lint.run.runner",
    "celery_lint.run.cache",
    "celery_lint.run.files",
    "celery_lint.run.noqa",
    "celery_lint.model.index",
    "celery_lint.report.formats",
    "celery_lint.report.summary",
    "difflib",
    "multiprocessing",
)


class DaemonUnavailable(Exception):
    """The server cannot be used for this run; the client runs in-process.

    ``no_server``: nothing answered on the socket, so starting one would help the next run
    (not so for a closed standard stream, or a server that refused the request).
    """

    def __init__(self, message: str, *, no_server: bool = False) -> None:
        super().__init__(message)
        self.no_server = no_server


def wanted(argv: Sequence[str], environ: dict[str, str] | None = None) -> bool:
    """``--daemon`` given (before any ``--``) and nothing rules the server out."""
    options = list(argv)
    if "--" in options:
        options = options[: options.index("--")]
    if "--daemon" not in options:
        return False
    env = os.environ if environ is None else environ
    if env.get(ENV_SWITCH, "").strip().lower() in _OFF:
        return False
    if any(env.get(name, "").strip().lower() not in ("", *_OFF) for name in CI_VARIABLES):
        return False
    return hasattr(_socket, "AF_UNIX") and hasattr(os, "fork") and hasattr(_socket.socket, "sendmsg")


# ---------------------------------------------------------------------------
# where the server lives


def socket_dir() -> str:
    """The private directory holding the sockets; created 0700 when missing.

    Raises DaemonUnavailable when it exists but is not a directory owned by this user
    that nobody else may enter.
    """
    directory = os.environ.get(ENV_DIR)
    if not directory:
        if os.environ.get("XDG_RUNTIME_DIR"):
            directory = os.path.join(os.environ["XDG_RUNTIME_DIR"], "celery-lint")
        else:
            temporary = os.environ.get("TMPDIR") or os.environ.get("TEMP") or os.environ.get("TMP") or "/tmp"
            directory = os.path.join(temporary, f"celery-lint-{os.getuid()}")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.lstat(directory)
    except OSError as exc:
        raise DaemonUnavailable(f"cannot create {directory}: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise DaemonUnavailable(f"{directory} is not a private directory of this user")
    return directory


def server_key() -> str:
    """Changes whenever the code a server would run changes (64 bits of two checksums)."""
    import zlib

    from ..config.stamp import code_stamp  # lazy: start-up time

    payload = repr([__version__, code_stamp(), sys.executable, sys.version, sys.path[1:]]).encode()
    return f"{zlib.crc32(payload):08x}{zlib.adler32(payload):08x}"


def socket_path(directory: str | None = None, key: str | None = None) -> str:
    path = os.path.join(directory or socket_dir(), f"{key or server_key()}.sock")
    if len(os.fsencode(path)) > 100:  # sun_path holds 104-108 bytes
        raise DaemonUnavailable(f"socket path too long: {path}")
    return path


# ---------------------------------------------------------------------------
# the client


def client_main(argv: Sequence[str]) -> int:
    """``celery-lint --daemon ...``: served when a server answers, else run here.

    A run here that needed libcst (the expensive import) starts a server for next time.
    With ``CELERY_LINT_DAEMON_VERBOSE=1`` a line on stderr says which happened and why.
    """
    path = None
    try:
        path = socket_path()
        status = request(argv, path)
        _say(f"served by the server at {path}")
        return status
    except DaemonUnavailable as exc:
        reason, no_server = str(exc), exc.no_server
    from .cli import run_in_process  # lazy: start-up time

    status = run_in_process(argv)
    started = ""
    if path is not None and no_server and "libcst" in sys.modules:
        try:
            start_server(path)
            started = "; started a server for the next run"
        except OSError as exc:
            started = f"; could not start a server: {exc}"
    _say(f"ran in this process ({reason}){started}")
    return status


def _say(message: str) -> None:
    if os.environ.get(ENV_VERBOSE, "").strip().lower() not in ("", *_OFF):
        sys.stderr.write(f"celery-lint: daemon: {message}\n")
        sys.stderr.flush()


def request(argv: Sequence[str], path: str | None = None) -> int:
    """Run ``celery-lint argv`` in the server; its exit status.

    Raises DaemonUnavailable when no server accepted the request (nothing has been
    written to the standard streams then).
    """
    path = path or socket_path()
    for fd in (0, 1, 2):  # a closed one would be reused by the socket below and passed on as itself
        try:
            os.fstat(fd)
        except OSError:
            raise DaemonUnavailable(f"standard stream {fd} is closed") from None
    client = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        client.settimeout(START_TIMEOUT)
        try:
            client.connect(path)
        except OSError as exc:
            raise DaemonUnavailable(f"no server at {path}: {exc.strerror or exc}", no_server=True) from None
        umask = os.umask(0)
        os.umask(umask)
        try:
            cwd = os.getcwd()
        except OSError as exc:
            raise DaemonUnavailable(f"no working directory: {exc.strerror or exc}") from None
        payload = marshal.dumps(
            {
                "argv": list(argv),
                "cwd": cwd,
                "env": dict(os.environ),
                "umask": umask,
                "streams": [_stream_format(sys.stdin), _stream_format(sys.stdout), _stream_format(sys.stderr)],
            }
        )
        descriptors = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))  # C ints
        try:
            client.sendmsg(
                [len(payload).to_bytes(_HEADER_SIZE, "big")],
                [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, descriptors)],
            )
            client.sendall(payload)
            started = _receive(client, 1 + 4)
        except OSError as exc:
            raise DaemonUnavailable(f"the server did not take the request: {exc}") from None
        if started is None or started[:1] != _STARTED:
            raise DaemonUnavailable("the server closed the connection before starting")
        child = int.from_bytes(started[1:], "big", signed=True)
        client.settimeout(None)  # the run itself may take as long as it takes
        with _forwarding_signals(child):
            done = _receive(client, 1 + 4)
        if done is None or done[:1] != _DONE:
            sys.stderr.write(
                "celery-lint: error: the daemon's worker ended without a result; "
                f"run without --daemon or set {ENV_SWITCH}=0\n"
            )
            return 2
        return int.from_bytes(done[1:], "big", signed=True)
    finally:
        client.close()


def _stream_format(stream: Any) -> dict[str, Any] | None:
    if stream is None:
        return None
    return {
        "encoding": getattr(stream, "encoding", None) or "utf-8",
        "errors": getattr(stream, "errors", None) or "strict",
        "line_buffering": bool(getattr(stream, "line_buffering", False)),
    }


def _receive(connection: Any, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class _forwarding_signals:
    """Ctrl-C or a kill of the client reaches the worker running its command."""

    _SIGNALS = tuple(getattr(_signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(_signal, name))

    def __init__(self, child: int) -> None:
        self.child = child
        self.previous: dict[int, Any] = {}

    def _forward(self, signum: int, frame: Any) -> None:
        try:
            os.kill(self.child, signum)
        except OSError:
            pass

    def __enter__(self) -> None:
        for signum in self._SIGNALS:
            try:
                self.previous[signum] = _signal.signal(signum, self._forward)
            except (ValueError, OSError):  # not the main thread
                pass

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            _signal.signal(signum, handler)


def start_server(path: str | None = None) -> None:
    """Start a server in the background for later runs; never waits for it."""
    import subprocess

    path = path or socket_path()
    subprocess.Popen(
        [sys.executable, "-m", "celery_lint.doors.daemon", "--serve", path],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=os.path.dirname(path),
        start_new_session=True,
        close_fds=True,
    )


def stop_servers(directory: str | None = None) -> int:
    """Ask every server in the socket directory to exit; how many were asked."""
    import socket

    directory = directory or socket_dir()
    stopped = 0
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".sock"):
            continue
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(START_TIMEOUT)
        try:
            client.connect(os.path.join(directory, name))
            client.sendall(_STOP)
            client.recv(1)
            stopped += 1
        except OSError:
            pass
        finally:
            client.close()
    return stopped


# ---------------------------------------------------------------------------
# the server


def serve(path: str, idle_seconds: float | None = None) -> int:
    """Listen on ``path`` until idle; one forked child per request. Exit status 0."""
    import fcntl
    import gc
    import select
    import socket

    idle = idle_seconds if idle_seconds is not None else _idle_from_env()
    lock = open(path[: -len(".sock")] + ".lock", "a")  # noqa: SIM115 - held for the server's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another server for the same key is starting or running
    for module in _PRELOAD:
        __import__(module)
    from ..config.stamp import code_stamp  # lazy: start-up time

    code_stamp()  # once, for every run it serves
    _warm_up()
    try:
        os.unlink(path)  # a socket left by a server that died
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    identity = os.stat(path).st_ino
    children: set[int] = set()
    # Children name the index cache files they read, and say when they are done; the
    # server then preloads those files, so the next child starts with the index in memory.
    reports, report_writer = os.pipe()
    os.set_blocking(reports, False)
    index_files: dict[str, None] = {}
    last = time.monotonic()
    try:
        while True:
            ready, _, _ = select.select([listener, reports], [], [], 1.0)
            if reports in ready:
                if _read_reports(reports, index_files):
                    _reap(children)
                    _preload(index_files)
            if listener not in ready:
                _reap(children)
                if children:
                    last = time.monotonic()
                elif time.monotonic() - last > idle:
                    return 0
                if not _still_ours(path, identity):
                    return 0
                continue
            connection, _ = listener.accept()
            last = time.monotonic()
            if not _same_user(connection):
                connection.close()
                continue
            connection.settimeout(START_TIMEOUT)
            try:
                first = connection.recv(1, socket.MSG_PEEK)
            except OSError:
                connection.close()
                continue
            if first == _STOP:
                connection.sendall(_STOP)
                connection.close()
                return 0
            gc.freeze()  # the child's collections skip everything loaded so far (and its pages stay shared)
            child = os.fork()
            if child == 0:  # pragma: no cover - runs in the forked child (tests see its effects)
                listener.close()
                os.close(reports)
                os._exit(_run_request(connection, report_writer))
            children.add(child)
            connection.close()
    finally:
        listener.close()
        if _still_ours(path, identity):
            os.unlink(path)
        lock.close()


def _warm_up() -> None:
    """Lint every rule's examples once, so the lazily filled tables (each rule's hooks,
    each node type's fields, compiled patterns) are inherited by every child instead of
    being rebuilt in each (a third of a one-file run's lint time on saleor)."""
    from ..config.settings import Settings  # lazy: start-up time
    from ..engine.core import Engine  # lazy: start-up time
    from ..rules import ALL_RULES  # lazy: start-up time

    try:
        engine = Engine(Settings(extend_select=("CLY",)))
        for rule in ALL_RULES:
            for sample in (*rule.VALID, *rule.INVALID):
                code = sample if isinstance(sample, str) else sample.code
                engine.lint_text(code, "proj/tasks.py")
    except Exception:  # noqa: BLE001 - only a warm-up: the runs work without it
        pass


def _read_reports(reports: int, index_files: dict[str, None]) -> bool:
    """Read the children's reports; True when one of them has finished."""
    data = b""
    while True:
        try:
            chunk = os.read(reports, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    finished = False
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        if line == _FINISHED:
            finished = True
        elif line:
            index_files.pop(line, None)
            index_files[line] = None  # most recent last
    while len(index_files) > 8:
        index_files.pop(next(iter(index_files)))
    return finished


def _preload(index_files: dict[str, None]) -> None:
    from ..model import index  # lazy: start-up time

    for path in list(index_files):
        try:
            index.preload(path)
        except Exception:  # noqa: BLE001 - a missing or odd file: runs read it themselves
            index_files.pop(path, None)


def _idle_from_env() -> float:
    try:
        return max(1.0, float(os.environ.get(ENV_IDLE, DEFAULT_IDLE_SECONDS)))
    except ValueError:
        return DEFAULT_IDLE_SECONDS


def _reap(children: set[int]) -> None:
    for child in list(children):
        try:
            done, _ = os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            done = child
        if done:
            children.discard(child)


def _still_ours(path: str, identity: int) -> bool:
    try:
        return os.stat(path).st_ino == identity
    except OSError:
        return False


def _same_user(connection: Any) -> bool:
    """The peer's user id, where the platform reports it (Linux); elsewhere the 0700
    directory is the guard."""
    import socket
    import struct

    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    try:
        credentials = connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return False
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return uid == os.getuid()


def _run_request(connection: Any, report_writer: int) -> int:  # pragma: no cover - forked child
    """In the forked child: become the client's command, run it, report its status, then
    write the index cache (the client does not wait for that)."""
    import signal
    import socket

    try:
        message, fds, _flags, _address = socket.recv_fds(connection, _HEADER_SIZE, 3)
        if len(message) != _HEADER_SIZE or len(fds) != 3:
            return 1
        raw = _receive(connection, int.from_bytes(message, "big"))
        if raw is None:
            return 1
        request = marshal.loads(raw)  # from a process of this user (0700 directory, peer uid)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(request["umask"])
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        _rebind_streams(request["streams"])
        connection.settimeout(None)
        connection.sendall(_STARTED + os.getpid().to_bytes(4, "big", signed=True))
    except Exception:  # noqa: BLE001 - the client falls back to running itself
        return 1
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    sys.argv = ["celery-lint", *request["argv"]]
    from ..model import index  # lazy: start-up time

    index.deferred_writes = []
    index.on_cache_file = lambda path: _report(report_writer, path)
    status = 2
    try:
        from .cli import run_in_process  # lazy: start-up time

        status = run_in_process(request["argv"])
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BaseException as exc:  # noqa: BLE001 - report it as an ordinary run would crash
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)  # the one-argument form is 3.10+
        status = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed pipe
                pass
    try:
        connection.sendall(_DONE + int(status).to_bytes(4, "big", signed=True))
    except OSError:
        pass
    connection.close()
    # Let go of the client's streams first: whoever reads them (pre-commit) waits for
    # every writer to close them, not for the client to exit.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    for write in index.deferred_writes:
        write()
    _report(report_writer, _FINISHED)
    return 0


def _report(writer: int, path: str) -> None:  # pragma: no cover - forked child
    try:
        os.write(writer, os.fsencode(path) + b"\n")  # one write, under PIPE_BUF: not interleaved
    except OSError:
        pass


def _rebind_streams(formats: list[dict[str, Any] | None]) -> None:  # pragma: no cover - forked child
    """``sys.stdin``/``stdout``/``stderr`` on the client's descriptors, in its encodings."""
    import io

    names = ("stdin", "stdout", "stderr")
    for fd, (name, spec) in enumerate(zip(names, formats)):
        if spec is None:
            setattr(sys, name, None)
            continue
        raw = io.FileIO(fd, "rb" if fd == 0 else "wb", closefd=False)
        buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        interactive = os.isatty(fd)
        stream = io.TextIOWrapper(
            buffered,  # type: ignore[arg-type]
            encoding=spec["encoding"],
            errors=spec["errors"],
            line_buffering=spec["line_buffering"] or (fd == 2) or interactive,
            write_through=fd == 2,
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "--serve":
        return serve(args[1])
    if args == ["--stop"]:
        try:
            count = stop_servers()
        except DaemonUnavailable as exc:
            sys.stderr.write(f"celery-lint: {exc}\n")
            return 2
        sys.stdout.write(f"Stopped {count} celery-lint server{'s' if count != 1 else ''}.\n")
        return 0
    sys.stderr.write("usage: python -m celery_lint.doors.daemon --stop\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
