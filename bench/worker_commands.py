"""List the worker command lines celery-lint finds in real trees (issue 18's evidence).

    python bench/worker_commands.py /path/to/kitsune /path/to/paperless-ngx ...

Reads every file ``model.workers.is_candidate`` accepts (shell scripts, Dockerfiles,
compose and Kubernetes YAML, Procfiles, systemd and supervisord configs, Makefiles),
outside ``.git``, ``node_modules`` and virtualenvs, and prints each ``celery worker``
command with its app, queues, excluded queues and whether its queues are literal.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from celery_lint.model.workers import find_worker_commands  # noqa: E402

SKIP = {".git", "node_modules", ".venv", "venv", "__pycache__", ".celery_lint_cache", ".tox"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", type=Path)
    args = parser.parse_args()
    for tree in args.trees:
        paths = []
        for directory, dirs, files in os.walk(tree):
            dirs[:] = sorted(d for d in dirs if d not in SKIP)
            paths.extend(os.path.join(directory, f) for f in sorted(files))
        found = find_worker_commands(paths)
        print(f"== {tree.name}: {len(found)} worker command(s) in {len(paths)} files")
        for worker in found:
            where = f"{os.path.relpath(worker.source, tree)}:{worker.line}"
            queues = "unknown (not literal)" if not worker.literal else (",".join(worker.queues) if worker.queues is not None else "(no -Q)")
            print(f"  {where}  app={worker.app}  queues={queues}  exclude={','.join(worker.exclude) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
