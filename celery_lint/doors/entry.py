"""The ``celery-lint`` console script, kept light: with ``--daemon`` the run is handed to
the background server (:mod:`celery_lint.doors.daemon`) before the command line module and
its imports are loaded; otherwise it is :func:`celery_lint.doors.cli.run_in_process`.
The two imports below sit in ``main`` for start-up time: the daemon's client must not pay
for the command line's imports (measured: 0.03-0.05 s of a served run).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # `typing` costs the daemon's client 5-20 ms; only type checkers need it
if TYPE_CHECKING:
    from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from . import daemon  # lazy: start-up time

    if daemon.wanted(args):
        return daemon.client_main(args)
    from .cli import run_in_process  # lazy: start-up time

    return run_in_process(args)
