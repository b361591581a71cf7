"""The daemon's server: ``python -m celery_lint.doors.server SOCKET`` (started by the client,
``celery_lint.doors.daemon.start_server``). Listens until idle and forks one child per
request, which runs :func:`celery_lint.doors.cli.run_in_process` with the client's
arguments, working directory, environment and standard streams.
"""

from __future__ import annotations

import marshal
import os
import sys
import time
from typing import Any

from .daemon import _STARTED, _DONE, _STOP, _FINISHED, ENV_IDLE, DEFAULT_IDLE_SECONDS, START_TIMEOUT, _HEADER_SIZE, _receive


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
    "celery_lint.model.facts_cache",
    "celery_lint.report.formats",
    "celery_lint.report.summary",
    "difflib",
    "multiprocessing",
)



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
    environment = _environment()
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
                if not _still_ours(path, identity) or not _environment_intact(environment):
                    return 0  # replaced, or its interpreter/installation is gone (a deleted pre-commit env)
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


def _environment() -> list[tuple[str, int]]:
    """What the server runs from: its interpreter and celery-lint's package directory,
    with their inode numbers (a reinstall replaces them)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = []
    for path in (sys.executable, package):
        try:
            found.append((path, os.stat(path).st_ino))
        except OSError:
            pass
    return found


def _environment_intact(environment: list[tuple[str, int]]) -> bool:
    """Still there, and the same files? pre-commit deletes the environments of hooks it
    no longer uses; a server forked from a deleted one would serve code that is gone."""
    for path, inode in environment:
        try:
            if os.stat(path).st_ino != inode:
                return False
        except OSError:
            return False
    return True


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
    from ..model import facts_cache as index  # lazy: start-up time

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
    from ..model import facts_cache as index  # lazy: start-up time

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


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m celery_lint.doors.server SOCKET\n")
        sys.exit(2)
    sys.exit(serve(sys.argv[1]))
