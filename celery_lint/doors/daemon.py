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
(:func:`celery_lint.model.facts_cache.preload`), used by a child only while the file on disk has the
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
    except OSError as exc:
        raise DaemonUnavailable(f"cannot create {directory}: {exc.strerror or exc}") from None
    return _check_private(directory)


def _check_private(directory: str) -> str:
    """The socket directory and the way to it cannot be changed by another user.

    Each component of its real path is checked from the root down: owned by this user
    or root, and not writable by others unless sticky (``/tmp``: others cannot rename or
    remove what is ours). The directory itself is opened without following a link and
    checked on the open descriptor: a directory of this user that nobody else may enter.
    Raises DaemonUnavailable otherwise; returns the path checked (through the real path
    of its parent, not a link that could be swapped). Even so, the client checks who
    runs the server it connects to before sending anything (``_check_peer``)."""
    uid = os.getuid()
    real = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(directory))), os.path.basename(directory))
    parts = real.split(os.sep)
    for index in range(1, len(parts)):  # "/", "/tmp", ... up to the parent
        component = os.sep.join(parts[:index]) or os.sep
        try:
            info = os.lstat(component)
        except OSError as exc:
            raise DaemonUnavailable(f"cannot check {component}: {exc.strerror or exc}") from None
        open_to_others = info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX
        if info.st_uid not in (uid, 0) or open_to_others:
            raise DaemonUnavailable(f"{component} (on the way to {directory}) may be changed by another user")
    try:
        fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # a link (ELOOP), or not a directory
        raise DaemonUnavailable(f"{directory} is not a private directory of this user") from None
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077:
        raise DaemonUnavailable(f"{directory} is not a private directory of this user")
    return real


def _check_peer(connection: Any, path: str) -> None:
    """The server at the other end runs as this user (``SO_PEERCRED``): checked before
    anything is sent, so a server planted by someone else gets neither the environment
    (secrets included) nor the standard streams. Where the owner cannot be told, the
    server is not used."""
    import struct

    try:
        if hasattr(_socket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
            raw = connection.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i"))
            uid = struct.unpack("3i", raw)[1]
        elif hasattr(_socket, "LOCAL_PEERCRED"):  # macOS/BSD: struct xucred {version, uid, ...}, level SOL_LOCAL (0)
            raw = connection.getsockopt(0, _socket.LOCAL_PEERCRED, 76)
            uid = struct.unpack_from("=II", raw)[1]
        else:
            raise DaemonUnavailable("cannot check who runs the server on this platform")
    except (OSError, struct.error) as exc:
        raise DaemonUnavailable(f"cannot check who runs the server at {path}: {exc}") from None
    if uid != os.getuid():
        raise DaemonUnavailable(f"the server at {path} runs as user {uid}, not as this user: not used")


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
        _check_peer(client, path)
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
        [sys.executable, "-m", "celery_lint.doors.server", path],
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


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
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
